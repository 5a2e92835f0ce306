"""A breach under a policy that reassigns: the next eligible rep, never one who let the lead lapse, at most N times."""

import pytest
import time_machine

from leads.models import ClockOutcome, FirstContactClock, HistoryAction, Lead, LeadHistory, Status
from leads.routing.services import leads_reassign, leads_route_waiting
from sla.models import ClockEvent, EventKind, Notification
from sla.sweep.services import sla_sweep
from tests.factories import make_rep
from tests.sla.helpers import HOUR, MINUTE, T0, assigned_by_routing, open_clock, team_policy

pytestmark = pytest.mark.django_db


def sweep(at):
    with time_machine.travel(at, tick=False):
        return sla_sweep(now=at)


def owner(lead) -> str | None:
    lead.refresh_from_db()
    return lead.owner.username if lead.owner_id else None


def test_a_breach_moves_the_lead_to_the_next_rep_with_a_fresh_clock(cast):
    team_policy(cast.team, reassign_on_breach=True, max_reassignments=2)
    lead = assigned_by_routing(rep=cast.rep, team=cast.team)
    counts = sweep(T0 + HOUR)
    assert (counts["breaches"], counts["reassigned"], counts["queued"]) == (1, 1, 0)
    assert owner(lead) == "rep2"
    assert (lead.status, lead.assigned_at, lead.sla_due_at) == (Status.ASSIGNED, T0 + HOUR, T0 + 2 * HOUR)
    old, new = FirstContactClock.objects.filter(lead=lead).order_by("id")
    assert (old.rep, old.outcome, old.ended_at, old.breached_at) == (
        cast.rep,
        ClockOutcome.BREACHED,
        T0 + HOUR,
        T0 + HOUR,
    )
    assert (new.rep, new.reassignment, new.started_at, new.due_at, new.ended_at) == (
        cast.teammate,
        1,
        T0 + HOUR,
        T0 + 2 * HOUR,
        None,
    )
    assert list(ClockEvent.objects.filter(lead=lead).order_by("id").values_list("kind", "clock_id")) == [
        (EventKind.BREACH, old.pk),
        (EventKind.REASSIGNMENT, old.pk),
    ]
    row = LeadHistory.objects.get(lead=lead, action=HistoryAction.REASSIGNED)
    assert (row.old_value, row.new_value, row.data["sla_breach"], row.data["reassignment"]) == ("rep1", "rep2", True, 1)
    told = Notification.objects.filter(lead=lead, kind=EventKind.REASSIGNMENT).values_list(
        "recipient__username", flat=True
    )
    assert sorted(told) == ["manager", "rep1"]
    # Sweeping again does nothing more: the new clock is not due yet.
    assert sweep(T0 + HOUR)["breaches"] == 0


def test_it_never_goes_back_to_a_rep_who_let_it_lapse_and_waits_in_the_queue_when_nobody_else_can_take_it(cast):
    team_policy(cast.team, reassign_on_breach=True, max_reassignments=5)
    lead = assigned_by_routing(rep=cast.rep, team=cast.team)
    sweep(T0 + HOUR)
    assert owner(lead) == "rep2"
    counts = sweep(T0 + 2 * HOUR)
    assert (counts["reassigned"], counts["queued"]) == (0, 1)  # rep1 lapsed too: nobody left
    assert owner(lead) is None
    assert (lead.status, lead.team, lead.sla_due_at) == (Status.QUEUED, cast.team, None)
    assert open_clock(lead) is None
    # Routing the waiting leads does not hand it back to either of them...
    leads_route_waiting(now=T0 + 3 * HOUR)
    assert owner(lead) is None
    # ...but to a rep who has not had it.
    make_rep(team=cast.team, username="rep4")
    leads_route_waiting(now=T0 + 4 * HOUR)
    assert owner(lead) == "rep4"
    assert open_clock(lead).rep.username == "rep4"


def test_after_the_last_reassignment_it_waits_for_the_manager_who_is_told(cast):
    team_policy(cast.team, reassign_on_breach=True, max_reassignments=1)
    lead = assigned_by_routing(rep=cast.rep, team=cast.team)
    sweep(T0 + HOUR)
    assert owner(lead) == "rep2"
    rep4 = make_rep(team=cast.team, username="rep4")
    counts = sweep(T0 + 2 * HOUR)
    assert (counts["breaches"], counts["reassigned"], counts["queued"]) == (1, 0, 1)
    assert owner(lead) is None and lead.status == Status.QUEUED and lead.sla_due_at is None
    last = ClockEvent.objects.filter(lead=lead, kind=EventKind.REASSIGNMENT).order_by("id").last()
    told = Notification.objects.filter(event=last).values_list("recipient__username", flat=True)
    assert sorted(told) == ["manager", "rep2"]
    row = LeadHistory.objects.filter(lead=lead, action=HistoryAction.REASSIGNED).order_by("id").last()
    assert row.new_value == "" and "the most the policy allows" in row.note
    # rep4 is free, yet routing leaves it for the manager.
    leads_route_waiting(now=T0 + 3 * HOUR)
    assert owner(lead) is None
    # The manager gives it to someone by hand.
    leads_reassign(
        actor=cast.manager,
        lead_ids=[lead.pk],
        to_rep_id=rep4.pk,
        reason="Taking it myself",
        expected_owners={lead.pk: None},
        now=T0 + 3 * HOUR,
    )
    assert owner(lead) == "rep4"


def test_a_lead_no_longer_with_the_rep_who_lapsed_is_not_moved(cast):
    team_policy(cast.team, reassign_on_breach=True, max_reassignments=2)
    lead = assigned_by_routing(rep=cast.rep, team=cast.team)
    Lead.objects.filter(pk=lead.pk).update(owner=cast.teammate)  # moved behind the clock's back
    counts = sweep(T0 + HOUR)
    assert (counts["breaches"], counts["reassigned"], counts["queued"]) == (1, 0, 0)
    assert owner(lead) == "rep2"


def test_without_reassignment_the_breached_clock_stays_open_for_escalation(cast):
    team_policy(cast.team, escalate_after_minutes=30)
    lead = assigned_by_routing(rep=cast.rep, team=cast.team)
    assert sweep(T0 + HOUR)["breaches"] == 1
    assert owner(lead) == "rep1"
    assert sweep(T0 + HOUR + 30 * MINUTE)["escalations"] == 1


def test_reassigning_on_breach_makes_the_same_number_of_queries_for_10_or_200_leads(cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import RepProfile

    RepProfile.objects.filter(team=cast.team).update(capacity=100_000)
    team_policy(cast.team, reassign_on_breach=True, max_reassignments=2)

    def count(n: int, at) -> int:
        for _ in range(n):
            assigned_by_routing(rep=cast.rep, team=cast.team, at=at - HOUR)
        with CaptureQueriesContext(connection) as ctx:
            counts = sweep(at)
        assert (counts["breaches"], counts["reassigned"]) == (n, n)
        return len(ctx.captured_queries)

    small, large = count(10, T0), count(200, T0 + 30 * MINUTE)
    assert small == large, (small, large)
