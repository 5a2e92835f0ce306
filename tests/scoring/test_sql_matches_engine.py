"""The SQL path scores exactly like the pure engine: hypothesis over random rules and leads.

Runs against PostgreSQL: for every generated definition and set of leads, the
compiled SELECT (scoring.sql) and the stored result of leads_rescore equal
scoring.engine.evaluate on each lead, explanation included.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.models import EngagementEvent, Lead
from scoring.engine import evaluate
from scoring.rules import (
    IDENTIFYING_FIELDS,
    LEAD_FIELDS,
    MAX_WINDOW_DAYS,
    NO_VALUE_OPS,
    CustomFieldSpec,
    Definition,
    field_kind,
    rules_parse,
)
from scoring.scoring import facts_for_lead, leads_rescore, scores_fetch

pytestmark = pytest.mark.django_db

BASE_NOW = datetime.datetime(2025, 6, 1, 9, 30, tzinfo=datetime.UTC)

# Small pools so rules and leads collide often; odd cases on purpose: blanks,
# tabs, capitals, non-ASCII letters whose lowercase is special.
WORDS = [
    "US", "us ", " Us", "CA", "Software", "soft", "SOFTWARE\t", "Acme", "acme inc", "ÉCOLE", "école",
    "Straße", "STRAßE", "ΣΟΦΙΑΣ", "σοφιασ", "İstanbul", "istanbul", "VP Sales", "vp", "a", "",
]  # fmt: skip
TEXT = st.one_of(st.sampled_from(WORDS), st.text(alphabet="aAbB éÉΣσ\t-", max_size=6))
DOMAINS = ["acme.com", "ACME.com ", "gmail.com", "école.fr", "x"]
NUMBERS = [0, 1, 9, 10, 50, 99.5, 100, 250, 1000, 1000.5, 123456.78]
EVENT_KINDS = ["page_view", "pricing_page_view", "demo_request"]
HALF_LIVES = [None, None, 0.5, 1, 2.5, 3, 7, 1 / 3]

# Custom fields (issue 14): one of each kind, one personal (rules may test only its emptiness).
CUSTOM_FIELDS = {
    "total_visits": CustomFieldSpec("total_visits", "number"),
    "occupation": CustomFieldSpec("occupation", "choice", choices=("Student", "Working Professional")),
    "signup_date": CustomFieldSpec("signup_date", "date"),
    "newsletter": CustomFieldSpec("newsletter", "yes_no"),
    "notes": CustomFieldSpec("notes", "text"),
    "birthday": CustomFieldSpec("birthday", "date", personal=True),
}
RULE_FIELDS = sorted(LEAD_FIELDS) + [f"attributes.{name}" for name in CUSTOM_FIELDS]
DATES = ["2024-01-31", "2024-02-01", "2025-06-01", "2025-12-31", "1999-05-05"]
# What a lead's attributes may hold, typed or not: imports and the API store typed values,
# but keys declared later (or kept untyped) may hold anything.
ATTRIBUTE_VALUES = {
    "total_visits": [0, 1, 5, 7.5, 250, -3, "5", " 12 ", "7.25", "+4", "abc", "", True, None, "1e3", "5."],
    "occupation": ["Student", "student ", "Working Professional", "ΣΟΦΙΑΣ", "", 5, None],
    "signup_date": [*DATES, "", "soon", None],
    "newsletter": ["yes", "no", " YES", True, False, "", None, "maybe"],
    "notes": WORDS,
    "birthday": [*DATES, ""],
}
YES_NO_OPS = ["equals", "not_equals", "is_empty", "is_not_empty"]
DATE_OPS = ["equals", "not_equals", "one_of", "not_one_of", "gt", "lt", "between", "is_empty", "is_not_empty"]

TEXT_OPS = ["equals", "not_equals", "one_of", "not_one_of", "contains", "not_contains", "is_empty", "is_not_empty"]
NUMBER_OPS = [*TEXT_OPS, "gt", "lt", "between"]


@st.composite
def conditions(draw, kind):
    field = draw(st.sampled_from(RULE_FIELDS))
    spec = CUSTOM_FIELDS.get(field.removeprefix("attributes.")) if field.startswith("attributes.") else None
    field_type = spec.rule_kind if spec else field_kind(field)
    # Identifying fields (email) and personal data may only be tested for presence (scoring.rules).
    if field in IDENTIFYING_FIELDS or (spec and spec.personal):
        ops = sorted(NO_VALUE_OPS)
    else:
        ops = {"number": NUMBER_OPS, "yes_no": YES_NO_OPS, "date": DATE_OPS}.get(field_type, TEXT_OPS)
    op = draw(st.sampled_from(ops))
    values = {"number": NUMBERS, "yes_no": ["yes", "no", "YES "], "date": DATES}.get(
        field_type, [w for w in WORDS + DOMAINS if w.strip()]
    )
    if op in ("is_empty", "is_not_empty"):
        value = None
    elif op in ("one_of", "not_one_of"):
        value = draw(st.lists(st.sampled_from(values), min_size=1, max_size=3))
    elif op == "between":
        value = sorted(
            draw(st.lists(st.sampled_from(DATES if field_type == "date" else NUMBERS), min_size=2, max_size=2))
        )
    else:
        value = draw(st.sampled_from(values))
    rule = {
        "type": kind,
        "field": field,
        "op": op,
        "value": value,
        "label": draw(st.sampled_from(["", "Ünïcode ‘label’"])),
    }
    if kind == "fit":
        rule["points"] = draw(st.integers(-30, 60))
    return rule


@st.composite
def behaviour_rules(draw):
    return {
        "type": "behaviour",
        "event_kind": draw(st.sampled_from(EVENT_KINDS)),
        "min_count": draw(st.integers(1, 3)),
        "within_days": draw(st.sampled_from([1, 2, 7, 30, MAX_WINDOW_DAYS])),
        "points": draw(st.integers(-20, 50)),
        "cap": draw(st.one_of(st.none(), st.integers(0, 80))),
        "half_life_days": draw(st.sampled_from(HALF_LIVES)),
    }


@st.composite
def definitions(draw):
    raw = (
        draw(st.lists(conditions("fit"), max_size=4))
        + draw(st.lists(behaviour_rules(), max_size=3))
        + draw(st.lists(conditions("gate"), max_size=2))
    )
    for i, rule in enumerate(raw):
        rule["id"] = f"r{i}"
    return Definition.from_rules(
        version=draw(st.integers(1, 9)),
        threshold=draw(st.integers(-10, 120)),
        rules=rules_parse(raw, custom_fields=CUSTOM_FIELDS),
    )


EDGE_AGES = [
    datetime.timedelta(0),
    datetime.timedelta(days=1),
    datetime.timedelta(days=1) - datetime.timedelta(microseconds=1),
    datetime.timedelta(days=1, microseconds=1),
    datetime.timedelta(days=2),
    datetime.timedelta(days=7),
    datetime.timedelta(days=30),
    -datetime.timedelta(microseconds=1),
    -datetime.timedelta(days=1),
]
AGES = st.one_of(
    st.sampled_from(EDGE_AGES),
    st.builds(datetime.timedelta, seconds=st.integers(0, 35 * 86400), microseconds=st.integers(0, 999_999)),
)


@st.composite
def leads_data(draw):
    email = draw(st.one_of(st.none(), st.tuples(st.sampled_from(["jo", "Ann.Lee"]), st.sampled_from(DOMAINS))))
    revenue = draw(st.one_of(st.none(), st.sampled_from(NUMBERS), st.decimals(0, 10**6, places=2)))
    return {
        "email": email,
        "values": {
            "title": draw(TEXT),
            "company": draw(TEXT),
            "industry": draw(TEXT),
            "country": draw(TEXT),
            "region": draw(TEXT),
            "city": draw(TEXT),
            "source": draw(TEXT),
            "campaign": draw(TEXT),
            "company_size": draw(st.one_of(st.none(), st.sampled_from([0, 1, 9, 10, 50, 100, 250, 1000]))),
            "annual_revenue": None if revenue is None else Decimal(str(revenue)).quantize(Decimal("0.01")),
            "do_not_email": draw(st.booleans()),
            "do_not_call": draw(st.booleans()),
            "unsubscribed": draw(st.booleans()),
            "attributes": draw(
                st.fixed_dictionaries(
                    {}, optional={name: st.sampled_from(options) for name, options in ATTRIBUTE_VALUES.items()}
                )
            ),
        },
        "events": draw(st.lists(st.tuples(st.sampled_from(EVENT_KINDS), AGES), max_size=10)),
        # Events right at a behaviour rule's window start: (rule index, microseconds after it).
        "edge_events": draw(st.lists(st.tuples(st.integers(0, 2), st.sampled_from([-1, 0, 1])), max_size=4)),
    }


def _store(now, generated, definition):
    leads, events = [], []
    for i, data in enumerate(generated):
        email = None if data["email"] is None else f"{data['email'][0]}{i}@{data['email'][1]}"
        lead = Lead.objects.create(email=email, external_id=f"x{i}", created_at=now, **data["values"])
        leads.append(lead)
        events += [EngagementEvent(lead=lead, kind=kind, occurred_at=now - age) for kind, age in data["events"]]
        for index, micros in data["edge_events"]:
            if index < len(definition.behaviour_rules):
                rule = definition.behaviour_rules[index]
                at = now - datetime.timedelta(days=rule.within_days) + datetime.timedelta(microseconds=micros)
                events += [
                    EngagementEvent(lead=lead, kind=rule.event_kind, occurred_at=at) for _ in range(rule.min_count)
                ]
    EngagementEvent.objects.bulk_create(events)
    return leads


# Examples share the db fixture on purpose: each runs in a savepoint rolled back below.
@settings(suppress_health_check=[*settings().suppress_health_check, HealthCheck.function_scoped_fixture])
@given(
    definition=definitions(),
    generated=st.lists(leads_data(), min_size=1, max_size=5),
    micros=st.integers(0, 999_999),
)
def test_sql_scores_equal_the_engine_on_every_lead(definition, generated, micros):
    # Each example in a savepoint of its own, rolled back: examples never see each other.
    with transaction.atomic():
        _check(definition, generated, micros)
        transaction.set_rollback(True)


def _check(definition, generated, micros):
    now = BASE_NOW + datetime.timedelta(microseconds=micros)
    leads = _store(now, generated, definition)

    from_sql = scores_fetch(definition=definition, now=now)
    assert set(from_sql) == {lead.id for lead in leads}
    leads_rescore(definition=definition, now=now)
    for lead in Lead.objects.filter(id__in=[lead.id for lead in leads]):
        expected = evaluate(facts_for_lead(lead), definition, now)
        row = from_sql[lead.id]
        assert (row["total"], row["fit"], row["behaviour"], row["passes_gates"], row["qualifies"]) == (
            expected.total,
            expected.fit,
            expected.behaviour,
            expected.passes_gates,
            expected.qualifies,
        )
        assert row["explanation"] == expected.explanation()
        assert (lead.score, lead.fit_score, lead.behaviour_score, lead.passes_gates) == (
            expected.total,
            expected.fit,
            expected.behaviour,
            expected.passes_gates,
        )
        assert lead.score_explanation == expected.explanation()
        assert lead.scored_version == definition.version
