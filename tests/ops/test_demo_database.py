"""The demo's embedded database (SQLite, `make run`) migrates, seeds and serves the pool.

The suite runs on PostgreSQL; this runs the SQLite path in a subprocess, so a
migration or query PostgreSQL accepts and SQLite does not (an index SQLite
cannot build, say) fails here rather than in a user's first `make run`.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import django
django.setup()
from django.utils import timezone
from leads.pool.filters import PoolFilter
from leads.models import Lead, LeadScore
pool = Lead.objects.filter(status="nurture")
found = PoolFilter({"q": "a", "sort": "-activity"}, queryset=pool, now=timezone.now()).qs
scored = LeadScore.objects.select_related("legend").first()
print(pool.count(), found.count(), LeadScore.objects.count(), scored.explanation()["version"] == scored.version)
"""


def test_the_demo_database_migrates_seeds_and_searches(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leadhandoff.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
    }

    def run(*args: str) -> str:
        result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    run("manage.py", "migrate", "--no-input", "-v", "0")
    run("manage.py", "seed_demo", "--leads", "300")
    pool, found, scores, explained = run("-c", CHECK).split()

    assert int(pool) > 0 and 0 < int(found) <= int(pool)
    assert int(scores) > 0 and explained == "True"
