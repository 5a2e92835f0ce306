"""First-contact clocks: started with the assignment, stopped by the touch the policy counts,
ended by closing or reassigning; time left in the policy's terms; compliance; free to cold-call."""

import datetime
import random

import pytest
import time_machine

from accounts.models import FirstContactPolicy, RepProfile, Role
from leads.clock.selectors import (
    ClockState,
    clock_statuses,
    compliance,
    free_to_cold_call,
    free_to_cold_call_many,
    lead_sla_timeline,
)
from leads.models import ClockOutcome, FirstContactClock, Lead, Origin, Status, TouchKind, TouchOutcome
from leads.queue.services import lead_reject, lead_stage_change, rep_sourced_create, touch_log
from leads.routing.services import leads_reassign, leads_route
from tests.factories import AssignmentRuleFactory, LeadFactory, UserFactory, make_clock, make_queue_lead

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
HOUR = datetime.timedelta(hours=1)
# Friday 27 November 2026, 14:00 UTC = 09:00 in New York.
FRIDAY = datetime.datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def _route_one(cast, *, now, **lead):
    AssignmentRuleFactory(team=cast.team, name="All to East")
    RepProfile.objects.exclude(user=cast.rep).filter(team=cast.team).update(paused=True)
    queued = LeadFactory(status=Status.QUEUED, promoted_at=now, promoted_version=1, **lead)
    assert leads_route(lead_ids=[queued.id], now=now) == 1
    return Lead.objects.get(id=queued.id)


def test_routing_starts_a_clock_whose_deadline_is_on_the_lead(cast):
    lead = _route_one(cast, now=FRIDAY)
    clock = FirstContactClock.objects.get(lead=lead)
    assert (clock.rep, clock.team, clock.started_at) == (cast.rep, cast.team, FRIDAY)
    assert clock.due_at == lead.sla_due_at == FRIDAY + 24 * HOUR
    # The default policy warns at 50% and 90% of the window.
    assert clock.warn_at == [FRIDAY + 12 * HOUR, FRIDAY + datetime.timedelta(hours=21.6)]
    assert (clock.next_action, clock.next_action_at) == ("warning", FRIDAY + 12 * HOUR)


def test_a_business_time_policy_counts_the_reps_working_hours_in_their_time_zone(cast):
    FirstContactPolicy.objects.create(
        team=cast.team, window_minutes=8 * 60, calendar=FirstContactPolicy.Calendar.BUSINESS, country="US"
    )
    cast.rep.timezone = "America/New_York"
    cast.rep.save()
    # Friday 15:00 in New York, 9 to 5: two hours on Friday, six on Monday 30 November.
    lead = _route_one(cast, now=FRIDAY + 6 * HOUR)
    assert lead.sla_due_at == datetime.datetime(2026, 11, 30, 20, 0, tzinfo=UTC)  # Monday 15:00 EST


def test_a_clock_keeps_its_holiday_calendar_when_its_policy_is_removed(cast):
    policy = FirstContactPolicy.objects.create(
        team=cast.team, window_minutes=24 * 60, calendar=FirstContactPolicy.Calendar.BUSINESS, country="US"
    )
    cast.rep.timezone = "America/New_York"
    cast.rep.save()
    # Wednesday 25 November 2026, 09:00 in New York; Thursday is Thanksgiving.
    wednesday = FRIDAY - 2 * 24 * HOUR
    lead = _route_one(cast, now=wednesday)
    policy.delete()
    touch_log(user=cast.rep, lead_id=lead.pk, kind=TouchKind.CALL, outcome=TouchOutcome.CONNECTED, now=FRIDAY)
    clock = FirstContactClock.objects.get(lead=lead)
    # Wednesday's eight working hours; the holiday still does not count.
    assert clock.business_seconds_to_contact == 8 * 3600
    assert clock.seconds_to_contact == 48 * 3600


def test_a_policy_change_applies_to_clocks_started_after_it(cast):
    first = _route_one(cast, now=FRIDAY)
    FirstContactPolicy.objects.create(team=cast.team, window_minutes=60)
    second_id = LeadFactory(status=Status.QUEUED, promoted_at=FRIDAY, promoted_version=1).id
    leads_route(lead_ids=[second_id], now=FRIDAY)
    assert FirstContactClock.objects.get(lead=first).due_at == FRIDAY + 24 * HOUR
    assert FirstContactClock.objects.get(lead_id=second_id).due_at == FRIDAY + HOUR


