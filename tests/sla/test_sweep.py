"""The first-contact sweep: warnings, breach, escalation, once each, in one transaction per batch."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from leads.models import ClockOutcome, FirstContactClock, HistoryAction, LeadHistory, TouchKind, TouchOutcome
from leads.queue.services import touch_log
from sla.models import ClockEvent, EventKind, Notification, SweepRun
from sla.sweep.services import sla_sweep
from tests.factories import UserFactory
from tests.sla.helpers import HOUR, MINUTE, T0, events, lead_with_clock

pytestmark = pytest.mark.django_db

MS = datetime.timedelta(milliseconds=1)
US = datetime.timedelta(microseconds=1)
DUE = T0 + 24 * HOUR


def sweep(at, **kwargs):
    with time_machine.travel(at, tick=False):
        return sla_sweep(now=at, **kwargs)


def kinds(counts):
    return {k: v for k, v in counts.items() if v and k != "notifications"}


def test_it_warns_at_half_and_ninety_percent_and_breaches_at_the_deadline(cast):
    lead = lead_with_clock(rep=cast.rep)
    assert kinds(sweep(T0 + 12 * HOUR - US)) == {}
    assert kinds(sweep(T0 + 12 * HOUR)) == {"warnings": 1}
    assert kinds(sweep(T0 + 21 * HOUR)) == {}
    assert kinds(sweep(T0 + datetime.timedelta(hours=21.6))) == {"warnings": 1}
    assert kinds(sweep(DUE - US)) == {}
    assert kinds(sweep(DUE)) == {"breaches": 1}
    assert events(lead) == [("warning", 1), ("warning", 2), ("breach", 1)]
    clock = FirstContactClock.objects.get(lead=lead)
    assert (clock.outcome, clock.breached_at, clock.ended_at) == (ClockOutcome.BREACHED, DUE, None)
    assert (clock.next_action, clock.next_action_at) == ("escalation", DUE + 4 * HOUR)
    actions = list(LeadHistory.objects.filter(lead=lead).order_by("id").values_list("action", flat=True))
    assert actions == [HistoryAction.SLA_WARNING, HistoryAction.SLA_WARNING, HistoryAction.SLA_BREACHED]


def test_each_event_tells_its_people_once(cast):
    lead = lead_with_clock(rep=cast.rep)
    assert sweep(T0 + 12 * HOUR)["notifications"] == 1  # a warning: the rep only
    assert sweep(DUE)["notifications"] == 3  # the second warning (rep); the breach (rep and manager)
    told = Notification.objects.filter(lead=lead, kind=EventKind.BREACH).values_list("recipient__username", flat=True)
    assert sorted(told) == ["manager", "rep1"]


def test_a_breached_lead_still_untouched_is_escalated_to_the_manager_and_admins(cast):
    lead = lead_with_clock(rep=cast.rep)
    sweep(DUE)
    assert kinds(sweep(DUE + 4 * HOUR - US)) == {}
    counts = sweep(DUE + 4 * HOUR)
    assert kinds(counts) == {"escalations": 1}
    told = Notification.objects.filter(lead=lead, kind=EventKind.ESCALATION).values_list("recipient__role", flat=True)
    assert sorted(told) == sorted([Role.REP, Role.MANAGER, Role.ADMIN])
    clock = FirstContactClock.objects.get(lead=lead)
    assert (clock.escalated_at, clock.next_action, clock.next_action_at) == (DUE + 4 * HOUR, "", None)
    assert LeadHistory.objects.filter(lead=lead, action=HistoryAction.SLA_ESCALATED).count() == 1


def test_a_sweep_that_was_down_gives_each_step_once_in_order(cast):
    lead = lead_with_clock(rep=cast.rep)
    counts = sweep(DUE + 5 * HOUR)
    assert kinds(counts) == {"warnings": 2, "breaches": 1, "escalations": 1}
    assert events(lead) == [("warning", 1), ("warning", 2), ("breach", 1), ("escalation", 1)]
    due = list(ClockEvent.objects.filter(lead=lead).order_by("id").values_list("due_at", flat=True))
    assert due == [T0 + 12 * HOUR, T0 + datetime.timedelta(hours=21.6), DUE, DUE + 4 * HOUR]


def test_sweeping_twice_writes_nothing_the_second_time(cast):
    lead = lead_with_clock(rep=cast.rep)
    first = sweep(DUE)
    again = sweep(DUE)
    assert kinds(first) == {"warnings": 2, "breaches": 1} and first["notifications"] == 4
    assert again == dict.fromkeys(again, 0)
    assert ClockEvent.objects.filter(lead=lead).count() == 3
    assert Notification.objects.filter(lead=lead).count() == 4
    assert LeadHistory.objects.filter(lead=lead).count() == 3


def test_first_contact_exactly_at_the_deadline_is_met_and_never_breached(cast):
    lead = lead_with_clock(rep=cast.rep)
    with time_machine.travel(DUE, tick=False):
        touch_log(user=cast.rep, lead_id=lead.pk, kind=TouchKind.CALL, outcome=TouchOutcome.CONNECTED, now=DUE)
    assert kinds(sweep(DUE)) == {}
    assert kinds(sweep(DUE + 5 * HOUR)) == {}
    clock = FirstContactClock.objects.get(lead=lead)
    assert (clock.outcome, clock.contacted_at) == (ClockOutcome.MET, DUE)
    assert not ClockEvent.objects.filter(lead=lead).exists()


def test_a_lead_contacted_a_millisecond_before_the_sweep_gets_no_breach(cast):
    # The sweep runs late (30 s after the deadline); the rep called one millisecond before it.
    lead = lead_with_clock(rep=cast.rep, hours=1)
    swept_at = T0 + HOUR + 30 * datetime.timedelta(seconds=1)
    with time_machine.travel(swept_at - MS, tick=False):
        touch_log(
            user=cast.rep, lead_id=lead.pk, kind=TouchKind.CALL, outcome=TouchOutcome.CONNECTED, now=swept_at - MS
        )
    counts = sweep(swept_at)
    assert kinds(counts) == {} and counts["notifications"] == 0
    assert not ClockEvent.objects.filter(lead=lead).exists()
    assert not Notification.objects.filter(lead=lead).exists()
    # The late contact is still charged to the rep: the clock records the breach, nobody is told.
    clock = FirstContactClock.objects.get(lead=lead)
    assert (clock.outcome, clock.ended_at) == (ClockOutcome.BREACHED, swept_at - MS)


def test_a_clock_under_a_conversation_only_policy_keeps_running_after_a_voicemail(cast):
    lead = lead_with_clock(rep=cast.rep)
    FirstContactClock.objects.filter(lead=lead).update(stop_on="conversation")
    at = T0 + HOUR
    with time_machine.travel(at, tick=False):
        touch_log(user=cast.rep, lead_id=lead.pk, kind=TouchKind.CALL, outcome=TouchOutcome.LEFT_VOICEMAIL, now=at)
    assert kinds(sweep(DUE)) == {"warnings": 2, "breaches": 1}


def test_the_dry_run_counts_but_changes_nothing(cast):
    leads = [lead_with_clock(rep=cast.rep) for _ in range(3)]
    before = list(FirstContactClock.objects.order_by("id").values())
    counts = sweep(DUE, dry_run=True)
    assert kinds(counts) == {"warnings": 6, "breaches": 3} and counts["notifications"] == 12
    assert list(FirstContactClock.objects.order_by("id").values()) == before
    assert not ClockEvent.objects.exists() and not Notification.objects.exists()
    assert not LeadHistory.objects.filter(lead__in=leads).exists()
    assert not SweepRun.objects.exists()
    # And the real run afterwards does it all.
    assert sweep(DUE) == counts


def test_a_run_is_recorded_with_its_counts(cast):
    lead_with_clock(rep=cast.rep)
    counts = sweep(DUE)
    run = SweepRun.objects.get()
    assert (run.started_at, run.finished_at, run.dry_run, run.counts) == (DUE, DUE, False, counts)


def test_the_sweep_makes_the_same_number_of_queries_for_10_or_200_due_clocks(cast):
    UserFactory(role=Role.ADMIN)

    def count(n: int, at: datetime.datetime) -> int:
        for _ in range(n):
            lead_with_clock(rep=cast.rep, at=at - 30 * HOUR)
        with CaptureQueriesContext(connection) as ctx:
            counts = sweep(at)
        assert kinds(counts) == {"warnings": 2 * n, "breaches": n, "escalations": n}
        return len(ctx.captured_queries)

    small, large = count(10, T0), count(200, T0 + 100 * HOUR)
    assert small == large, (small, large)


def test_batches_cover_every_due_clock(cast):
    leads = [lead_with_clock(rep=cast.rep) for _ in range(7)]
    counts = sweep(DUE, batch=2)
    assert kinds(counts) == {"warnings": 14, "breaches": 7}
    assert all(events(lead) == [("warning", 1), ("warning", 2), ("breach", 1)] for lead in leads)


def test_clocks_not_yet_due_and_ended_clocks_are_left_alone(cast):
    later = lead_with_clock(rep=cast.rep, at=T0 + 2 * HOUR)
    ended = lead_with_clock(rep=cast.rep)
    FirstContactClock.objects.filter(lead=ended).update(ended_at=T0 + MINUTE, outcome=ClockOutcome.CLOSED)
    assert kinds(sweep(T0 + 13 * HOUR)) == {}
    assert events(later) == [] and events(ended) == []


def test_a_clock_whose_stored_next_action_is_stale_is_set_right_not_read_forever(cast):
    lead = lead_with_clock(rep=cast.rep)
    # Say a bad write left the index pointing at a moment with no action: the sweep recomputes it.
    FirstContactClock.objects.filter(lead=lead).update(next_action="", next_action_at=T0)
    assert kinds(sweep(T0 + HOUR)) == {}
    clock = FirstContactClock.objects.get(lead=lead)
    assert (clock.next_action, clock.next_action_at) == ("warning", T0 + 12 * HOUR)


def test_a_backlog_gets_the_tables_it_fills_analyzed_so_their_key_checks_stop_scanning_them(cast):
    """The foreign-key checks of each batch's rows keep the plans made for the tables' size at their
    last ANALYZE: a sequential scan while they were small, then once per notification as a backlog
    fills them (bench/sla.py). After the first full batch the sweep analyzes them once."""
    from tests.sla.helpers import due_leads

    tables = ("sla_clockevent", "sla_notification", "leads_leadhistory")

    def reltuples() -> dict[str, float]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)", [list(tables)])
            return dict(cursor.fetchall())

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(tables))  # as small as they are now
    assert all(n < 1000 for n in reltuples().values())
    due_leads(n=600, rep=cast.rep, team=cast.team, started_at=T0)
    counts = sweep(T0 + 25 * HOUR, batch=600)  # two warnings and the breach each: 1,200 notifications a batch
    assert kinds(counts) == {"warnings": 1200, "breaches": 600}
    after = reltuples()
    assert after["sla_clockevent"] >= 1800 and after["sla_notification"] >= 2400, after


def test_the_every_minute_sweep_analyzes_nothing(cast):
    lead_with_clock(rep=cast.rep)
    with CaptureQueriesContext(connection) as ctx:
        sweep(DUE, batch=2)
    assert not [q for q in ctx.captured_queries if q["sql"].startswith("ANALYZE")]
