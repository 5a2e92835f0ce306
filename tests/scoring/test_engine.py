"""The pure engine: every operator, empty values, window edges, decay and rounding."""

import datetime
from decimal import Decimal

import pytest

from scoring.engine import LeadFacts, evaluate
from scoring.rules import Definition, rules_parse

NOW = datetime.datetime(2025, 3, 10, 12, 0, tzinfo=datetime.UTC)


def definition(*raw_rules, threshold=10, version=1):
    return Definition.from_rules(version=version, threshold=threshold, rules=rules_parse(list(raw_rules)))


def fit(field, op, value=None, points=10, rule_id="r1"):
    return {"id": rule_id, "type": "fit", "label": "rule", "field": field, "op": op, "value": value, "points": points}


def fires(rule, **values):
    return evaluate(LeadFacts.of(**values), definition(rule), NOW).fit == rule["points"]


# --- text operators --------------------------------------------------------------------


def test_text_equals_is_case_insensitive_and_trimmed():
    rule = fit("industry", "equals", "Software")
    assert fires(rule, industry="  SOFTWARE\t")
    assert fires(rule, industry="software")
    assert not fires(rule, industry="Soft ware")
    assert not fires(rule, industry="")


def test_text_one_of_matches_any_listed_value_ignoring_case():
    rule = fit("country", "one_of", "US, ca")
    assert fires(rule, country="us")
    assert fires(rule, country="CA ")
    assert not fires(rule, country="MX")
    assert not fires(rule, country=None)


def test_text_contains_finds_a_substring_ignoring_case():
    rule = fit("title", "contains", "vp")
    assert fires(rule, title="VP of Sales")
    assert fires(rule, title="Senior vP")
    assert not fires(rule, title="Director")
    assert not fires(rule, title="")


def test_not_operators_are_the_negation_also_on_empty_values():
    assert fires(fit("country", "not_equals", "US"), country="")
    assert fires(fit("country", "not_equals", "US"), country="DE")
    assert not fires(fit("country", "not_equals", "US"), country=" us ")
    assert fires(fit("country", "not_one_of", ["US", "CA"]), country=None)
    assert not fires(fit("country", "not_one_of", ["US", "CA"]), country="Ca")
    assert fires(fit("title", "not_contains", "intern"), title="")
    assert not fires(fit("title", "not_contains", "intern"), title="Summer Intern")


def test_null_empty_and_blank_text_are_all_empty():
    rule = fit("company", "is_empty")
    assert fires(rule, company=None)
    assert fires(rule, company="")
    assert fires(rule, company=" \t\r\n")
    assert not fires(rule, company="Acme")
    assert fires(fit("company", "is_not_empty"), company="Acme")
    assert not fires(fit("company", "is_not_empty"), company="  ")


def test_email_domain_is_derived_from_the_email_after_the_last_at():
    rule = fit("email_domain", "equals", "acme.com")
    assert fires(rule, email="Jane@ACME.com")
    assert fires(rule, email='"odd@local"@acme.com')
    assert not fires(rule, email="jane@acme.com.evil")
    assert not fires(rule, email=None)
    assert fires(fit("email_domain", "is_empty"), email=None)


def test_text_lowercasing_is_per_character_like_postgresql():
    # str.lower() turns a final capital sigma into "ς" and "İ" into two characters;
    # the engine lowercases one character at a time, as PostgreSQL's lower() does.
    assert fires(fit("company", "equals", "σοφιασ"), company="ΣΟΦΙΑΣ")
    assert fires(fit("city", "equals", "istanbul"), city="İstanbul")
    assert fires(fit("city", "equals", "Straße"), city="STRAßE")


# --- number operators --------------------------------------------------------------------


def test_number_comparisons_are_exact_and_strict():
    assert fires(fit("company_size", "gt", 50), company_size=51)
    assert not fires(fit("company_size", "gt", 50), company_size=50)
    assert fires(fit("company_size", "lt", 50), company_size=49)
    assert not fires(fit("company_size", "lt", 50), company_size=50)
    assert fires(fit("annual_revenue", "gt", "0.1"), annual_revenue=Decimal("0.11"))
    assert not fires(fit("annual_revenue", "gt", "0.1"), annual_revenue=Decimal("0.10"))


