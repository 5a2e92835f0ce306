"""Celery tasks of the notifications: thin wrappers around sla.notifications.services.

Listed in CELERY_IMPORTS (settings.base): autodiscovery only reads `<app>/tasks.py`.
"""

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def send_digests() -> int:
    """Beat, hourly: the daily digest of every user now in their 08:00 hour (idempotent per local day)."""
    from sla.notifications.services import digests_send

    return digests_send(now=timezone.now())
