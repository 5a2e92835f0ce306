"""Which rep gets a routed lead: strategies, fairness, capacity, availability, working hours,
the first-contact clock and the history row."""

import collections
import datetime
import itertools
import threading

import pytest
import time_machine
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext, override_settings

from accounts.models import RepProfile, User
from leads import tasks
from leads.models import AssignmentRule, HistoryAction, Lead, LeadHistory, Status
from leads.routing.services import leads_route, leads_route_waiting
from tests.factories import AssignmentRuleFactory, LeadFactory, TeamFactory, lead_score_set, make_rep

NOW = datetime.datetime(2026, 11, 23, 15, 0, tzinfo=datetime.UTC)  # Monday 10:00 in New York
HOUR = datetime.timedelta(hours=1)

pytestmark = pytest.mark.django_db


_serial = itertools.count()


def queued(n: int = 1, **fields) -> list[int]:
    """Promoted, unassigned leads (bulk-created: some tests need a thousand)."""
    leads = Lead.objects.bulk_create(
        Lead(email=f"queued{next(_serial)}@example.com", status=Status.QUEUED, created_at=NOW, **fields)
        for _ in range(n)
    )
    return [lead.id for lead in leads]


def owners(lead_ids) -> collections.Counter:
    return collections.Counter(Lead.objects.filter(id__in=lead_ids).values_list("owner__username", flat=True))


def team_with(*reps: dict, strategy=AssignmentRule.Strategy.ROUND_ROBIN, skip_off_hours=False, name="Sales"):
    team = TeamFactory(name=name)
    for i, rep in enumerate(reps):
        make_rep(team=team, username=rep.pop("username", f"{name.lower()}{i}"), **{"capacity": 10_000, **rep})
    rule = AssignmentRuleFactory(
        name=f"{name} rule", team=team, strategy=strategy, skip_outside_working_hours=skip_off_hours
    )
    return team, rule


# --- Round robin ---------------------------------------------------------------------


def test_round_robin_shares_one_batch_evenly():
    team_with({"username": "a"}, {"username": "b"}, {"username": "c"})
    ids = queued(999)
    assert leads_route(lead_ids=ids, now=NOW) == 999
    assert owners(ids) == {"a": 333, "b": 333, "c": 333}


def test_round_robin_keeps_its_place_across_calls_at_the_same_instant():
    team_with({"username": "a"}, {"username": "b"}, {"username": "c"})
    sequence = []
    for _ in range(7):
        (lead_id,) = queued()
        leads_route(lead_ids=[lead_id], now=NOW)  # a frozen clock: every call reads the same instant
        sequence.append(Lead.objects.get(id=lead_id).owner.username)
    assert sequence == ["a", "b", "c", "a", "b", "c", "a"]


def test_round_robin_continues_where_the_previous_batch_stopped():
    team_with({"username": "a"}, {"username": "b"}, {"username": "c"})
    first = queued(4)  # a b c a
    leads_route(lead_ids=first, now=NOW)
    second = queued(2)
    leads_route(lead_ids=second, now=NOW + HOUR)
    assert [Lead.objects.get(id=i).owner.username for i in second] == ["b", "c"]


# --- Weighted round robin ------------------------------------------------------------


def test_weighted_round_robin_gives_3_to_1_over_1000_leads():
    team_with({"username": "heavy", "routing_weight": 3}, {"username": "light"}, strategy="weighted")
    ids = queued(1000)
    leads_route(lead_ids=ids, now=NOW)
    assert owners(ids) == {"heavy": 750, "light": 250}


def test_weighted_round_robin_interleaves_and_holds_across_single_lead_calls():
    team_with({"username": "heavy", "routing_weight": 3}, {"username": "light"}, strategy="weighted")
    sequence = []
    for i in range(100):
        (lead_id,) = queued()
        leads_route(lead_ids=[lead_id], now=NOW + i * datetime.timedelta(seconds=1))
        sequence.append(Lead.objects.get(id=lead_id).owner.username)
    assert sequence[:8] == ["heavy", "heavy", "light", "heavy"] * 2  # smooth: never 3 in a row
    assert collections.Counter(sequence) == {"heavy": 75, "light": 25}