@pytest.mark.parametrize(("minutes", "outcome"), [(24 * 60 - 1, "met"), (24 * 60, "met"), (24 * 60 + 1, "breached")])
def test_first_contact_at_the_deadline_is_met_and_a_minute_later_is_not(cast, minutes, outcome):
    lead = make_queue_lead(rep=cast.rep, at=FRIDAY)
    at = FRIDAY + datetime.timedelta(minutes=minutes)
    touch_log(user=cast.rep, lead_id=lead.pk, kind=TouchKind.CALL, outcome=TouchOutcome.CONNECTED, now=at)
    clock = FirstContactClock.objects.get(lead=lead)
    assert (clock.outcome, clock.contacted_at, clock.ended_at) == (outcome, at, at)
    assert clock.seconds_to_contact == minutes * 60
    assert (clock.next_action, clock.next_action_at) == ("", None)


def test_a_voicemail_under_a_conversation_only_policy_keeps_the_clock_running(cast):
    lead = make_queue_lead(rep=cast.rep, at=FRIDAY)
    FirstContactClock.objects.filter(lead=lead).update(stop_on=FirstContactPolicy.StopOn.CONVERSATION)
    voicemail = FRIDAY + HOUR
    touch_log(user=cast.rep, lead_id=lead.pk, kind=TouchKind.CALL, outcome=TouchOutcome.LEFT_VOICEMAIL, now=voicemail)
    lead.refresh_from_db()
    clock = FirstContactClock.objects.get(lead=lead)
    # First contact is the first attempt; the clock waits for a conversation.
    assert lead.first_contact_at == voicemail and lead.status == Status.CONTACTED
    assert clock.ended_at is None and lead.sla_due_at == clock.due_at
    replied = FRIDAY + 2 * HOUR
    touch_log(user=cast.rep, lead_id=lead.pk, kind=TouchKind.EMAIL, outcome=TouchOutcome.REPLIED, now=replied)
    clock.refresh_from_db()
    lead.refresh_from_db()
    assert (clock.outcome, clock.contacted_at) == (ClockOutcome.MET, replied)
    assert lead.first_contact_at == voicemail and lead.sla_due_at is None


def test_a_note_does_not_stop_the_clock(cast):
    lead = make_queue_lead(rep=cast.rep, at=FRIDAY)
    touch_log(user=cast.rep, lead_id=lead.pk, kind=TouchKind.NOTE, now=FRIDAY + HOUR)
    assert FirstContactClock.objects.get(lead=lead).ended_at is None


def test_reassignment_ends_one_clock_and_starts_another_so_lateness_stays_with_the_first_rep(cast):
    lead = make_queue_lead(rep=cast.rep, at=FRIDAY)
    later = FRIDAY + 30 * HOUR  # past the first rep's deadline
    leads_reassign(
        actor=cast.manager,
        lead_ids=[lead.id],
        to_rep_id=cast.teammate.id,
        reason="Cover",
        expected_owners={lead.id: cast.rep.id},
        now=later,
    )
    old, new = FirstContactClock.objects.filter(lead=lead).order_by("started_at")
    assert (old.rep, old.outcome, old.ended_at) == (cast.rep, ClockOutcome.BREACHED, later)
    assert (new.rep, new.started_at, new.ended_at) == (cast.teammate, later, None)
    lead.refresh_from_db()
    assert lead.sla_due_at == new.due_at


def test_reassignment_before_the_deadline_is_not_charged_to_anyone(cast):
    lead = make_queue_lead(rep=cast.rep, at=FRIDAY)
    leads_reassign(
        actor=cast.manager,
        lead_ids=[lead.id],
        to_rep_id=cast.teammate.id,
        reason="Cover",
        expected_owners={lead.id: cast.rep.id},
        now=FRIDAY + HOUR,
    )
    old = FirstContactClock.objects.filter(lead=lead, rep=cast.rep).get()
    assert old.outcome == ClockOutcome.REASSIGNED


