"""Celery tasks of the leads app: thin wrappers that take ids and call one service."""

# --- Routing -------------------------------------------------
from celery import shared_task  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import OperationalError  # noqa: E402
from django.utils import timezone  # noqa: E402


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def route_leads(lead_ids: list[int]) -> int:
    """Route these queued leads now (safe twice: only queued, ownerless leads move)."""
    from leads.routing.services import leads_route

    return leads_route(lead_ids=lead_ids, now=timezone.now())


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def route_waiting_leads(team_ids: list[int] | None = None) -> int:
    """Beat, every minute: retry the unassigned queues (a rep came back, capacity freed up)."""
    from leads.routing.services import leads_route_waiting

    return leads_route_waiting(now=timezone.now(), team_ids=team_ids)


# --- Imports ----------------------------------------------
# No autoretry: a failed run is queued again by the job model (three runs at
# most, leadhandoff.jobs), re-running the file from the top (the upsert by key
# makes that safe); a worker that died mid-run is resumed by beat's jobs_recover.
# acks_late: a killed worker's message is redelivered, and the claim skips it if done.
@shared_task(acks_late=True, time_limit=settings.JOB_TIME_LIMIT_SECONDS)
def import_run(job_id: int) -> str:
    """Run one queued import job (safe twice: claimed by a compare-and-set from queued to running)."""
    from leads.imports.services import import_job_run

    return import_job_run(job_id=job_id)


# --- Engagement-events imports ---------------------------------------
# The same pattern as import_run: claimed by a compare-and-set under the job's lock,
# resumed by jobs_recover; a second run stores nothing twice (each event has an external id).
@shared_task(acks_late=True, time_limit=settings.JOB_TIME_LIMIT_SECONDS)
def event_import_run(job_id: int) -> str:
    """Run one queued events import (safe twice)."""
    from leads.events.services import event_import_run as run

    return run(job_id=job_id)
