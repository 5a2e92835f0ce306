"""The demo history (`manage.py seed_demo`): logins, teams, size, the story it tells,
and that running it again changes nothing.

The full-size seed runs once for this module, inside a transaction rolled back
at the end; --reset and determinism use small seeds (test_seed_demo_reruns).
"""

import datetime
import io
import statistics
from collections import Counter

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q

from accounts.models import RepProfile, Role, Team, User
from demo.seed import DEFAULT_LEADS, demo_seed
from leads.clock.selectors import free_to_cold_call
from leads.models import (
    ClockOutcome,
    EngagementEvent,
    FirstContactClock,
    HistoryAction,
    Lead,
    LeadHistory,
    LeadScore,
    Origin,
    ScoreLegend,
    Status,
    Touch,
)
from scoring.models import DefinitionVersion
from scoring.rules import Definition, rules_parse
from sla.models import ClockEvent, EventKind
from tests.demo.helpers import table_counts

UTC = datetime.UTC
TODAY = datetime.date(2025, 6, 30)
ANCHOR = datetime.datetime(2025, 6, 30, tzinfo=UTC)
NOW = datetime.datetime(2025, 6, 30, 15, 30, tzinfo=UTC)


def quiet(_message: str) -> None:
    pass


def durations(qs, start: str = "assigned_at"):
    return qs.annotate(cycle=ExpressionWrapper(F("closed_at") - F(start), output_field=DurationField()))


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The default-size demo, seeded once for this module and rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        result = demo_seed(today=TODAY, now=NOW, log=quiet)
        yield result
        transaction.set_rollback(True)


@pytest.fixture
def demo_db(demo, db):
    return demo


# --- logins, teams, size --------------------------------------------------------------


LOGINS = {
    "marketer": (Role.MARKETING, "Marketing"),
    "rep1": (Role.REP, "Sales rep"),
    "rep2": (Role.REP, "Sales rep"),
    "rep3": (Role.REP, "Sales rep"),
    "manager": (Role.MANAGER, "Sales manager"),
    "admin": (Role.ADMIN, "Admin"),
}


def test_it_creates_the_six_demo_logins_with_their_roles_groups_and_password(demo_db):
    for username, (role, group) in LOGINS.items():
        user = User.objects.get(username=username)
        assert user.role == role, username
        assert list(user.groups.values_list("name", flat=True)) == [group], username
        assert user.check_password("leadhandoff"), username
        assert user.is_active
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert Group.objects.get(name="Sales rep").user_set.filter(username__in=["rep1", "rep2", "rep3"]).count() == 3


def test_rep1_and_rep2_share_the_managers_team_and_rep3_is_on_the_second(demo_db):
    rep1, rep2, rep3 = (
        RepProfile.objects.select_related("team").get(user__username=u) for u in ("rep1", "rep2", "rep3")
    )
    assert rep1.team == rep2.team
    assert rep3.team != rep1.team
    assert rep1.team.manager.username == "manager"
    assert rep3.team.manager is not None and rep3.team.manager.role == Role.MANAGER
    assert Team.objects.filter(is_fallback=True).count() == 1


def test_it_has_at_least_eight_reps_in_two_teams_with_working_hours(demo_db):
    per_team = dict(RepProfile.objects.values_list("team__name").annotate(n=Count("id")))
    assert len(per_team) == 2
    assert sum(per_team.values()) >= 8
    assert min(per_team.values()) >= 3
    assert User.objects.filter(rep_profile__isnull=False).values("timezone").distinct().count() >= 3
    assert all(
        w["start"] < w["end"] for hours in RepProfile.objects.values_list("working_hours", flat=True) for w in hours
    )


def test_it_creates_about_five_thousand_leads_with_events_touches_and_history(demo_db):
    counts = table_counts()
    assert counts["leads"] == DEFAULT_LEADS
    assert counts["events"] >= 30_000
    assert counts["touches"] >= 20_000
    assert counts["history"] >= counts["leads"]
    assert demo_db.counts["leads"] == counts["leads"]
    statuses = Counter(Lead.objects.values_list("status", flat=True))
    assert set(statuses) == set(Status.values)
    assert 2_000 <= statuses[Status.NURTURE] <= 3_000
    assert Lead.objects.filter(origin=Origin.REP_SOURCED).count() >= 500