def test_closing_or_rejecting_ends_the_clock(cast):
    lost = make_queue_lead(rep=cast.rep, at=FRIDAY)
    lead_stage_change(user=cast.rep, lead_id=lost.pk, to_status=Status.LOST, reason="No budget", now=FRIDAY + HOUR)
    assert FirstContactClock.objects.get(lead=lost).outcome == ClockOutcome.CLOSED
    rejected = make_queue_lead(rep=cast.rep, at=FRIDAY)
    lead_reject(user=cast.rep, lead_id=rejected.pk, reason="not_a_fit", now=FRIDAY + 25 * HOUR)
    # Rejected after the deadline without contact: the deadline was still missed.
    assert FirstContactClock.objects.get(lead=rejected).outcome == ClockOutcome.BREACHED


def test_rep_sourced_prospects_get_no_clock(cast):
    lead = rep_sourced_create(user=cast.rep, email="new@prospect.example", channel="cold_call", now=FRIDAY)
    assert not FirstContactClock.objects.filter(lead=lead).exists()


# --- Time left, in words and in the policy's terms -------------------------------------------


def test_time_left_reads_in_working_time_under_a_business_policy(cast):
    lead = make_queue_lead(rep=cast.rep, at=FRIDAY)
    profile = cast.rep.rep_profile
    profile.working_hours = [{"day": d, "start": "09:00", "end": "17:00"} for d in range(5)]
    profile.save()
    clock = FirstContactClock.objects.get(lead=lead)
    # Due Monday 30 November 11:00 UTC in business time.
    FirstContactClock.objects.filter(id=clock.id).update(
        business_time=True, due_at=datetime.datetime(2026, 11, 30, 11, 0, tzinfo=UTC), warn_at=[]
    )
    now = FRIDAY + HOUR  # Friday 15:00 UTC: 2 h left on Friday, 2 h on Monday
    status = clock_statuses(lead_ids=[lead.pk], now=now, tz=UTC)[lead.pk]
    assert status.state == ClockState.RUNNING
    assert status.words == "4 h of working time left"
    assert status.due_words == "due Monday 11:00"


def test_a_long_overdue_lead_says_days_not_hours(cast):
    lead = make_queue_lead(rep=cast.rep, at=FRIDAY - 150 * 24 * HOUR)
    status = clock_statuses(lead_ids=[lead.pk], now=FRIDAY, tz=UTC)[lead.pk]
    assert status.state == ClockState.BREACHED
    assert status.words == "4 months overdue"
    assert "3583" not in status.words


def test_past_a_warning_the_state_is_warning(cast):
    lead = make_queue_lead(rep=cast.rep, at=FRIDAY)
    status = clock_statuses(lead_ids=[lead.pk], now=FRIDAY + 13 * HOUR, tz=UTC)[lead.pk]
    assert (status.state, status.words) == (ClockState.WARNING, "11 h left")


def test_the_timeline_tells_the_clock_in_order(cast):
    lead = make_queue_lead(rep=cast.rep, at=FRIDAY)
    FirstContactClock.objects.filter(lead=lead).update(warnings_sent=1)
    touch_log(
        user=cast.rep, lead_id=lead.pk, kind=TouchKind.CALL, outcome=TouchOutcome.CONNECTED, now=FRIDAY + 13 * HOUR
    )
    sentences = [e.sentence for e in lead_sla_timeline(lead=lead, now=FRIDAY + 14 * HOUR)]
    assert sentences == [
        f"Assigned to {cast.rep}: first contact within 1 day (hours).",
        "Warning 1: 12 h to the deadline.",
        f"First contact by {cast.rep} after 13 h, on time.",
    ]


# --- Compliance and free to cold-call ----------------------------------------------------------


def _clock(cast, rep, *, due, outcome="", ended=None):
    lead = LeadFactory(status=Status.ASSIGNED, owner=rep, team=cast.team, origin=Origin.MARKETING)
    clock = make_clock(lead=lead, started_at=due - 24 * HOUR, due_at=due)
    FirstContactClock.objects.filter(id=clock.id).update(outcome=outcome, ended_at=ended)
    return clock


