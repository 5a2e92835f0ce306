"""The size of a definition: MAX_RULES rules and MAX_LIST_VALUES values a list, scored on PostgreSQL.

A definition of exactly the documented maximum compiles, runs and agrees with
the engine lead for lead; one rule or one value more is refused by the schema,
the editor and the API with a message saying the limit. (Before, about 100
rules made the compiled SELECT pass more than 100 arguments to one function,
and every rescore failed.)
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from leads.models import EngagementEvent, Lead, LeadScore
from scoring.engine import BEHAVIOUR_RULE_LIMIT, evaluate
from scoring.forms import RuleRowForm
from scoring.models import DefinitionVersion
from scoring.rules import (
    EVENT_KINDS,
    MAX_LIST_VALUES,
    MAX_RULE_POINTS,
    MAX_RULES,
    MIN_HALF_LIFE_DAYS,
    CustomFieldSpec,
    Definition,
    rules_parse,
)
from scoring.scoring import definition_trial, facts_for_lead, leads_rescore, scores_fetch
from tests.factories import LeadFactory
from tests.scoring.test_definition_views import editor_post

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2025, 3, 10, 12, 0, tzinfo=datetime.UTC)
TEXT_FIELDS = ["title", "company", "industry", "country", "region", "city", "source", "campaign", "email_domain"]


def text_list(hit: str) -> list[str]:
    """MAX_LIST_VALUES values, one of them `hit`."""
    return [f"value {j}" for j in range(MAX_LIST_VALUES - 1)] + [hit]


def largest_rules() -> list[dict]:
    """MAX_RULES rules: fit (text and number, lists at their maximum), gates and behaviour, in a mixed order."""
    rules: list[dict] = []
    for i in range(60):
        field = TEXT_FIELDS[i % len(TEXT_FIELDS)]
        op, value = [
            ("one_of", text_list("software" if field == "industry" else "acme.com")),
            ("not_one_of", text_list("us")),
            ("equals", "Software"),
            ("contains", "a"),
        ][i % 4]
        points = MAX_RULE_POINTS if i % 5 == 0 else (i % 13) - 6
        rules.append({"type": "fit", "field": field, "op": op, "value": value, "points": points})
    for i in range(20):
        field = ["company_size", "annual_revenue"][i % 2]
        op, value = [
            ("one_of", [float(n) for n in range(MAX_LIST_VALUES)]),
            ("gt", 10 * i),
            ("between", [i, 1000 + i]),
            ("not_one_of", [float(n) + 0.5 for n in range(MAX_LIST_VALUES)]),
        ][i % 4]
        rules.append({"type": "fit", "field": field, "op": op, "value": value, "points": i + 1})
    for i in range(20):
        op, value = [("not_one_of", text_list("gmail.com")), ("is_not_empty", None), ("contains", ".")][i % 3]
        rules.append({"type": "gate", "field": "email_domain", "op": op, "value": value})
    for i in range(MAX_RULES - len(rules)):
        rules.append(
            {
                "type": "behaviour",
                "event_kind": EVENT_KINDS[i % len(EVENT_KINDS)],
                "min_count": 1 + i % 3,
                "within_days": [1, 7, 30, 3650][i % 4],
                "points": [BEHAVIOUR_RULE_LIMIT // 10, 7, -3, 25][i % 4],
                "cap": [None, 40, None, BEHAVIOUR_RULE_LIMIT][i % 4],
                "half_life_days": [None, 2.5, MIN_HALF_LIFE_DAYS, None][i % 4],
            }
        )
    # Interleaved, so the compiler's numbering of each kind is exercised out of order.
    mixed = [rules[i] for i in sorted(range(len(rules)), key=lambda i: (i * 37) % len(rules))]
    for i, rule in enumerate(mixed):
        rule["id"] = f"r{i}"
    assert len(mixed) == MAX_RULES
    return mixed


def largest_definition(version: int = 1) -> Definition:
    return Definition.from_rules(version=version, threshold=100, rules=rules_parse(largest_rules()))


def sample_leads() -> list[Lead]:
    shapes = [
        {"industry": "Software", "country": "US", "company_size": 42, "annual_revenue": 3.5, "email": "a@acme.com"},
        {"industry": "Retail", "country": "DE", "company_size": 5000, "email": "b@gmail.com"},
        {"industry": "software ", "company": "Acme", "title": "VP", "email": "c@x.org", "company_size": None},
        {"industry": "", "email": None, "external_id": "crm-9", "company_size": 499, "annual_revenue": 499.5},
    ]
    leads = []
    for n, values in enumerate(shapes):
        lead = LeadFactory(**values)
        for k in range(12 * n):
            EngagementEvent.objects.create(
                lead=lead,
                kind=EVENT_KINDS[k % len(EVENT_KINDS)],
                occurred_at=NOW - datetime.timedelta(hours=7 * k + n),
            )
        leads.append(lead)
    return leads


def test_a_definition_of_the_maximum_size_scores_on_postgresql_like_the_engine():
    definition = largest_definition()
    assert len(definition.fit_rules) + len(definition.gates) + len(definition.behaviour_rules) == MAX_RULES
    leads = sample_leads()

    rows = scores_fetch(definition=definition, now=NOW)

    assert set(rows) == {lead.id for lead in leads}
    for lead in leads:
        expected = evaluate(facts_for_lead(lead), definition, NOW)
        assert rows[lead.id]["explanation"] == expected.explanation()
        assert (rows[lead.id]["total"], rows[lead.id]["passes_gates"]) == (expected.total, expected.passes_gates)
    # The maximum is not vacuous: rules fire, some gates fail, totals run into the millions.
    assert any(row["passes_gates"] for row in rows.values()) and not all(row["passes_gates"] for row in rows.values())
    assert max(abs(row["total"]) for row in rows.values()) > 1_000_000

    # The rescore statement stores the same, and the save-time trial passes.
    assert leads_rescore(definition=definition, now=NOW) == len(leads)
    assert {s.lead_id: s.total for s in LeadScore.objects.all()} == {i: r["total"] for i, r in rows.items()}
    definition_trial(definition, now=NOW)


def test_no_definition_within_the_limits_can_overflow_the_integer_score_columns():
    # A total is at most every rule at its largest: fit points or a behaviour rule's limit.
    assert MAX_RULES * max(MAX_RULE_POINTS, BEHAVIOUR_RULE_LIMIT) < 2**31


def test_one_rule_more_than_the_maximum_is_refused_before_any_rule_is_read():
    rules = largest_rules() + [{"type": "gate", "field": "country", "op": "is_not_empty"}]
    with pytest.raises(Exception) as refused:
        rules_parse(rules)
    assert refused.value.message_dict == {
        "rules": [f"A definition has at most {MAX_RULES} rules; this one has {MAX_RULES + 1}."]
    }
    with pytest.raises(Exception) as huge:
        rules_parse([{"bogus": True}] * 10_000)  # not parsed rule by rule: one message
    assert huge.value.message_dict == {"rules": [f"A definition has at most {MAX_RULES} rules; this one has 10000."]}


def test_one_list_value_more_than_the_maximum_is_refused_on_its_rule():
    too_long = [f"v{j}" for j in range(MAX_LIST_VALUES + 1)]
    rules = [
        {"type": "fit", "field": "country", "op": "one_of", "value": too_long[:-1], "points": 1},
        {"type": "gate", "field": "country", "op": "not_one_of", "value": too_long},
    ]
    with pytest.raises(Exception) as refused:
        rules_parse(rules)
    assert refused.value.message_dict == {
        "rules": [f"Rule 2: a list has at most {MAX_LIST_VALUES} values; this one has {MAX_LIST_VALUES + 1}."]
    }


def test_a_half_life_too_short_for_postgresql_is_refused():
    # age / half-life overflows float8 in SQL (Python quietly computes inf): every rescore would fail.
    rule = {"type": "behaviour", "event_kind": "page_view", "within_days": 30, "points": 5, "half_life_days": 1e-308}
    with pytest.raises(Exception) as refused:
        rules_parse([rule])
    assert refused.value.message_dict == {"rules": [f"Rule 1 half-life: must be at least {MIN_HALF_LIFE_DAYS:g} days."]}


# --- the API and the editor ------------------------------------------------------


def test_the_api_takes_a_definition_of_the_maximum_size_and_refuses_one_rule_more(api, cast):
    client = api.as_user(cast.marketer)
    url = reverse("api-definition-versions")

    created = client.post(url, {"threshold": 100, "rules": largest_rules()}, "json")
    assert created.status_code == 201, created.json()
    assert len(created.json()["rules"]) == MAX_RULES

    rules = largest_rules() + [{"type": "gate", "field": "country", "op": "is_not_empty"}]
    refused = client.post(url, {"threshold": 100, "rules": rules}, "json")
    assert refused.status_code == 400
    assert refused.json()["fields"] == {
        "rules": [f"A definition has at most {MAX_RULES} rules; this one has {MAX_RULES + 1}."]
    }
    assert DefinitionVersion.objects.count() == 1


def _editor_row(rule: dict) -> dict:
    row = {"type": rule["type"], "id": rule["id"]}
    if rule["type"] == "behaviour":
        row |= {k: "" if rule[k] is None else str(rule[k]) for k in ("event_kind", "min_count", "within_days")}
        row |= {k: "" if rule[k] is None else str(rule[k]) for k in ("points", "cap", "half_life_days")}
    else:
        value = rule["value"]
        text = ", ".join(str(v) for v in value) if isinstance(value, list) else ("" if value is None else str(value))
        row |= {"field": rule["field"], "op": rule["op"], "value": text}
        if rule["type"] == "fit":
            row["points"] = str(rule["points"])
    return row


def test_the_editor_saves_a_definition_of_the_maximum_size_and_says_why_it_refuses_one_rule_more(client, cast):
    client.force_login(cast.marketer)
    rows = [_editor_row(rule) for rule in largest_rules()]

    saved = client.post(reverse("scoring:version_create"), editor_post(rows, threshold="100"))
    assert saved.status_code == 302, saved.content.decode()[:2000]
    version = DefinitionVersion.objects.get()
    assert [r["id"] for r in version.rules] == [r["id"] for r in largest_rules()]
    assert max(len(r["value"]) for r in version.rules if r.get("op") in ("one_of", "not_one_of")) == MAX_LIST_VALUES

    extra = {"type": "gate", "field": "country", "op": "is_not_empty", "id": "one-more"}
    refused = client.post(reverse("scoring:version_create"), editor_post([*rows, extra], threshold="100"))
    assert refused.status_code == 400
    assert f"A definition has at most {MAX_RULES} rules; this one has {MAX_RULES + 1}." in refused.content.decode()
    assert DefinitionVersion.objects.count() == 1


def test_the_limits_are_those_documented_and_the_editor_can_post_a_definition_of_the_maximum_size(settings):
    section = (settings.BASE_DIR / "README.md").read_text().split("### Definition size", 1)[1].split("\n### ", 1)[0]
    assert f"| rules in one definition version | {MAX_RULES} | `MAX_RULES` in `scoring/rules.py` |" in section
    assert f"| {MAX_LIST_VALUES} | `MAX_LIST_VALUES` in `scoring/rules.py` |" in section
    assert f"| {MIN_HALF_LIFE_DAYS:g} days | `MIN_HALF_LIFE_DAYS`" in section
    # Every row field and DELETE per rule, plus the form's own and the formset's management fields.
    fields = (MAX_RULES + 1) * (len(RuleRowForm.base_fields) + 1) + 10
    assert fields <= settings.DATA_UPLOAD_MAX_NUMBER_FIELDS


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("company_size", [500, 50], "the low end of 'between' is above the high end."),
        ("company_size", [5], "'between' needs two numbers, low and high."),
        ("attributes.renewal", ["2026-05-01", "2026-01-01"], "the first date of 'between' is after the last."),
        ("attributes.renewal", "2026-01-01", "'between' needs two dates, first and last."),
    ],
)
def test_between_is_refused_backwards_or_with_one_end_for_numbers_and_dates(field, value, message):
    rule = {"id": "r1", "type": "fit", "label": "Range", "field": field, "op": "between", "value": value, "points": 5}
    with pytest.raises(ValidationError) as refused:
        rules_parse([rule], custom_fields={"renewal": CustomFieldSpec("renewal", "date")})
    assert message in str(refused.value)