def test_the_rows_are_consistent_with_the_products_rules(demo_db):
    # touch_count matches the Touch rows.
    assert not Lead.objects.annotate(n=Count("touches")).exclude(n=F("touch_count")).exists()
    # The first-contact clock is cleared at first contact and only runs on assigned leads.
    assert not Lead.objects.filter(first_contact_at__isnull=False, sla_due_at__isnull=False).exists()
    assert not Lead.objects.filter(sla_due_at__isnull=False).exclude(status=Status.ASSIGNED).exists()
    # The pool has no owner; sales-side leads do, except the team queues.
    assert not Lead.objects.filter(status=Status.NURTURE, owner__isnull=False).exists()
    assert not Lead.objects.filter(status=Status.QUEUED, owner__isnull=False).exists()
    assert not Lead.objects.exclude(status__in=[Status.NURTURE, Status.QUEUED]).filter(owner__isnull=True).exists()
    # Promoted leads carry when, which version and why.
    promoted = Lead.objects.filter(origin=Origin.MARKETING, promoted_at__isnull=False)
    assert promoted.count() > 1_000
    assert not promoted.filter(Q(promoted_version__isnull=True) | Q(promotion_explanation={})).exists()
    assert not Lead.objects.filter(status__in=[Status.WON, Status.LOST], closed_at__isnull=True).exists()
    assert not Lead.objects.filter(status=Status.WON, deal_value__isnull=True).exists()
    assert not Lead.objects.filter(status=Status.LOST, lost_reason="").exists()
    # A history row for each transition.
    history = Counter(LeadHistory.objects.values_list("action", flat=True))
    assert history[HistoryAction.PROMOTED] == promoted.count()
    assert history[HistoryAction.FIRST_CONTACT] == Lead.objects.filter(first_contact_at__isnull=False).count()
    assert history[HistoryAction.REJECTED] == Lead.objects.filter(rejected_at__isnull=False).count()
    assert history[HistoryAction.STATUS_CHANGED] > history[HistoryAction.FIRST_CONTACT]
    # Nothing happened after "now".
    for model, stamp in ((Lead, "created_at"), (EngagementEvent, "occurred_at"), (Touch, "occurred_at")):
        assert not model.objects.filter(**{f"{stamp}__gt": NOW}).exists(), model


def test_explanations_come_from_the_scoring_engine_with_the_pool_scored(demo_db):
    promoted = Lead.objects.filter(promoted_at__isnull=False).exclude(status=Status.NURTURE)
    for explanation in promoted.values_list("promotion_explanation", flat=True)[:200]:
        assert set(explanation) == {
            "version",
            "total",
            "fit",
            "behaviour",
            "threshold",
            "passes_gates",
            "qualifies",
            "gates",
            "rules",
        }
        assert explanation["qualifies"] and explanation["total"] >= explanation["threshold"] == 60
    pool = Lead.objects.filter(status=Status.NURTURE, rejected_at__isnull=True)
    scored = pool.filter(scorecard__isnull=False)
    assert scored.count() > pool.count() * 0.7
    assert pool.filter(scorecard__isnull=True).exists()  # some arrived since the last rescore
    # Nothing in the pool would be promoted on the spot.
    assert not scored.filter(scorecard__passes_gates=True, scorecard__total__gte=60).exists()
    assert not scored.exclude(scorecard__total=F("scorecard__fit") + F("scorecard__behaviour")).exists()
    assert set(LeadScore.objects.values_list("legend", flat=True).distinct()) == {1}


def test_a_stored_score_renders_the_engines_explanation_through_the_legend(demo_db, django_assert_num_queries):
    legend = ScoreLegend.objects.get(version=1)
    version = DefinitionVersion.objects.get(number=1)
    definition = Definition.from_rules(version=1, threshold=version.threshold, rules=rules_parse(version.rules))
    assert legend.threshold == definition.threshold
    assert legend.gates == [{"id": g.id, "label": g.label} for g in definition.gates]
    assert legend.rules == [
        {"id": r.id, "label": r.label, "type": r.type} for r in (*definition.fit_rules, *definition.behaviour_rules)
    ]
    # Scored at promotion and never rejected: the stored score is the one frozen at promotion.
    promoted = (
        Lead.objects.filter(promoted_at__isnull=False, rejected_at__isnull=True)
        .select_related("scorecard__legend")
        .order_by("id")[:300]
    )
    with django_assert_num_queries(1):
        leads = list(promoted)
        explanations = [(lead.score_explanation, lead.promotion_explanation) for lead in leads]
    assert len(explanations) == 300
    for stored, frozen in explanations:
        assert stored == frozen
        assert any(rule["points"] for rule in stored["rules"])


def test_the_products_own_rescore_finds_the_pool_as_seeded_and_promotes_nobody(demo_db):
    from scoring.scoring import rescore_and_promote

    pool = Lead.objects.filter(status=Status.NURTURE, rejected_at__isnull=True, scorecard__isnull=False)
    seeded = dict(pool.values_list("id", "scorecard__total"))

    outcome = rescore_and_promote(now=ANCHOR)

    assert outcome.version == 1
    assert outcome.promoted == []
    assert dict(pool.filter(id__in=seeded).values_list("id", "scorecard__total")) == seeded


def test_the_active_definition_is_signed_off_by_marketing_and_sales_with_a_thread(demo_db):
    version = DefinitionVersion.objects.get(state=DefinitionVersion.State.ACTIVE)
    assert version.number == 1 and version.threshold == 60
    rules = rules_parse(version.rules)
    assert {rule.type for rule in rules} == {"fit", "behaviour", "gate"}
    approvals = {(a.user.username, a.side, a.revision) for a in version.approvals.select_related("user")}
    assert approvals == {("marketer", "marketing", 1), ("manager", "sales", 1)}
    thread = list(version.comments.values_list("kind", "author__username"))
    assert ("comment", "marketer") in thread and ("comment", "manager") in thread


