"""Writes of the analyses: asking for a snapshot, building it, the nightly snapshots.

The same pattern as the comparison (reports.services): a row of the shared job model
(leadhandoff.jobs) stores the parameters and sends the task on commit; the build claims
the row under its advisory lock (a second delivery does nothing), computes the figures
in set-based SQL (reports.analyses.cherry_pick, .credit) and stores them.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, Team, User
from leadhandoff.api import ApplicationError
from leadhandoff.jobs import job_claim, job_fail, job_failure, job_finish, job_lock, job_progress, job_send
from reports.models import Analysis
from reports.selectors import teams_for_user

from .cherry_pick import cherry_pick_compute
from .credit import credit_compute
from .cycle import cycle_compute

COMPUTE = {
    Analysis.Kind.CHERRY_PICK: cherry_pick_compute,
    Analysis.Kind.CREDIT: credit_compute,
    Analysis.Kind.CYCLE: cycle_compute,
}
# The nightly snapshots and the default period look back this many days.
DEFAULT_DAYS = 90
MAX_DAYS = 731


def default_period(*, now: datetime.datetime) -> tuple[datetime.date, datetime.date]:
    until = now.astimezone(datetime.UTC).date()
    return until - datetime.timedelta(days=DEFAULT_DAYS - 1), until


def _check(*, kind: str, since: datetime.date, until: datetime.date, team_id: int | None, actor: User | None) -> None:
    if kind not in COMPUTE:
        raise ApplicationError("No such analysis.", fields={"kind": ["No such analysis."]})
    if since > until:
        raise ApplicationError("The period ends before it starts.", fields={"until": ["Before the start."]})
    if (until - since).days >= MAX_DAYS:
        raise ApplicationError(f"A period is at most {MAX_DAYS} days.", fields={"since": [f"At most {MAX_DAYS} days."]})
    if team_id is not None and not Team.objects.filter(pk=team_id).exists():
        raise ApplicationError("No such team.", fields={"team": ["No such team."]})
    if actor is None or actor.is_superuser or actor.role in (Role.MARKETING, Role.ADMIN):
        return
    allowed = set(teams_for_user(user=actor).values_list("pk", flat=True))
    if team_id is None or team_id not in allowed:
        raise ApplicationError("Choose one of your teams.", fields={"team": ["Choose one of your teams."]})


def analysis_request(
    *,
    kind: str,
    since: datetime.date,
    until: datetime.date,
    team_id: int | None,
    actor: User | None,
    nightly: bool = False,
) -> Analysis:
    """Ask for a snapshot; the work runs in Celery. The same one queued or running is reused."""
    _check(kind=kind, since=since, until=until, team_id=team_id, actor=actor)
    params = {"since": since.isoformat(), "until": until.isoformat(), "team_id": team_id}
    pending = Analysis.objects.filter(
        kind=kind, params=params, state__in=[Analysis.State.QUEUED, Analysis.State.RUNNING]
    ).first()
    if pending is not None:
        return pending
    analysis = Analysis.objects.create(
        kind=kind,
        params=params,
        period_start=since,
        period_end=until,
        team_id=team_id,
        requested_by=actor,
        nightly=nightly,
    )
    transaction.on_commit(lambda: job_send(Analysis, analysis.pk))
    return analysis


def analysis_build(*, analysis_id: int, now: datetime.datetime) -> Analysis | None:
    """Build a queued snapshot; None when someone else has it (or had it)."""
    with job_lock(Analysis, analysis_id) as got:
        if not got or not job_claim(Analysis, analysis_id, now=now):
            return None
        analysis = Analysis.objects.get(pk=analysis_id)
        try:
            job_progress(Analysis, analysis_id, percent=5)
            started = timezone.now()
            data = COMPUTE[analysis.kind](
                since=analysis.period_start, until=analysis.period_end, team_id=analysis.team_id, now=now
            )
            data["build_seconds"] = round((timezone.now() - started).total_seconds(), 3)
        except Exception as exc:  # a failed build says so on the page rather than spinning forever
            logging.getLogger(__name__).exception("Analysis %s failed", analysis_id)
            error, retry = job_failure(exc, message=f"{type(exc).__name__}: {exc}")
            job_fail(Analysis, analysis_id, error=error, retry=retry)
        else:
            job_finish(Analysis, analysis_id, data=data)
    analysis.refresh_from_db()
    return analysis


def analyses_nightly(*, now: datetime.datetime) -> list[int]:
    """Beat, nightly: every kind for everyone and for each team, over the last DEFAULT_DAYS days."""
    since, until = default_period(now=now)
    ids = []
    with transaction.atomic():
        for kind in COMPUTE:
            for team_id in [None, *Team.objects.values_list("pk", flat=True)]:
                analysis = analysis_request(
                    kind=kind, since=since, until=until, team_id=team_id, actor=None, nightly=True
                )
                ids.append(analysis.pk)
    return ids
