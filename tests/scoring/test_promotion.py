"""Promotion out of the nurture pool: stamped, exactly once, and rejected leads need new activity."""

import datetime
import threading

import pytest
from django.db import connection, transaction

from leads.models import HistoryAction, Lead, LeadHistory, Status
from leads.pool.services import leads_promote
from scoring.models import DefinitionVersion
from scoring.scoring import active_definition, leads_rescore, pool_rescore, rescore_and_promote
from tests.factories import ActiveDefinitionFactory, EngagementEventFactory, LeadFactory, TeamFactory

NOW = datetime.datetime(2025, 3, 10, 12, 0, tzinfo=datetime.UTC)

RULES = [
    {"id": "gate-us", "type": "gate", "label": "In the US", "field": "country", "op": "equals", "value": "US"},
    {"id": "fit-sw", "type": "fit", "label": "Software", "field": "industry", "op": "equals", "value": "Software",
     "points": 40},
    {"id": "demo", "type": "behaviour", "label": "Asked for a demo", "event_kind": "demo_request", "within_days": 30,
     "points": 30},
]  # fmt: skip


def _plain(definition):
    return {"version": definition.version, "threshold": definition.threshold}


def activate(*, number=1, threshold=60, rules=RULES) -> DefinitionVersion:
    return ActiveDefinitionFactory(number=number, rules=rules, threshold=threshold, created_at=NOW)


def qualifying_lead(**kwargs) -> Lead:
    values = {"country": "US", "industry": "Software", "last_activity_at": NOW - datetime.timedelta(days=1)}
    lead = LeadFactory(**(values | kwargs))
    EngagementEventFactory(lead=lead, kind="demo_request", occurred_at=NOW - datetime.timedelta(days=1))
    return lead


def promoted_rows(lead) -> list[LeadHistory]:
    return list(LeadHistory.objects.filter(lead=lead, action=HistoryAction.PROMOTED))


@pytest.mark.django_db
def test_a_qualifying_lead_is_promoted_stamped_with_version_score_and_explanation():
    activate(number=4)
    fallback = TeamFactory(name="Fallback", is_fallback=True)
    lead = qualifying_lead()

    outcome = rescore_and_promote(now=NOW)

    assert outcome.promoted == [lead.id]
    lead.refresh_from_db()
    assert lead.status == Status.QUEUED
    assert (lead.promoted_at, lead.promoted_version, lead.score) == (NOW, 4, 70)
    assert lead.promotion_explanation == lead.score_explanation
    assert lead.promotion_explanation["qualifies"] is True
    assert [r["id"] for r in lead.promotion_explanation["rules"]] == ["fit-sw", "demo"]
    # No rep on the team yet: it waits in its team's unassigned queue.
    assert (lead.team_id, lead.owner_id) == (fallback.id, None)
    [history] = promoted_rows(lead)
    assert (history.old_value, history.new_value, history.created_at) == ("nurture", "queued", NOW)
    assert history.data["version"] == 4 and history.data["score"] == 70
    assert history.data["explanation"] == lead.promotion_explanation
    assert "70" in history.note and "v4" in history.note


@pytest.mark.django_db
def test_running_promotion_twice_promotes_once():
    activate()
    lead = qualifying_lead()

    first = rescore_and_promote(now=NOW)
    second = rescore_and_promote(now=NOW + datetime.timedelta(minutes=15))

    assert first.promoted == [lead.id]
    assert second.promoted == []
    assert len(promoted_rows(lead)) == 1
    lead.refresh_from_db()
    assert lead.promoted_at == NOW


@pytest.mark.django_db
def test_leads_below_the_threshold_or_failing_a_gate_stay_in_the_pool():
    activate()
    below = LeadFactory(country="US", industry="Software")  # 40 < 60
    gated = qualifying_lead(country="DE")  # 70 but not in the US

    assert rescore_and_promote(now=NOW).promoted == []

    for lead in (below, gated):
        lead.refresh_from_db()
        assert lead.status == Status.NURTURE
        assert promoted_rows(lead) == []
    assert (below.score, below.passes_gates) == (40, True)
    assert (gated.score, gated.passes_gates) == (70, False)


