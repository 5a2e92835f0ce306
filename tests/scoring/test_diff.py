"""Comparing two versions rule by rule: a readable diff (scoring.services.definition_diff)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from scoring import services
from scoring.services import definition_diff
from tests.scoring.definition_helpers import (
    BEHAVIOUR_DEMO,
    FIT_BIG_COMPANY,
    FIT_SOFTWARE,
    GATE_BUSINESS_EMAIL,
    make_active,
    make_draft,
)


def snapshot(*rules, threshold=50, title=""):
    return {"title": title, "threshold": threshold, "rules": [dict(r) for r in rules]}


def test_identical_definitions_have_no_differences():
    assert definition_diff(snapshot(FIT_SOFTWARE), snapshot(FIT_SOFTWARE)) == []


def test_a_changed_rule_lists_each_changed_field_before_and_after():
    after = dict(FIT_BIG_COMPANY, points=45, value=250)
    [change] = definition_diff(snapshot(FIT_BIG_COMPANY), snapshot(after))
    assert (change["change"], change["what"], change["rule_type"]) == ("changed", "rule", "fit")
    assert [(f["field"], f["before"], f["after"]) for f in change["fields"]] == [
        ("value", 100, 250),
        ("points", 30, 45),
    ]
    assert change["text"] == "Fit rule “Company over 100 people” changed: value 100 → 250; points 30 → 45"


def test_added_and_removed_rules_are_named_with_a_readable_description():
    changes = definition_diff(snapshot(FIT_SOFTWARE, BEHAVIOUR_DEMO), snapshot(FIT_SOFTWARE, GATE_BUSINESS_EMAIL))
    assert [(c["change"], c["rule_type"]) for c in changes] == [("added", "gate"), ("removed", "behaviour")]
    assert (
        changes[0]["text"] == "Gate “Business email” added: must pass: email domain is not one of gmail.com, yahoo.com"
    )
    assert changes[1]["text"] == (
        "Behaviour rule “Asked for a demo” removed: demo request at least 1× within 30 days: +40 each, cap 40"
    )


def test_threshold_and_title_changes_are_listed_first():
    changes = definition_diff(snapshot(FIT_SOFTWARE, title="A"), snapshot(FIT_SOFTWARE, threshold=65, title="B"))
    assert [c["text"] for c in changes] == ["Title: “A” → “B”", "Threshold: 50 → 65"]


def test_rules_without_shared_ids_are_matched_by_what_they_test():
    rewritten = dict(FIT_SOFTWARE, id="other-id", points=25)
    same_content = dict(FIT_BIG_COMPANY, id="another-id")
    changes = definition_diff(snapshot(FIT_SOFTWARE, FIT_BIG_COMPANY), snapshot(rewritten, same_content))
    [change] = changes
    assert change["change"] == "changed"
    assert [(f["field"], f["before"], f["after"]) for f in change["fields"]] == [("points", 20, 25)]


def test_operator_and_event_kind_changes_read_in_words():
    before = dict(BEHAVIOUR_DEMO)
    after = dict(BEHAVIOUR_DEMO, event_kind="pricing_page_view", half_life_days=14.0)
    [change] = definition_diff(snapshot(before), snapshot(after))
    assert "event demo request → pricing page view" in change["text"]
    assert "half-life (days) – → 14" in change["text"]
    [op_change] = definition_diff(snapshot(FIT_SOFTWARE), snapshot(dict(FIT_SOFTWARE, op="contains")))
    assert "operator equals → contains" in op_change["text"]


@pytest.mark.django_db
def test_a_copy_differs_from_its_original_only_by_what_was_edited(cast):
    original = make_active(cast.marketer, cast.rep)
    copy = services.version_copy_as_draft(version=original, actor=cast.marketer, now=timezone.now())
    assert definition_diff(original, copy) == []
    rules = [dict(r, points=10) if r["id"] == "fit-size" else r for r in copy.rules]
    copy = services.definition_update(
        version=copy, rules=rules, threshold=60, title="", revision=1, actor=cast.marketer, now=timezone.now()
    )
    assert [c["text"] for c in definition_diff(original, copy)] == [
        "Threshold: 50 → 60",
        "Fit rule “Company over 100 people” changed: points 30 → 10",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["marketer", "rep", "manager", "admin"])
def test_the_diff_page_shows_the_changes_to_every_role(client, cast, role):
    first = make_draft(cast.marketer, rules=[dict(FIT_SOFTWARE)])
    second = make_draft(cast.marketer, rules=[dict(FIT_SOFTWARE, points=35), dict(GATE_BUSINESS_EMAIL)], threshold=70)
    client.force_login(getattr(cast, role))
    response = client.get(reverse("scoring:version_diff", args=[second.pk, first.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Changes from v1 to v2" in html
    assert html.count('data-testid="diff-item"') == 3
    assert "<del>20</del>" in html and "35" in html
    assert 'data-change="added"' in html


@pytest.mark.django_db
def test_the_diff_api_returns_the_same_changes(api, cast):
    first = make_draft(cast.marketer, rules=[dict(FIT_SOFTWARE)])
    second = make_draft(cast.marketer, rules=[dict(FIT_SOFTWARE, points=35)])
    response = api.as_user(cast.rep).get(reverse("api-definition-version-diff", args=[second.pk, first.pk]))
    assert response.status_code == 200
    body = response.json()
    assert (body["from_version"], body["to_version"]) == (1, 2)
    assert body["changes"] == definition_diff(first, second)
