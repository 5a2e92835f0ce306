import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_whole_openapi_schema_builds_valid_and_without_warnings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "s.yml")],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "leadhandoff.settings.test"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "/api/v1/leads/" in (tmp_path / "s.yml").read_text()
