"""Rejections that argue the next definition: per version, rejections by reason and each rule's
share among rejected against accepted promotions, against an independent computation over the
history rows; on the version page and in a proposal's preview; rounded for sales."""

from __future__ import annotations

import datetime
import random

import pytest
from django.urls import reverse

from leads.models import LeadHistory
from scoring.rejections import rejections_compute, rejections_for_user
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

RULES = [("r1", "Title is VP"), ("r2", "Industry is Software"), ("r3", "Demo request"), ("r4", "Webinar")]
REASONS = ["not_a_fit", "too_early", "no_budget", ""]


def _promote(lead, at, version, fired):
    rules = [{"id": i, "label": label, "type": "fit", "points": 10} for i, label in fired]
    LeadHistory.objects.create(
        lead=lead,
        action="promoted",
        data={"version": version, "score": 70, "threshold": 60, "explanation": {"rules": rules}},
        created_at=at,
    )


def _random_history(seed):
    rng = random.Random(seed)
    base = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    for _ in range(120):
        lead = LeadFactory()
        at = base + datetime.timedelta(hours=rng.uniform(0, 2000))
        for _ in range(rng.choice([1, 1, 1, 2])):  # some leads promoted again after a rejection
            version = rng.choice([1, 2, 2])
            # Rule r1 fires mostly on leads that get rejected: the one to tighten.
            reject = rng.random() < 0.35
            fired = [r for r in RULES if rng.random() < (0.8 if reject and r[0] == "r1" else 0.4)]
            _promote(lead, at, version, fired)
            at += datetime.timedelta(hours=rng.uniform(1, 100))
            if reject:
                LeadHistory.objects.create(
                    lead=lead,
                    action="rejected",
                    data={"reason": rng.choice(REASONS), "version": version},
                    created_at=at,
                )
                at += datetime.timedelta(hours=rng.uniform(1, 100))


def _expected(version):
    promotions = list(LeadHistory.objects.filter(action="promoted").order_by("created_at", "id"))
    rejections = list(LeadHistory.objects.filter(action="rejected").order_by("created_at", "id"))
    rejected = accepted = 0
    reasons, per_rule = {}, {}
    for p in promotions:
        if p.data["version"] != version:
            continue
        later = [q.created_at for q in promotions if q.lead_id == p.lead_id and q.created_at > p.created_at]
        until = min(later) if later else None
        hit = [
            r
            for r in rejections
            if r.lead_id == p.lead_id and r.created_at >= p.created_at and (until is None or r.created_at < until)
        ]
        side = "rejected" if hit else "accepted"
        if hit:
            rejected += 1
            reason = hit[0].data["reason"] or "other"
            reasons[reason] = reasons.get(reason, 0) + 1
        else:
            accepted += 1
        for rule in p.data["explanation"]["rules"]:
            per_rule.setdefault(rule["id"], {"rejected": 0, "accepted": 0})[side] += 1
    return rejected, accepted, reasons, per_rule


@pytest.mark.parametrize("seed", [1, 2])
def test_rejections_per_rule_equal_an_independent_computation(db, seed):
    _random_history(seed)
    for version in (1, 2):
        data = rejections_compute(version=version)
        rejected, accepted, reasons, per_rule = _expected(version)
        assert (data["rejected"], data["accepted"], data["by_reason"]) == (rejected, accepted, reasons)
        got = {r["id"]: {"rejected": r["rejected"], "accepted": r["accepted"]} for r in data["rules"]}
        assert got == per_rule
        for r in data["rules"]:
            assert r["rejected_share"] == pytest.approx(per_rule[r["id"]]["rejected"] / rejected)
            assert r["accepted_share"] == pytest.approx(per_rule[r["id"]]["accepted"] / accepted)
    assert rejections_compute(version=2)["rules"][0]["id"] == "r1"  # the over-represented rule first