@pytest.mark.django_db
def test_a_lead_someone_else_moved_first_is_not_promoted():
    activate()
    lead = qualifying_lead()
    definition = active_definition()
    leads_rescore(definition=definition, now=NOW)
    # A competing change (say, a manager took it as rep-sourced) lands before promotion.
    Lead.objects.filter(id=lead.id).update(status=Status.WORKING)

    assert leads_promote(version=definition.version, threshold=definition.threshold, now=NOW) == []
    assert promoted_rows(lead) == []


@pytest.mark.django_db
def test_only_leads_scored_by_this_version_are_promoted():
    activate(number=1)
    lead = qualifying_lead()
    leads_rescore(definition=active_definition(), now=NOW)
    DefinitionVersion.objects.filter(number=1).update(state=DefinitionVersion.State.RETIRED)
    activate(number=2)

    # Version 2 has not scored the lead yet: nothing moves on version 1's numbers.
    assert leads_promote(**_plain(active_definition()), now=NOW) == []
    assert rescore_and_promote(now=NOW).promoted == [lead.id]
    lead.refresh_from_db()
    assert lead.promoted_version == 2


@pytest.mark.django_db
def test_a_rejected_lead_is_promoted_again_only_after_new_activity():
    activate()
    rejected_at = NOW - datetime.timedelta(hours=2)
    no_activity = qualifying_lead(rejected_at=rejected_at, last_activity_at=None)
    old_activity = qualifying_lead(rejected_at=rejected_at)  # active a day ago, before the rejection
    same_instant = qualifying_lead(rejected_at=rejected_at)
    Lead.objects.filter(id=same_instant.id).update(last_activity_at=rejected_at)

    assert rescore_and_promote(now=NOW).promoted == []

    Lead.objects.filter(id=old_activity.id).update(last_activity_at=rejected_at + datetime.timedelta(minutes=1))
    assert rescore_and_promote(now=NOW).promoted == [old_activity.id]
    no_activity.refresh_from_db()
    assert no_activity.status == Status.NURTURE


@pytest.mark.django_db(transaction=True)
def test_concurrent_promotions_on_two_connections_promote_once():
    activate()
    leads = [qualifying_lead() for _ in range(3)]
    definition = active_definition()
    leads_rescore(definition=definition, now=NOW)

    first_promoted = threading.Event()
    results: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def first():
        try:
            with transaction.atomic():
                results["first"] = leads_promote(version=definition.version, threshold=definition.threshold, now=NOW)
                first_promoted.set()
                # Hold the row locks while the second job runs into them.
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_sleep(0.5)")
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            first_promoted.set()
        finally:
            connection.close()

    def second():
        try:
            first_promoted.wait(5)
            results["second"] = leads_promote(
                version=definition.version, threshold=definition.threshold, now=NOW + datetime.timedelta(seconds=1)
            )
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert errors == []
    assert results == {"first": sorted(lead.id for lead in leads), "second": []}
    assert LeadHistory.objects.filter(action=HistoryAction.PROMOTED).count() == 3
    assert set(Lead.objects.values_list("promoted_at", flat=True)) == {NOW}


@pytest.mark.django_db
def test_the_pool_is_rescored_chunk_by_chunk_with_the_same_result():
    activate()
    qualifying = [qualifying_lead() for _ in range(4)]
    others = [LeadFactory(country="US", industry="Retail") for _ in range(3)]

    outcome = pool_rescore(now=NOW, chunk_size=2)

    assert (outcome.version, outcome.changed) == (1, 7)
    assert outcome.promoted == sorted(lead.id for lead in qualifying)
    for lead in others:
        lead.refresh_from_db()
        assert (lead.status, lead.score, lead.scored_version) == (Status.NURTURE, 0, 1)
    assert pool_rescore(now=NOW, chunk_size=3).promoted == []


@pytest.mark.django_db(transaction=True)
def test_two_pool_rescores_at_once_run_one_after_the_other_and_promote_once():
    activate()
    leads = [qualifying_lead() for _ in range(5)]
    results, errors = [], []

    def run():
        try:
            results.append(pool_rescore(now=NOW, chunk_size=2).promoted)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert errors == []
    assert sorted(results) == [[], sorted(lead.id for lead in leads)]
    assert LeadHistory.objects.filter(action=HistoryAction.PROMOTED).count() == 5
