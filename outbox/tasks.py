"""Celery tasks of the outbox: thin wrappers around outbox.services."""

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

BATCH = 100


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def deliver() -> int:
    """After a commit that enqueued messages, and every minute from beat: send what is due.

    Safe on several workers at once (each message is claimed with SKIP LOCKED).
    A full batch means more may be waiting: queue another run rather than hold this worker.
    """
    from outbox.services import outbox_deliver

    sent = outbox_deliver(now=timezone.now(), batch=BATCH)
    if sent >= BATCH:
        deliver.delay()
    return sent