def test_compliance_counts_met_among_the_clocks_that_came_due(cast):
    now = FRIDAY
    _clock(cast, cast.rep, due=now - HOUR, outcome=ClockOutcome.MET, ended=now - 2 * HOUR)
    _clock(cast, cast.rep, due=now - HOUR, outcome=ClockOutcome.MET, ended=now - 2 * HOUR)
    _clock(cast, cast.rep, due=now - HOUR, outcome=ClockOutcome.BREACHED)
    _clock(cast, cast.rep, due=now - 2 * HOUR)  # past due, the sweep has not marked it yet
    _clock(cast, cast.rep, due=now - HOUR, outcome=ClockOutcome.REASSIGNED, ended=now - 3 * HOUR)  # never came due
    _clock(cast, cast.rep, due=now + HOUR)  # not due yet
    figure = compliance(clocks=FirstContactClock.objects.filter(rep=cast.rep), now=now)
    assert (figure.met, figure.came_due, figure.percent) == (2, 4, 50)


def test_free_to_cold_call_counts_as_the_compliance_function_does(cast):
    """Free to cold-call counts clocks in hand-written SQL (MET_SQL, CAME_DUE_SQL); every mix of
    outcome, deadline and end gives the figures of `compliance` and the overdue clocks of the ORM."""
    rng = random.Random(4)
    outcomes = ["", *ClockOutcome.values]
    for rep in (cast.rep, cast.teammate):
        for _ in range(40):
            due = FRIDAY + rng.choice([-45, -29, -3, -1, 0, 1, 5]) * 24 * HOUR + rng.choice([-HOUR, 0 * HOUR, HOUR])
            outcome = rng.choice(outcomes)
            ended = due + rng.choice([-2, 3]) * HOUR if outcome or rng.random() < 0.2 else None
            _clock(cast, rep, due=due, outcome=outcome, ended=ended)
    statuses = free_to_cold_call_many(rep_teams={cast.rep.pk: cast.team.pk, cast.teammate.pk: cast.team.pk}, now=FRIDAY)
    for rep in (cast.rep, cast.teammate):
        in_period = FirstContactClock.objects.filter(rep=rep, due_at__gte=FRIDAY - 30 * 24 * HOUR, due_at__lt=FRIDAY)
        expected = compliance(clocks=in_period, now=FRIDAY)
        overdue = FirstContactClock.objects.filter(rep=rep, ended_at__isnull=True, due_at__lte=FRIDAY).count()
        status = statuses[rep.pk]
        assert (status.compliance.met, status.compliance.came_due) == (expected.met, expected.came_due)
        assert expected.came_due > 0
        assert len(status.open_breaches) == overdue


def test_one_reps_status_reads_the_policy_as_the_many_reps_path_does(cast):
    """free_to_cold_call picks the policy and counts in one statement of its own; for the team's
    own policy, the default one, settings' (no policy saved) and a rep with no team, it says what
    free_to_cold_call_many says, reasons and all."""
    rng = random.Random(11)
    for rep in (cast.rep, cast.other_rep):
        for _ in range(30):
            due = FRIDAY + rng.choice([-50, -35, -20, -3, -1, 1]) * 24 * HOUR + rng.choice([-HOUR, HOUR])
            outcome = rng.choice(["", ClockOutcome.MET, ClockOutcome.MET, ClockOutcome.BREACHED])
            _clock(cast, rep, due=due, outcome=outcome, ended=due + HOUR if outcome else None)
    teamless = UserFactory(username="teamless", role=Role.REP)  # no profile, so no team
    _clock(cast, teamless, due=FRIDAY - 2 * 24 * HOUR, outcome=ClockOutcome.MET, ended=FRIDAY - 49 * HOUR)

    def both_paths():
        for rep in (cast.rep, cast.other_rep, teamless):
            rep = type(rep).objects.select_related("rep_profile").get(pk=rep.pk)
            team_id = getattr(getattr(rep, "rep_profile", None), "team_id", None)
            many = free_to_cold_call_many(rep_teams={rep.pk: team_id}, now=FRIDAY)[rep.pk]
            assert free_to_cold_call(rep=rep, now=FRIDAY) == many, rep
            yield many

    settings_only = list(both_paths())
    FirstContactPolicy.objects.create(team=None, free_days=40, free_min_compliance=55)
    with_default = list(both_paths())
    FirstContactPolicy.objects.create(team=cast.team, free_days=10, free_min_compliance=99)
    with_team_policy = list(both_paths())
    # The three situations are told apart: the periods and thresholds of each policy were used.
    assert [(s.days, s.min_percent) for s in settings_only] == [(30, 90)] * 3
    assert [(s.days, s.min_percent) for s in with_default] == [(40, 55)] * 3
    assert [(s.days, s.min_percent) for s in with_team_policy] == [(10, 99), (40, 55), (40, 55)]
    assert settings_only[0].compliance != with_default[0].compliance != with_team_policy[0].compliance