def test_weighted_round_robin_with_three_reps_stays_within_one_lead_of_the_share():
    team_with(
        {"username": "a", "routing_weight": 5},
        {"username": "b", "routing_weight": 3},
        {"username": "c"},
        strategy="weighted",
    )
    for batch in range(10):  # uneven batches
        leads_route(lead_ids=queued(batch * 7 + 3), now=NOW + batch * HOUR)
    counts = owners(Lead.objects.values_list("id", flat=True))
    total = sum(counts.values())
    for name, weight in (("a", 5), ("b", 3), ("c", 1)):
        assert abs(counts[name] - total * weight / 9) <= 1


# --- Least loaded --------------------------------------------------------------------


def test_least_loaded_fills_the_emptiest_rep_first():
    team, _ = team_with({"username": "busy"}, {"username": "calm"}, {"username": "idle"}, strategy="least_loaded")
    busy, calm = (RepProfile.objects.get(user__username=n).user for n in ("busy", "calm"))
    for _ in range(4):
        LeadFactory(status=Status.ASSIGNED, owner=busy, team=team)
    for _ in range(2):
        LeadFactory(status=Status.ASSIGNED, owner=calm, team=team)
    LeadFactory(status=Status.CONTACTED, owner=calm, team=team, first_contact_at=NOW)  # contacted: not load
    ids = queued(6)
    leads_route(lead_ids=ids, now=NOW)
    assert owners(ids) == {"idle": 4, "calm": 2}
    assert [Lead.objects.get(id=i).owner.username for i in ids[:3]] == ["idle", "idle", "calm"]


# --- Capacity and availability -------------------------------------------------------


def test_capacity_counts_open_leads_not_yet_contacted():
    team, _ = team_with({"username": "small", "capacity": 2}, {"username": "big"})
    small = RepProfile.objects.get(user__username="small").user
    LeadFactory(status=Status.ASSIGNED, owner=small, team=team)
    LeadFactory(status=Status.WORKING, owner=small, team=team, first_contact_at=NOW - HOUR)
    LeadFactory(status=Status.WON, owner=small, team=team)
    ids = queued(6)
    leads_route(lead_ids=ids, now=NOW)
    assert owners(ids) == {"small": 1, "big": 5}


def test_leads_no_rep_can_take_wait_in_the_team_queue_with_a_reason():
    team, _ = team_with({"username": "full", "capacity": 1}, {"username": "away", "out_of_office": True})
    ids = queued(3)
    assert leads_route(lead_ids=ids, now=NOW) == 1
    waiting = Lead.objects.filter(id__in=ids, owner__isnull=True)
    assert waiting.count() == 2
    assert set(waiting.values_list("status", "team")) == {(Status.QUEUED, team.id)}
    row = LeadHistory.objects.filter(lead_id=waiting[0].id).get()
    assert row.action == HistoryAction.UPDATED and row.field == "team" and row.new_value == "Sales"
    assert "no rep available (1 at capacity, 1 out of office)" in row.note


@pytest.mark.parametrize("unavailable", [{"out_of_office": True}, {"paused": True}])
def test_out_of_office_and_paused_reps_get_no_new_leads(unavailable):
    team_with({"username": "off", **unavailable}, {"username": "on"})
    ids = queued(5)
    leads_route(lead_ids=ids, now=NOW)
    assert owners(ids) == {"on": 5}


def test_a_deactivated_rep_gets_no_new_leads():
    team_with({"username": "gone"}, {"username": "here"})
    User.objects.filter(username="gone").update(is_active=False)
    ids = queued(3)
    leads_route(lead_ids=ids, now=NOW)
    assert owners(ids) == {"here": 3}


# --- Working hours -----------------------------------------------------------------


def _hours_team(skip: bool):
    return team_with(
        {"username": "ny", "timezone": "America/New_York"},
        {"username": "tokyo", "timezone": "Asia/Tokyo"},
        skip_off_hours=skip,
    )