def test_between_includes_both_ends():
    rule = fit("company_size", "between", [10, 500])
    assert fires(rule, company_size=10)
    assert fires(rule, company_size=500)
    assert not fires(rule, company_size=9)
    assert not fires(rule, company_size=501)


def test_number_equals_and_one_of():
    assert fires(fit("annual_revenue", "equals", "1000"), annual_revenue=Decimal("1000.00"))
    assert fires(fit("company_size", "one_of", "10, 20"), company_size=20)
    assert not fires(fit("company_size", "one_of", "10, 20"), company_size=15)


def test_number_operators_are_false_on_null_and_their_negations_true():
    for op, value in [("gt", 1), ("lt", 1), ("between", [0, 9]), ("equals", 1), ("one_of", [1])]:
        assert not fires(fit("company_size", op, value), company_size=None), op
    assert fires(fit("company_size", "not_equals", 5), company_size=None)
    assert fires(fit("company_size", "not_one_of", [5]), company_size=None)
    assert fires(fit("company_size", "is_empty"), company_size=None)
    assert not fires(fit("company_size", "is_empty"), company_size=0)


# --- gates, totals, threshold --------------------------------------------------------------


def test_total_adds_fit_and_behaviour_and_qualifies_at_the_threshold():
    d = definition(
        fit("industry", "equals", "Software", points=30, rule_id="f1"),
        fit("country", "equals", "US", points=-5, rule_id="f2"),
        {
            "id": "b1",
            "type": "behaviour",
            "label": "demo",
            "event_kind": "demo_request",
            "within_days": 7,
            "points": 25,
        },
        threshold=50,
    )
    facts = LeadFacts.of(industry="software", country="US", events=[("demo_request", NOW)])
    result = evaluate(facts, d, NOW)
    assert (result.fit, result.behaviour, result.total) == (25, 25, 50)
    assert result.passes_gates and result.qualifies
    assert [r.id for r in result.rules] == ["f1", "f2", "b1"]


def test_a_failed_gate_blocks_qualification_whatever_the_score():
    d = definition(
        fit("industry", "equals", "Software", points=100, rule_id="f1"),
        {
            "id": "g1",
            "type": "gate",
            "label": "Not a competitor",
            "field": "company",
            "op": "not_contains",
            "value": "rival",
        },
        {"id": "g2", "type": "gate", "label": "Has email", "field": "email", "op": "is_not_empty"},
        threshold=10,
    )
    result = evaluate(LeadFacts.of(industry="Software", company="Rival Inc", email="a@b.c"), d, NOW)
    assert result.total == 100
    assert not result.passes_gates and not result.qualifies
    assert [(g.id, g.passed) for g in result.gates] == [("g1", False), ("g2", True)]


def test_no_gates_means_the_gates_pass():
    result = evaluate(LeadFacts.of(), definition(threshold=0), NOW)
    assert result.passes_gates and result.qualifies and result.total == 0


def test_explanation_has_the_shape_the_pages_render():
    d = definition(
        fit("industry", "equals", "Software", points=30, rule_id="f1"),
        {"id": "g1", "type": "gate", "label": "US only", "field": "country", "op": "equals", "value": "US"},
        threshold=20,
        version=7,
    )
    explanation = evaluate(LeadFacts.of(industry="Software", country="US"), d, NOW).explanation()
    assert explanation == {
        "version": 7,
        "total": 30,
        "fit": 30,
        "behaviour": 0,
        "threshold": 20,
        "passes_gates": True,
        "qualifies": True,
        "gates": [{"id": "g1", "label": "US only", "passed": True}],
        "rules": [{"id": "f1", "label": "rule", "type": "fit", "points": 30}],
    }


# --- behaviour: windows, counts, decay, caps, rounding ---------------------------------------


def behaviour(**overrides):
    rule = {
        "id": "b1",
        "type": "behaviour",
        "label": "pricing",
        "event_kind": "pricing_page_view",
        "min_count": 1,
        "within_days": 1,
        "points": 10,
    }
    rule.update(overrides)
    return rule


