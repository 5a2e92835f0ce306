"""Writes of the reports: asking for a comparison, building it, the nightly snapshots.

A comparison is a job of the shared model (leadhandoff.jobs): `comparison_request`
stores the parameters and sends the task on commit; `comparison_build` claims the
row under its advisory lock (a second delivery does nothing), computes the figures
(reports.selectors.comparison_compute: set-based SQL) and stores them with the
parameters, so a page reads the snapshot, never the live history.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, Team, User
from leadhandoff.api import ApplicationError
from leadhandoff.jobs import job_claim, job_fail, job_failure, job_finish, job_lock, job_progress, job_send

from .models import ComparisonReport
from .selectors import ComparisonParams, comparison_compute, teams_for_user

logger = logging.getLogger(__name__)

# The nightly snapshots look back a year, closed-date mode, grouped by origin.
NIGHTLY_DAYS = 365


def _scope_check(*, params: ComparisonParams, actor: User | None) -> None:
    """A manager builds for their teams, a rep for their own team; marketing and admins for anyone."""
    if params.team_id is not None and not Team.objects.filter(pk=params.team_id).exists():
        raise ApplicationError("No such team.", fields={"team": ["No such team."]})
    if params.rep_id is not None and not User.objects.filter(pk=params.rep_id, role=Role.REP).exists():
        raise ApplicationError("No such rep.", fields={"rep": ["No such rep."]})
    if actor is None or actor.is_superuser or actor.role in (Role.MARKETING, Role.ADMIN):
        return
    allowed = set(teams_for_user(user=actor).values_list("pk", flat=True))
    if params.team_id is None or params.team_id not in allowed:
        raise ApplicationError("Choose one of your teams.", fields={"team": ["Choose one of your teams."]})


def comparison_request(
    *, params: ComparisonParams, actor: User | None, now: datetime.datetime, nightly: bool = False
) -> ComparisonReport:
    """Ask for a comparison with these parameters; the work runs in Celery.

    The same parameters already queued or running are reused (double clicks, an
    impatient API client), so they do not pile up jobs.
    """
    _scope_check(params=params, actor=actor)
    stored = params.as_json()
    pending = ComparisonReport.objects.filter(
        params=stored, state__in=[ComparisonReport.State.QUEUED, ComparisonReport.State.RUNNING]
    ).first()
    if pending is not None:
        return pending
    report = ComparisonReport.objects.create(
        params=stored,
        period_start=params.since,
        period_end=params.until,
        team_id=params.team_id,
        requested_by=actor,
        nightly=nightly,
    )
    transaction.on_commit(lambda: job_send(ComparisonReport, report.pk))
    return report


def comparison_build(*, report_id: int, now: datetime.datetime) -> ComparisonReport | None:
    """Build a queued comparison; None when someone else has it (or had it)."""
    with job_lock(ComparisonReport, report_id) as got:
        if not got or not job_claim(ComparisonReport, report_id, now=now):
            return None
        report = ComparisonReport.objects.get(pk=report_id)
        try:
            params = ComparisonParams.from_json(report.params)
            job_progress(ComparisonReport, report_id, percent=5)
            started = timezone.now()
            data = comparison_compute(
                params=params,
                now=now,
                on_progress=lambda percent: job_progress(ComparisonReport, report_id, percent=percent),
            )
            data["build_seconds"] = round((timezone.now() - started).total_seconds(), 3)
        except Exception as exc:  # a failed build says so on the page rather than spinning forever
            logger.exception("Comparison report %s failed", report_id)
            error, retry = job_failure(exc, message=f"{type(exc).__name__}: {exc}")
            job_fail(ComparisonReport, report_id, error=error, retry=retry)
        else:
            job_finish(ComparisonReport, report_id, data=data)
    report.refresh_from_db()
    return report


def comparison_nightly(*, now: datetime.datetime) -> list[int]:
    """Beat, nightly: a snapshot for everyone and one per team, over the last NIGHTLY_DAYS days."""
    until = now.astimezone(datetime.UTC).date()
    since = until - datetime.timedelta(days=NIGHTLY_DAYS - 1)
    ids = []
    with transaction.atomic():
        for team_id in [None, *Team.objects.values_list("pk", flat=True)]:
            params = ComparisonParams(since=since, until=until, team_id=team_id)
            ids.append(comparison_request(params=params, actor=None, now=now, nightly=True).pk)
    return ids