def test_a_rule_that_skips_off_hours_routes_only_to_reps_at_work_in_their_own_timezone():
    _hours_team(skip=True)
    with time_machine.travel(datetime.datetime(2026, 11, 23, 15, 0, tzinfo=datetime.UTC), tick=False):
        # Monday 10:00 in New York, Tuesday 00:00 in Tokyo
        morning = queued(3)
        tasks.route_waiting_leads()
    assert owners(morning) == {"ny": 3}
    with time_machine.travel(datetime.datetime(2026, 11, 24, 1, 0, tzinfo=datetime.UTC), tick=False):
        # Monday 20:00 in New York, Tuesday 10:00 in Tokyo
        evening = queued(3)
        tasks.route_waiting_leads()
    assert owners(evening) == {"tokyo": 3}


def test_leads_wait_while_everyone_is_off_hours_and_go_out_when_work_starts():
    _hours_team(skip=True)
    saturday = datetime.datetime(2026, 11, 21, 15, 0, tzinfo=datetime.UTC)
    with time_machine.travel(saturday, tick=False):
        ids = queued(2)
        assert tasks.route_waiting_leads() == 0
    assert owners(ids) == {None: 2}
    assert "2 outside working hours" in LeadHistory.objects.filter(lead_id=ids[0]).get().note
    with time_machine.travel(datetime.datetime(2026, 11, 23, 14, 0, 1, tzinfo=datetime.UTC), tick=False):
        assert tasks.route_waiting_leads() == 2  # Monday 09:00:01 in New York
    assert owners(ids) == {"ny": 2}


def test_a_rule_that_does_not_skip_off_hours_routes_to_everyone():
    _hours_team(skip=False)
    ids = queued(4)
    leads_route(lead_ids=ids, now=NOW)
    assert owners(ids) == {"ny": 2, "tokyo": 2}


# --- The first-contact clock and the history row --------------------------------------


def test_assignment_starts_the_24_hour_first_contact_clock():
    team, rule = team_with({"username": "a"})
    (lead_id,) = queued()
    leads_route(lead_ids=[lead_id], now=NOW)
    lead = Lead.objects.get(id=lead_id)
    assert lead.status == Status.ASSIGNED
    assert lead.team == team and lead.owner.username == "a"
    assert lead.assigned_at == NOW
    assert lead.sla_due_at == NOW + datetime.timedelta(hours=24)


def test_the_clock_counts_elapsed_hours_across_a_daylight_saving_change():
    team_with({"username": "a", "timezone": "America/New_York"})
    # Saturday 12:00 in New York; clocks spring forward on Sunday 8 March 2026.
    before_dst = datetime.datetime(2026, 3, 7, 17, 0, tzinfo=datetime.UTC)
    (lead_id,) = queued()
    leads_route(lead_ids=[lead_id], now=before_dst)
    due = Lead.objects.get(id=lead_id).sla_due_at
    assert due - before_dst == datetime.timedelta(hours=24)


@override_settings(FIRST_CONTACT_SLA_HOURS=8)
def test_the_clock_length_comes_from_settings():
    team_with({"username": "a"})
    (lead_id,) = queued()
    leads_route(lead_ids=[lead_id], now=NOW)
    assert Lead.objects.get(id=lead_id).sla_due_at == NOW + 8 * HOUR


def test_each_assignment_records_the_rule_and_why_in_the_history(cast):
    team, rule = team_with({"username": "a"}, strategy="weighted", name="Enterprise")
    rule.conditions = {"country": ["US"], "company_size_min": 500}
    rule.save()
    (lead_id,) = queued(country="US", company_size=800)
    leads_route(lead_ids=[lead_id], now=NOW, actor=cast.marketer)
    row = LeadHistory.objects.get(lead_id=lead_id)
    assert row.action == HistoryAction.ASSIGNED
    assert row.actor == cast.marketer
    assert (row.field, row.new_value) == ("owner", "a")
    assert row.created_at == NOW
    assert row.note == (
        "Rule 'Enterprise rule' (country US, company size 800 in 500–) → Enterprise; weighted round robin"
    )
    assert row.data["rule_id"] == rule.id and row.data["rule"] == "Enterprise rule"
    assert row.data["team"] == "Enterprise" and row.data["strategy"] == "weighted"


