"""Shared set-up for the sweep's tests: leads with running clocks, and what the sweep wrote about them."""

from __future__ import annotations

import datetime

from accounts.models import FirstContactPolicy, Team, User
from leads.clock.services import clock_start
from leads.models import FirstContactClock, Lead, Status
from sla.models import ClockEvent
from tests.factories import LeadFactory, make_queue_lead

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)  # a Monday
HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)


def lead_with_clock(*, rep: User, at: datetime.datetime = T0, hours: int = 24, **kwargs) -> Lead:
    """An assigned lead whose 24-hour clock (warnings at 50% and 90%, escalation 4 h after) started at `at`."""
    return make_queue_lead(rep=rep, at=at, sla_hours=hours, **kwargs)


def team_policy(team: Team, **terms) -> FirstContactPolicy:
    values = {"window_minutes": 60, "warn_at_percent": [], "escalate_after_minutes": None, **terms}
    return FirstContactPolicy.objects.create(team=team, **values)


def assigned_by_routing(*, rep: User, team: Team, at: datetime.datetime = T0) -> Lead:
    """A promoted lead assigned to `rep` with the clock its team's policy gives (as routing starts it)."""
    lead = LeadFactory(
        status=Status.ASSIGNED, owner=rep, team=team, promoted_at=at, assigned_at=at, created_at=at - 3 * HOUR
    )
    clock = clock_start(lead_id=lead.pk, rep_id=rep.pk, team_id=team.pk, now=at)
    Lead.objects.filter(pk=lead.pk).update(sla_due_at=clock.due_at)
    lead.refresh_from_db()
    return lead


def open_clock(lead: Lead) -> FirstContactClock | None:
    return FirstContactClock.objects.filter(lead=lead, ended_at__isnull=True).first()


def events(lead: Lead) -> list[tuple[str, int]]:
    """The lead's events in the order written."""
    return list(ClockEvent.objects.filter(lead=lead).order_by("id").values_list("kind", "seq"))


def due_leads(*, n: int, rep: User, team: Team, started_at: datetime.datetime) -> list[int]:
    """`n` assigned leads whose clocks (the default policy: 24 h, warnings at 50% and 90%) started at `started_at`.

    Set-based (one insert of leads, one of clocks): the fault tests need thousands.
    """
    from leads.clock.services import clocks_start

    leads = Lead.objects.bulk_create(
        [
            Lead(
                email=f"due{i}.{started_at.timestamp():.0f}@example.com",
                first_name="Due",
                last_name=str(i),
                status=Status.ASSIGNED,
                owner=rep,
                team=team,
                created_at=started_at,
                promoted_at=started_at,
                assigned_at=started_at,
            )
            for i in range(n)
        ]
    )
    ids = [lead.pk for lead in leads]
    clocks = clocks_start(assignments=[(i, rep.pk, team.pk) for i in ids], now=started_at)
    Lead.objects.filter(pk__in=ids).update(sla_due_at=next(iter(clocks.values())).due_at)
    return ids
