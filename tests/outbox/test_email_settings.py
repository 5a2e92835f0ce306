"""Email configuration: console in the demo, SMTP from the environment in production;
and every beat entry of the outbox and the digest names a task a worker knows."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "s3cr3t-" + "q" * 60
PRINT = (
    "from django.conf import settings as s; "
    "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS, s.DJANGO_SITE_URL, s.DEFAULT_FROM_EMAIL)"
)


def _settings(module: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "EMAIL_", "DEFAULT_FROM"))}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {PRINT}"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": module, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    # The last line is ours (django-axes logs a line to stdout at set-up).
    result.stdout = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    return result


PRODUCTION = {"DJANGO_SECRET_KEY": GOOD_SECRET, "DATABASE_URL": "postgres://u@db/x", "REDIS_URL": "redis://r:6379/0"}


def test_the_demo_prints_emails_on_the_console():
    result = _settings("leadhandoff.settings.local", DATABASE_URL="postgres://u@db/x")
    assert result.stdout.split()[0] == "django.core.mail.backends.console.EmailBackend", result.stderr


def test_production_sends_by_smtp_from_email_url():
    result = _settings(
        "leadhandoff.settings.production",
        **PRODUCTION,
        EMAIL_URL="smtp+tls://mailer:pw@smtp.example.com:2525",
        DJANGO_SITE_URL="https://leads.example.com/",
        DEFAULT_FROM_EMAIL="Leads <leads@example.com>",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.com",
        "2525",
        "True",
        "https://leads.example.com",  # no trailing slash: links append the path
        "Leads",
        "<leads@example.com>",
    ]


def test_production_sends_by_smtp_from_email_host_and_friends():
    result = _settings("leadhandoff.settings.production", **PRODUCTION, EMAIL_HOST="mail.internal", EMAIL_PORT="25")
    assert result.stdout.split()[:4] == ["django.core.mail.backends.smtp.EmailBackend", "mail.internal", "25", "True"]


def test_a_bad_email_port_names_the_variable():
    result = _settings("leadhandoff.settings.production", **PRODUCTION, EMAIL_PORT="twenty-five")
    assert result.returncode != 0
    assert "Environment variable EMAIL_PORT has a bad value" in result.stderr


def test_the_beat_entries_name_tasks_the_worker_registers():
    from leadhandoff.celery import app

    app.loader.import_default_modules()
    for entry in ("deliver-outbox", "send-notification-digests"):
        assert settings.CELERY_BEAT_SCHEDULE[entry]["task"] in app.tasks, entry
