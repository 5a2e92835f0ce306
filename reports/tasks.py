"""Celery tasks of the reports: thin wrappers around reports.services.

The build task is a job of the shared model: not autoretried (the job model
retries a failed run itself, three runs), acks_late so a killed worker's message
is redelivered, and a second delivery finds the row claimed and does nothing.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .services import comparison_build, comparison_nightly


@shared_task(name="reports.tasks.comparison_report_build", acks_late=True, time_limit=settings.JOB_TIME_LIMIT_SECONDS)
def comparison_report_build(report_id: int) -> dict:
    """Build one comparison snapshot (sent on commit by comparison_request, or by recovery)."""
    report = comparison_build(report_id=report_id, now=timezone.now())
    return {"report": report_id, "state": report.state if report else "skipped"}


@shared_task(name="reports.tasks.comparison_reports_nightly")
def comparison_reports_nightly() -> dict:
    """Beat, nightly: queue the everyone and per-team snapshots."""
    return {"queued": comparison_nightly(now=timezone.now())}


# The analyses' tasks (cherry-pick index, credit) live with them; importing registers them.
from .analyses.tasks import analyses_nightly_task, analysis_build_task  # noqa: E402, F401