def test_a_rep_with_an_overdue_lead_is_not_free_and_is_told_which(cast):
    clock = _clock(cast, cast.rep, due=FRIDAY - HOUR, outcome=ClockOutcome.BREACHED)
    status = free_to_cold_call(rep=cast.rep, now=FRIDAY)
    assert not status.free
    assert str(clock.lead) in status.reasons[0] and "1 lead past the first-contact deadline" in status.reasons[0]


def test_low_compliance_over_the_policy_period_is_not_free_and_says_the_figure(cast):
    for _ in range(8):
        _clock(cast, cast.rep, due=FRIDAY - 24 * HOUR, outcome=ClockOutcome.MET, ended=FRIDAY - 30 * HOUR)
    for _ in range(2):
        _clock(cast, cast.rep, due=FRIDAY - 24 * HOUR, outcome=ClockOutcome.BREACHED, ended=FRIDAY - 20 * HOUR)
    # Older than the policy's 30 days: not counted.
    _clock(cast, cast.rep, due=FRIDAY - 40 * 24 * HOUR, outcome=ClockOutcome.BREACHED, ended=FRIDAY - 39 * 24 * HOUR)
    status = free_to_cold_call(rep=cast.rep, now=FRIDAY)
    assert not status.free
    assert status.reasons == [
        "First contact on time for 8 of 10 leads (80%) in the last 30 days; the policy asks for 90%."
    ]
    FirstContactPolicy.objects.create(team=cast.team, free_min_compliance=80)
    assert free_to_cold_call(rep=cast.rep, now=FRIDAY).free


def test_a_rep_with_no_deadline_yet_is_free(cast):
    assert free_to_cold_call(rep=cast.rep, now=FRIDAY).free


def test_a_prospect_added_while_not_free_is_recorded_and_flagged(cast):
    _clock(cast, cast.rep, due=FRIDAY - HOUR, outcome=ClockOutcome.BREACHED)
    lead = rep_sourced_create(user=cast.rep, email="cold@prospect.example", channel="cold_call", now=FRIDAY)
    assert lead.created_while_not_free
    free_rep_lead = rep_sourced_create(
        user=cast.teammate, email="warm@prospect.example", channel="referral", now=FRIDAY
    )
    assert not free_rep_lead.created_while_not_free


def test_the_prospect_form_warns_but_does_not_refuse(cast, client):
    _clock(cast, cast.rep, due=FRIDAY - HOUR, outcome=ClockOutcome.BREACHED)
    client.force_login(cast.rep)
    with time_machine.travel(FRIDAY, tick=False):
        page = client.get("/leads/prospects/new/").content.decode()
        assert 'data-free="no"' in page and "Not free to cold-call yet." in page
        response = client.post(
            "/leads/prospects/new/", {"email": "cold@prospect.example", "channel": "cold_call"}, follow=True
        )
    assert response.status_code == 200
    assert Lead.objects.get(email="cold@prospect.example").created_while_not_free
    assert "not free to cold-call" in response.content.decode()


def test_a_pages_clocks_read_by_hand_are_the_orms_open_clocks(cast):
    """clock_statuses reads a page's open clocks in hand-written SQL: the statuses equal those of
    the ORM's open clocks, and ended clocks and other leads' clocks are left out."""
    leads = [make_queue_lead(rep=cast.rep, at=FRIDAY - n * HOUR) for n in range(4)]
    FirstContactClock.objects.filter(lead=leads[0]).update(ended_at=FRIDAY, outcome=ClockOutcome.MET)
    other = make_queue_lead(rep=cast.teammate, at=FRIDAY)
    ids = [lead.pk for lead in leads]
    now = FRIDAY + 23 * HOUR
    by_hand = clock_statuses(lead_ids=ids, now=now, tz=datetime.UTC)
    orm = list(FirstContactClock.objects.filter(lead_id__in=ids, ended_at__isnull=True))
    assert by_hand == clock_statuses(lead_ids=ids, now=now, tz=datetime.UTC, clocks=orm)
    assert set(by_hand) == set(ids[1:]) and other.pk not in by_hand