def test_a_score_rule_routes_on_the_stored_score_and_an_unscored_lead_falls_through():
    team_with({"username": "hot"}, name="Hot")
    AssignmentRule.objects.filter(name="Hot rule").update(conditions={"score_min": 80})
    team_with({"username": "rest"}, name="Rest")
    high, low, unscored = queued(3)
    lead_score_set(Lead.objects.get(id=high), 85)
    lead_score_set(Lead.objects.get(id=low), 79)
    assert leads_route(lead_ids=[high, low, unscored], now=NOW) == 3
    assert dict(Lead.objects.filter(id__in=[high, low, unscored]).values_list("id", "owner__username")) == {
        high: "hot",
        low: "rest",
        unscored: "rest",
    }
    assert "score 85 in 80–" in LeadHistory.objects.get(lead_id=high).note


# --- The periodic retry ------------------------------------------------------------


def test_waiting_leads_are_routed_once_a_rep_is_unpaused_and_a_second_run_does_nothing():
    team_with({"username": "a", "paused": True})
    ids = queued(3)
    assert leads_route_waiting(now=NOW) == 0
    assert leads_route_waiting(now=NOW) == 0  # still waiting: no second history row
    assert LeadHistory.objects.filter(lead_id__in=ids).count() == 3
    RepProfile.objects.filter(user__username="a").update(paused=False)
    assert tasks.route_waiting_leads() == 3
    assert tasks.route_waiting_leads() == 0
    assert owners(ids) == {"a": 3}
    assert LeadHistory.objects.filter(lead_id__in=ids, action=HistoryAction.ASSIGNED).count() == 3


def test_route_leads_task_routes_the_ids_it_is_given():
    team_with({"username": "a"})
    ids = queued(2)
    other = queued()
    assert tasks.route_leads(ids) == 2
    assert owners(ids) == {"a": 2} and owners(other) == {None: 1}


# --- Set-based: the query count does not grow with the batch ---------------------------


def test_bulk_routing_makes_the_same_number_of_queries_for_5_or_500_leads():
    team_with({"username": "a"}, {"username": "b"}, strategy="weighted")
    team_with({"username": "c"}, name="Other")
    AssignmentRule.objects.filter(name="Other rule").update(conditions={"country": ["DE"]})

    def count(n: int) -> int:
        ids = queued(n // 2) + queued(n - n // 2, country="DE")
        with CaptureQueriesContext(connection) as ctx:
            assert leads_route(lead_ids=ids, now=NOW) == n
        return len(ctx.captured_queries)

    small, large = count(5), count(500)
    # Reads: leads, rules, teams, reps, loads, policies; writes: leads, clocks, history, reps; savepoint and release.
    assert small == large <= 12


# --- Concurrency -----------------------------------------------------------------------


def _in_threads(*jobs):
    barrier = threading.Barrier(len(jobs))
    results, errors = [None] * len(jobs), []

    def run(i, job):
        try:
            barrier.wait()
            results[i] = job()
        except Exception as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_two_routers_at_once_never_exceed_a_reps_capacity():
    team_with({"username": "a", "capacity": 5})
    first, second = queued(8), queued(8)
    results = _in_threads(lambda: leads_route(lead_ids=first, now=NOW), lambda: leads_route(lead_ids=second, now=NOW))
    assert sum(results) == 5
    assert Lead.objects.filter(owner__username="a").count() == 5
    assert Lead.objects.filter(status=Status.QUEUED, owner__isnull=True).count() == 11


@pytest.mark.django_db(transaction=True)
def test_two_routers_on_the_same_leads_assign_each_lead_once():
    team_with({"username": "a"}, {"username": "b"})
    ids = queued(50)
    results = _in_threads(lambda: leads_route(lead_ids=ids, now=NOW), lambda: leads_route(lead_ids=ids, now=NOW))
    assert sum(results) == 50
    assert LeadHistory.objects.filter(action=HistoryAction.ASSIGNED).count() == 50
    assert owners(ids) == {"a": 25, "b": 25}
