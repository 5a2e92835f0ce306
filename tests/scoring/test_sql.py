"""The compiled SQL on the edges that matter, next to the engine on the same lead."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from leads.models import EngagementEvent, Lead
from scoring.engine import evaluate
from scoring.rules import Definition, rules_parse
from scoring.scoring import facts_for_lead, leads_rescore, scores_fetch
from scoring.sql import scores_select_sql
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2025, 3, 10, 12, 0, tzinfo=datetime.UTC)


def definition(*raw_rules, threshold=10, version=1):
    return Definition.from_rules(version=version, threshold=threshold, rules=rules_parse(list(raw_rules)))


def behaviour(**overrides):
    rule = {"id": "b1", "type": "behaviour", "label": "pricing", "event_kind": "pricing_page_view", "min_count": 1,
            "within_days": 1, "points": 10}  # fmt: skip
    rule.update(overrides)
    return rule


def both(lead, d, now=NOW):
    """(SQL row, engine result) for one lead, after checking they agree."""
    row = scores_fetch(definition=d, now=now, lead_ids=[lead.id])[lead.id]
    expected = evaluate(facts_for_lead(lead), d, now)
    assert row["explanation"] == expected.explanation()
    return row, expected


@pytest.mark.parametrize(
    ("age", "points"),
    [
        (datetime.timedelta(0), 10),
        (datetime.timedelta(hours=23, minutes=59), 10),
        (datetime.timedelta(hours=24), 0),
        (datetime.timedelta(hours=24, minutes=1), 0),
        (-datetime.timedelta(minutes=1), 0),
    ],
)
def test_sql_window_edges_match_the_engine(age, points):
    lead = LeadFactory()
    EngagementEvent.objects.create(lead=lead, kind="pricing_page_view", occurred_at=NOW - age)
    row, expected = both(lead, definition(behaviour()))
    assert row["behaviour"] == expected.behaviour == points


@pytest.mark.parametrize(("points", "expected_points"), [(5, 3), (-5, -3), (3, 2), (1, 1)])
def test_sql_rounds_half_away_from_zero_like_the_engine(points, expected_points):
    # One event one half-life old: points / 2 (2.5 -> 3, -2.5 -> -3, 1.5 -> 2, 0.5 -> 1).
    lead = LeadFactory()
    EngagementEvent.objects.create(lead=lead, kind="pricing_page_view", occurred_at=NOW - datetime.timedelta(days=1))
    row, expected = both(lead, definition(behaviour(points=points, within_days=30, half_life_days=1)))
    assert row["behaviour"] == expected.behaviour == expected_points


def test_sql_caps_and_counts_like_the_engine():
    lead = LeadFactory()
    for hours in (1, 2, 3, 4):
        EngagementEvent.objects.create(
            lead=lead, kind="demo_request", occurred_at=NOW - datetime.timedelta(hours=hours)
        )
    d = definition(
        behaviour(id="b1", event_kind="demo_request", points=10, cap=25),
        behaviour(id="b2", event_kind="demo_request", points=-10, cap=15),
        behaviour(id="b3", event_kind="demo_request", points=10, min_count=5),
        behaviour(id="b4", event_kind="demo_request", points=7, min_count=4, within_days=7, half_life_days=3),
    )
    row, expected = both(lead, d)
    assert [(r["id"], r["points"]) for r in row["explanation"]["rules"]] == [("b1", 25), ("b2", -15), ("b4", 27)]
    assert row["behaviour"] == expected.behaviour == 37


def test_sql_text_normalisation_matches_the_engine():
    lead = LeadFactory(industry="\tSOFTWARE \n", company="ΣΟΦΙΑΣ", city="İstanbul", title="", email=None,
                       external_id="ext-1")  # fmt: skip
    d = definition(
        {"id": "f1", "type": "fit", "field": "industry", "op": "equals", "value": "software", "points": 1},
        {"id": "f2", "type": "fit", "field": "company", "op": "equals", "value": "σοφιασ", "points": 2},
        {"id": "f3", "type": "fit", "field": "city", "op": "contains", "value": "ISTAN", "points": 4},
        {"id": "f4", "type": "fit", "field": "title", "op": "not_equals", "value": "CEO", "points": 8},
        {"id": "f5", "type": "fit", "field": "email_domain", "op": "is_empty", "points": 16},
        {"id": "f6", "type": "fit", "field": "title", "op": "not_one_of", "value": ["a@b.c"], "points": 32},
    )
    row, expected = both(lead, d)
    assert row["fit"] == expected.fit == 63


def test_sql_number_operators_are_false_on_null_like_the_engine():
    lead = LeadFactory(company_size=None, annual_revenue=Decimal("1000.50"))
    d = definition(
        {"id": "f1", "type": "fit", "field": "company_size", "op": "gt", "value": 0, "points": 1},
        {"id": "f2", "type": "fit", "field": "company_size", "op": "not_equals", "value": 5, "points": 2},
        {"id": "f3", "type": "fit", "field": "annual_revenue", "op": "between", "value": [1000.5, 2000], "points": 4},
        {"id": "f4", "type": "fit", "field": "annual_revenue", "op": "gt", "value": 1000.5, "points": 8},
        {"id": "f5", "type": "fit", "field": "company_size", "op": "is_empty", "points": 16},
    )
    row, expected = both(lead, d)
    assert row["fit"] == expected.fit == 22


def test_rule_values_and_labels_travel_as_parameters_not_sql():
    nasty = "x'); DROP TABLE leads_lead; -- %s %(a)s"
    lead = LeadFactory(company=nasty)
    d = definition(
        {"id": "f1", "type": "fit", "label": nasty, "field": "company", "op": "equals", "value": nasty, "points": 5},
        {"id": "g1", "type": "gate", "label": "it's {gate}", "field": "company", "op": "contains", "value": "%"},
    )
    sql, _ = scores_select_sql(d, now=NOW)
    assert "DROP" not in sql
    row, _ = both(lead, d)
    assert row["total"] == 5
    assert row["explanation"]["rules"][0]["label"] == nasty
    assert row["passes_gates"] is True


def test_where_sql_restricts_leads_and_their_events():
    keep, other = LeadFactory(), LeadFactory()
    for lead in (keep, other):
        EngagementEvent.objects.create(lead=lead, kind="pricing_page_view", occurred_at=NOW)
    d = definition(behaviour())
    sql, params = scores_select_sql(d, now=NOW, where_sql="l.id = %s", where_params=[keep.id])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    assert [(r[0], r[1]) for r in rows] == [(keep.id, 10)]


def test_a_definition_without_rules_scores_zero_and_passes():
    lead = LeadFactory()
    row, _ = both(lead, definition(threshold=0))
    assert (row["total"], row["passes_gates"], row["qualifies"]) == (0, True, True)
    assert row["explanation"]["rules"] == [] and row["explanation"]["gates"] == []


def test_rescoring_writes_only_leads_whose_score_changed():
    a, b = LeadFactory(industry="Software"), LeadFactory(industry="Retail")
    d1 = definition({"id": "f1", "type": "fit", "field": "industry", "op": "equals", "value": "Software", "points": 5})
    assert leads_rescore(definition=d1, now=NOW) == 2
    assert leads_rescore(definition=d1, now=NOW + datetime.timedelta(hours=1)) == 0
    Lead.objects.filter(id=b.id).update(industry="software")
    assert leads_rescore(definition=d1, now=NOW + datetime.timedelta(hours=2), lead_ids=[a.id, b.id]) == 1
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.score, a.scored_at) == (5, NOW)
    assert (b.score, b.scored_at) == (5, NOW + datetime.timedelta(hours=2))
    # A new version number rewrites every lead (its explanation names the version).
    d2 = Definition(version=2, threshold=d1.threshold, fit_rules=d1.fit_rules)
    assert leads_rescore(definition=d2, now=NOW) == 2


def test_decay_far_beyond_the_half_life_scores_zero_without_sql_underflow():
    lead = LeadFactory()
    EngagementEvent.objects.create(lead=lead, kind="pricing_page_view", occurred_at=NOW - datetime.timedelta(days=3000))
    row, expected = both(lead, definition(behaviour(points=100, within_days=3650, half_life_days=0.5)))
    assert row["behaviour"] == expected.behaviour == 0


def test_id_range_scores_only_leads_in_the_range_with_their_events():
    leads = [LeadFactory() for _ in range(3)]
    for lead in leads:
        EngagementEvent.objects.create(lead=lead, kind="pricing_page_view", occurred_at=NOW)
    d = definition(behaviour())
    sql, params = scores_select_sql(d, now=NOW, id_range=(leads[0].id, leads[2].id))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = sorted((r[0], r[1]) for r in cursor.fetchall())
    assert rows == [(leads[1].id, 10), (leads[2].id, 10)]


def test_labels_with_quotes_backslashes_and_emoji_survive_the_json_explanation():
    label = 'He said "hi" \\ back\tslash\n✓ 😀 \u2028 end'
    lead = LeadFactory(industry="Software")
    d = definition(
        {"id": 'id "1"', "type": "fit", "label": label, "field": "industry", "op": "equals", "value": "Software",
         "points": 5},
        {"id": "g\\1", "type": "gate", "label": label, "field": "industry", "op": "is_not_empty"},
        behaviour(id="b'1", label=label, within_days=30),
    )  # fmt: skip
    EngagementEvent.objects.create(lead=lead, kind="pricing_page_view", occurred_at=NOW)
    row, _ = both(lead, d)
    assert [r["label"] for r in row["explanation"]["rules"]] == [label, label]
    assert row["explanation"]["gates"] == [{"id": "g\\1", "label": label, "passed": True}]
