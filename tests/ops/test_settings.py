"""Configuration comes from the environment and a bad value stops start-up with a clear message."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "s3cr3t-" + "q" * 60


def _django_check(settings_module: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": settings_module, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _django_check(
        "leadhandoff.settings.production", DATABASE_URL="postgres://u@db/x", REDIS_URL="redis://r:6379/0"
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_a_weak_secret_key():
    result = _django_check(
        "leadhandoff.settings.production",
        DJANGO_SECRET_KEY="short",
        DATABASE_URL="postgres://u@db/x",
        REDIS_URL="redis://r",
    )
    assert result.returncode != 0
    assert "at least 50 characters" in result.stderr


def test_production_needs_a_database_url():
    result = _django_check("leadhandoff.settings.production", DJANGO_SECRET_KEY=GOOD_SECRET, REDIS_URL="redis://r")
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_a_malformed_number_names_the_variable():
    result = _django_check("leadhandoff.settings.local", FIRST_CONTACT_SLA_HOURS="a day")
    assert result.returncode != 0
    assert "Environment variable FIRST_CONTACT_SLA_HOURS has a bad value" in result.stderr


def test_a_minimum_pool_group_below_ten_is_refused():
    result = _django_check("leadhandoff.settings.local", POOL_FIGURE_MIN_GROUP="5", DATABASE_URL="postgres://u@db/x")
    assert result.returncode != 0
    assert "POOL_FIGURE_MIN_GROUP must be at least 10" in result.stderr


def test_with_no_database_url_the_app_says_what_to_set():
    result = _django_check("leadhandoff.settings.local")
    assert result.returncode != 0
    assert "DATABASE_URL is not set: point it at PostgreSQL 15 or later" in result.stderr


def test_a_database_other_than_postgresql_is_refused():
    result = _django_check("leadhandoff.settings.local", DATABASE_URL="mysql://u@db/x")
    assert result.returncode != 0
    assert "DATABASE_URL must be a PostgreSQL URL" in result.stderr


def test_the_database_urls_conn_max_age_is_kept(monkeypatch):
    """bench.queue asks for persistent connections with ?conn_max_age=60; the default used to
    overwrite it, so every request opened a PostgreSQL connection (a backend process)."""
    from leadhandoff.settings.base import database

    monkeypatch.delenv("DATABASE_CONN_MAX_AGE", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db/x?conn_max_age=60")
    assert database()["CONN_MAX_AGE"] == 60
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db/x")
    assert database()["CONN_MAX_AGE"] == 0
    assert database(conn_max_age=30)["CONN_MAX_AGE"] == 30
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "5")
    assert database()["CONN_MAX_AGE"] == 5