def behaviour_points(rule, *ages, kind="pricing_page_view", now=NOW):
    facts = LeadFacts.of(events=[(kind, now - age) for age in ages])
    result = evaluate(facts, definition(rule), now)
    fired = [r for r in result.rules if r.id == "b1"]
    return fired[0].points if fired else None


@pytest.mark.parametrize(
    ("age", "counted"),
    [
        (datetime.timedelta(0), True),
        (datetime.timedelta(hours=23, minutes=59), True),
        (datetime.timedelta(hours=24) - datetime.timedelta(microseconds=1), True),
        (datetime.timedelta(hours=24), False),
        (datetime.timedelta(hours=24, minutes=1), False),
        (-datetime.timedelta(microseconds=1), False),  # in the future
    ],
)
def test_the_window_is_exactly_within_days_long_and_open_at_the_old_end(age, counted):
    assert behaviour_points(behaviour(), age) == (10 if counted else None)


def test_only_events_of_the_rules_kind_count():
    assert behaviour_points(behaviour(), datetime.timedelta(hours=1), kind="page_view") is None


def test_a_rule_fires_only_at_min_count_and_then_scores_every_event():
    rule = behaviour(min_count=3, within_days=7, points=5)
    hour = datetime.timedelta(hours=1)
    assert behaviour_points(rule, hour, hour) is None
    assert behaviour_points(rule, hour, hour, hour) == 15
    assert behaviour_points(rule, hour, hour, hour, hour) == 20


def test_cap_limits_the_rule_and_a_negative_rule_is_capped_below():
    hour = datetime.timedelta(hours=1)
    assert behaviour_points(behaviour(points=10, cap=25), hour, hour, hour) == 25
    assert behaviour_points(behaviour(points=-10, cap=25), hour, hour, hour) == -25
    assert behaviour_points(behaviour(points=10, cap=0), hour) == 0


def test_points_halve_every_half_life():
    rule = behaviour(points=40, within_days=30, half_life_days=2)
    assert behaviour_points(rule, datetime.timedelta(0)) == 40
    assert behaviour_points(rule, datetime.timedelta(days=2)) == 20
    assert behaviour_points(rule, datetime.timedelta(days=4)) == 10
    assert behaviour_points(rule, datetime.timedelta(days=2), datetime.timedelta(days=4)) == 30


def test_rounding_is_half_away_from_zero():
    rule = behaviour(points=5, within_days=30, half_life_days=1)
    assert behaviour_points(rule, datetime.timedelta(days=1)) == 3  # 2.5
    assert behaviour_points(behaviour(points=-5, within_days=30, half_life_days=1), datetime.timedelta(days=1)) == -3
    assert behaviour_points(rule, datetime.timedelta(days=2)) == 1  # 1.25
    # 1.5 days: 5 * 0.5 ** 1.5 = 1.7677... -> 2
    assert behaviour_points(rule, datetime.timedelta(days=1, hours=12)) == 2


def test_decayed_amounts_are_rounded_to_six_decimals_before_summing():
    # Two events at 1/3 half-life: 3 * 0.5 ** (1/3) = 2.381101577... each.
    rule = behaviour(points=3, within_days=30, half_life_days=3)
    day = datetime.timedelta(days=1)
    assert behaviour_points(rule, day, day) == 5  # 2.381102 + 2.381102 = 4.762204


def test_evaluate_refuses_a_naive_now():
    with pytest.raises(ValueError, match="aware"):
        evaluate(LeadFacts.of(), definition(), datetime.datetime(2025, 1, 1))


def test_every_negative_operator_is_the_negation_of_a_positive_one():
    from scoring.rules import OPERATORS, operator_split

    negatives = {op for op in OPERATORS if operator_split(op)[1]}
    assert negatives == {"not_equals", "not_one_of", "not_contains", "is_not_empty"}
    for op in OPERATORS:
        positive, negate = operator_split(op)
        assert positive in OPERATORS and not operator_split(positive)[1]
        assert negate == (op != positive)
