import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_collectstatic_with_the_production_manifest_storage_succeeds(tmp_path):
    """The Docker image and `make run` both collect static files; a dangling reference breaks them."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leadhandoff.settings.local",
        "DATABASE_URL": "postgres://unused@127.0.0.1:1/unused",  # collectstatic opens no connection
    }
    script = (
        "import django, sys; from django.conf import settings; "
        f"settings.STATIC_ROOT = {str(tmp_path / 'static')!r}; django.setup(); "
        "from django.core.management import call_command; call_command('collectstatic', '--no-input', verbosity=0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    collected = {p.name for p in (tmp_path / "static").rglob("*")}
    assert {"bootstrap.min.css", "htmx.min.js", "chart.umd.min.js", "staticfiles.json"} <= collected