# --- the story --------------------------------------------------------------------------


def test_marketing_qualified_leads_close_in_fewer_touches_and_shorter_cycles_than_rep_sourced(demo_db):
    won = Lead.objects.filter(status=Status.WON)
    mql = won.filter(origin=Origin.MARKETING)
    cold = won.filter(origin=Origin.REP_SOURCED)
    assert mql.count() >= 100 and cold.count() >= 20

    assert 4 <= statistics.median(mql.values_list("touch_count", flat=True)) <= 6
    assert 20 <= statistics.median(cold.values_list("touch_count", flat=True)) <= 30

    mql_cycle = durations(mql).aggregate(a=Avg("cycle"))["a"]
    cold_cycle = durations(cold).aggregate(a=Avg("cycle"))["a"]
    assert mql_cycle < datetime.timedelta(days=35) < datetime.timedelta(days=60) < cold_cycle
    # Also counted from the day the lead was created, nurture time included.
    assert durations(mql, "created_at").aggregate(a=Avg("cycle"))["a"] < cold_cycle


def test_some_first_contacts_come_after_the_24_hour_deadline_with_breaches(demo_db):
    late = Lead.objects.filter(
        origin=Origin.MARKETING, first_contact_at__gt=F("assigned_at") + datetime.timedelta(hours=24)
    )
    contacted = Lead.objects.filter(origin=Origin.MARKETING, first_contact_at__isnull=False)
    assert 0.05 * contacted.count() < late.count() < 0.3 * contacted.count()
    breached = set(ClockEvent.objects.filter(kind=EventKind.BREACH).values_list("lead_id", flat=True))
    assert breached == set(
        FirstContactClock.objects.filter(outcome=ClockOutcome.BREACHED).values_list("lead_id", flat=True)
    )
    assert set(late.values_list("id", flat=True)) <= breached
    within = LeadHistory.objects.filter(action=HistoryAction.FIRST_CONTACT, data__within_sla=False)
    assert within.count() == late.count()


def test_some_reps_skip_qualified_leads_never_contacted_or_rejected(demo_db):
    never = Lead.objects.filter(
        origin=Origin.MARKETING, status=Status.ASSIGNED, first_contact_at__isnull=True, sla_due_at__lt=ANCHOR
    )
    by_rep = Counter(never.values_list("owner__username", flat=True))
    assert sum(by_rep.values()) >= 40
    skippers = by_rep["rep2"] + by_rep["rep7"]
    assert skippers > 0.8 * sum(by_rep.values())

    rejected = Lead.objects.filter(status=Status.NURTURE, rejected_at__isnull=False)
    assert rejected.count() >= 30
    assert not rejected.filter(Q(reject_reason="") | Q(rejected_by__isnull=True) | Q(rejected_version__isnull=True))
    by_rejecter = Counter(rejected.values_list("rejected_by__username", flat=True))
    assert by_rejecter.most_common(2)[0][0] in ("rep2", "rep7")


def test_rep1_has_a_live_queue_due_soon_and_is_free_to_cold_call(demo_db):
    waiting = Lead.objects.filter(owner__username="rep1", status=Status.ASSIGNED)
    assert waiting.filter(sla_due_at__lt=NOW).count() == 0
    due_soon = waiting.filter(sla_due_at__gte=NOW, sla_due_at__lte=NOW + datetime.timedelta(hours=24))
    assert due_soon.count() >= 3
    assert waiting.filter(sla_due_at__lte=NOW + datetime.timedelta(hours=1)).count() >= 1
    assert free_to_cold_call(rep=User.objects.get(username="rep1"), now=NOW).free
    assert Lead.objects.filter(status=Status.QUEUED, owner__isnull=True).values("team").distinct().count() == 2


def test_rep4_is_not_free_and_has_a_breach_and_a_warning_due_in_the_first_minutes(demo_db):
    rep4 = User.objects.get(username="rep4")
    status = free_to_cold_call(rep=rep4, now=NOW)
    assert not status.free and status.reasons
    clocks = FirstContactClock.objects.filter(rep=rep4, ended_at__isnull=True)
    soon = clocks.filter(next_action_at__gt=NOW, next_action_at__lte=NOW + datetime.timedelta(minutes=5))
    assert set(soon.values_list("next_action", flat=True)) == {"warning", "breach"}
    # Every SLA state is on show among open clocks: on time, warned, overdue.
    open_clocks = FirstContactClock.objects.filter(ended_at__isnull=True)
    assert open_clocks.filter(due_at__lt=NOW).exists()
    assert open_clocks.filter(due_at__gt=NOW, warnings_sent__gt=0).exists()
    assert open_clocks.filter(due_at__gt=NOW, warnings_sent=0).exists()


# --- re-running -------------------------------------------------------------------------


def test_running_it_again_creates_no_duplicates(demo_db):
    before = table_counts()
    result = demo_seed(today=TODAY, now=NOW, log=quiet)
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert result.skipped
    assert "already present" in out.getvalue()
    assert table_counts() == before