def test_sales_see_rejected_counts_rounded_and_nothing_below_the_minimum_group(cast):
    lead = LeadFactory()
    at = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    _promote(lead, at, 1, [RULES[0]])
    LeadHistory.objects.create(
        lead=lead, action="rejected", data={"reason": "not_a_fit"}, created_at=at + datetime.timedelta(hours=1)
    )
    exact = rejections_for_user(version=1, user=cast.marketer)
    assert (exact["rejected"], exact["by_reason"], exact["rules"][0]["rejected"]) == (1, {"not_a_fit": 1}, 1)
    for user in (cast.rep, cast.manager):
        shown = rejections_for_user(version=1, user=user)
        assert shown["rejected"] is None and shown["by_reason"] == {"not_a_fit": None}
        assert shown["rules"][0]["rejected"] is None and shown["rules"][0]["rejected_share"] is None


def test_the_version_page_shows_rejections_per_rule(cast, client):
    from tests.factories import ActiveDefinitionFactory

    version = ActiveDefinitionFactory(number=1)
    _random_history(3)
    client.force_login(cast.marketer)
    page = client.get(reverse("scoring:version_detail", args=[version.pk]))
    assert page.status_code == 200
    data = page.context["rejections"]
    assert data == rejections_compute(version=1)
    assert b'data-testid="rejections-per-rule"' in page.content
    client.force_login(cast.manager)
    page = client.get(reverse("scoring:version_detail", args=[version.pk]))
    assert page.context["rejections"]["rounded"] is True


def test_a_proposals_preview_shows_what_sales_rejected_of_the_active_versions_leads(cast, client):
    from scoring import services
    from scoring.preview import preview_build
    from tests.scoring.definition_helpers import make_active, make_proposed
    from tests.scoring.test_preview import ACTIVE_RULES, NOW, PROPOSED_RULES

    active = make_active(cast.marketer, cast.rep, rules=ACTIVE_RULES, threshold=50)
    proposed = make_proposed(cast.marketer, rules=PROPOSED_RULES, threshold=50)
    at = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    for i in range(12):
        lead = LeadFactory()
        _promote(lead, at, active.number, [("soft", "Industry is Software")])
        if i < 11:
            LeadHistory.objects.create(
                lead=lead, action="rejected", data={"reason": "not_a_fit"}, created_at=at + datetime.timedelta(hours=1)
            )
    requested = services.preview_request(version=proposed, actor=cast.marketer, now=NOW)
    preview_build(preview_id=requested.pk, now=NOW)
    url = reverse("scoring:preview_status", args=[requested.pk])
    client.force_login(cast.marketer)
    panel = client.get(url).content.decode()
    assert f'data-testid="rejections" data-version="{active.number}"' in panel
    assert 'data-testid="rejected-count">11<' in panel and 'data-rule="soft"' in panel
    client.force_login(cast.manager)
    panel = client.get(url).content.decode()
    assert 'data-testid="rejected-count">10<' in panel  # 11 rejected leads, back in the pool: rounded for sales


def test_the_definition_page_and_the_api_serve_the_same_figures(cast, client, api):
    from tests.factories import ActiveDefinitionFactory

    version = ActiveDefinitionFactory(number=1)
    _random_history(4)
    client.force_login(cast.marketer)
    page = client.get(reverse("scoring:definition"))
    assert page.context["rejections"] == rejections_compute(version=1)
    assert b'data-testid="rejections-per-rule"' in page.content
    url = reverse("api-definition-version-rejections", args=[version.pk])
    body = api.as_user(cast.marketer).get(url).json()
    exact = rejections_compute(version=1)
    assert (body["rejected"], body["accepted"], body["by_reason"]) == (
        exact["rejected"],
        exact["accepted"],
        exact["by_reason"],
    )
    rounded = api.as_user(cast.manager).get(url).json()
    assert (
        rounded["rounded"] is True
        and rounded["rejected"] == rejections_for_user(version=1, user=cast.manager)["rejected"]
    )
