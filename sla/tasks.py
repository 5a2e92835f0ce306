"""Celery tasks of the sla app: thin wrappers that call one service."""

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone


@shared_task(name="sla.tasks.sla_sweep", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def sla_sweep(batch: int | None = None) -> dict[str, int]:
    """Beat, every minute: act on the first-contact clocks that are due (safe twice, safe on two workers)."""
    from sla.sweep.services import sla_sweep as sweep

    return sweep(now=timezone.now(), **({"batch": batch} if batch else {}))
