"""Celery tasks of the analyses: thin wrappers around reports.analyses.services (registered
through reports.tasks, which imports them)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .services import analyses_nightly, analysis_build


@shared_task(name="reports.tasks.analysis_build", acks_late=True, time_limit=settings.JOB_TIME_LIMIT_SECONDS)
def analysis_build_task(analysis_id: int) -> dict:
    """Build one analysis snapshot (sent on commit by analysis_request, or by recovery)."""
    analysis = analysis_build(analysis_id=analysis_id, now=timezone.now())
    return {"analysis": analysis_id, "state": analysis.state if analysis else "skipped"}


@shared_task(name="reports.tasks.analyses_nightly")
def analyses_nightly_task() -> dict:
    """Beat, nightly: queue the cherry-pick and credit snapshots for everyone and each team."""
    return {"queued": analyses_nightly(now=timezone.now())}
