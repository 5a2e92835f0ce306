"""Celery tasks of scoring: thin, idempotent wrappers around scoring.scoring.

Both rescoring tasks are safe to run twice and on two workers at once: the pool
rescore holds an advisory lock, incremental rescoring claims flagged leads with
SKIP LOCKED, and promotion is exactly-once by its status predicate.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from .scoring import dirty_leads_rescore, pool_rescore_tracked

logger = logging.getLogger(__name__)

# Incremental rescoring: leads per transaction, and batches per task run before it
# hands the rest to a fresh task (so one flood does not hold a worker forever).
DIRTY_BATCH_SIZE = 500
DIRTY_BATCHES_PER_RUN = 20


# Job tasks (a PoolRescore, a Preview) are not autoretried: the job model retries a
# failed run itself (three runs, leadhandoff.jobs), and beat's recovery resumes a
# run whose worker died. acks_late: a killed worker's message is redelivered; the
# claim makes a second delivery do nothing.
@shared_task(acks_late=True, time_limit=settings.JOB_TIME_LIMIT_SECONDS)
def rescore_pool(rescore_id: int | None = None) -> dict:
    """Rescore every lead with the active version and promote who qualifies.

    Enqueued on commit when a version becomes active (scoring.services) and every
    15 minutes by beat for decay (a new PoolRescore run); with an id, that run
    (sent again by the job model's retry or recovery).
    """
    outcome = pool_rescore_tracked(now=timezone.now(), rescore_id=rescore_id)
    if outcome is None:
        return {"rescore": rescore_id, "state": "skipped or failed"}
    # Leads whose rows the pool held when their event arrived were skipped by
    # incremental claims meanwhile; pick them up now rather than at the next beat.
    rescore_dirty_leads.delay()
    logger.info(
        "rescore_pool: version %s, %d scores changed, %d promoted",
        outcome.version,
        outcome.changed,
        len(outcome.promoted),
    )
    return {"version": outcome.version, "changed": outcome.changed, "promoted": len(outcome.promoted)}


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5, acks_late=True)
def rescore_dirty_leads() -> dict:
    """Rescore and promote leads flagged needs_rescore, in batches.

    Scheduled (coalesced) by scoring.receivers after an event or data change, and
    every minute by beat to catch anything a lost message left behind.
    """
    changed = promoted = 0
    for _ in range(DIRTY_BATCHES_PER_RUN):
        outcome = dirty_leads_rescore(now=timezone.now(), batch_size=DIRTY_BATCH_SIZE)
        changed += outcome.changed
        promoted += len(outcome.promoted)
        if outcome.version is None:
            break
    else:
        rescore_dirty_leads.delay()
    return {"changed": changed, "promoted": promoted}


@shared_task(acks_late=True, time_limit=settings.JOB_TIME_LIMIT_SECONDS)
def definition_preview_build(preview_id: int) -> dict:
    """Build a definition preview (scoring.preview); a second run finds it claimed and does nothing.

    Enqueued on commit by scoring.services.preview_request.
    """
    from .preview import preview_build  # the definition editor's module, kept out of this file's imports

    preview = preview_build(preview_id=preview_id, now=timezone.now())
    return {"preview": preview_id, "state": preview.state if preview else "skipped"}
