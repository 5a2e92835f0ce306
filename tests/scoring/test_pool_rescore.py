"""The whole-pool rescore: chunks score as one statement would, and no stale overwrite.

scoring.scoring.pool_rescore scores the pool in chunks of lead ids, each
restricted on every table it joins; the stored scores must be exactly those
computed for the whole pool at once. A chunk scores from its snapshot, so a lead
rescored incrementally meanwhile from newer events keeps that newer score.
"""

import datetime

import pytest

from leads.models import Lead, LeadScore
from scoring.rules import Definition
from scoring.scoring import active_definition, leads_rescore, pool_rescore, scores_fetch
from tests.factories import EngagementEventFactory, LeadFactory
from tests.scoring.test_promotion import NOW, activate, qualifying_lead

pytestmark = pytest.mark.django_db

DECAYING = [
    {"id": "fit-sw", "type": "fit", "label": "Software", "field": "industry", "op": "equals", "value": "Software",
     "points": 10},
    {"id": "pricing", "type": "behaviour", "label": "Pricing", "event_kind": "pricing_page_view", "within_days": 30,
     "points": 7, "cap": 40, "half_life_days": 5, "min_count": 2},
    {"id": "demo", "type": "behaviour", "label": "Demo", "event_kind": "demo_request", "within_days": 10,
     "points": 30},
]  # fmt: skip


def _stored() -> dict[int, tuple]:
    return {
        card.lead_id: (card.total, card.fit, card.behaviour, card.passes_gates, card.rule_points, card.gates_passed)
        for card in LeadScore.objects.all()
    }


def test_chunks_store_what_one_statement_over_the_pool_computes():
    activate(rules=DECAYING, threshold=1000)  # nobody qualifies: scores only
    leads = [LeadFactory(industry=industry) for industry in ("Software", "Retail") * 4]
    for n, lead in enumerate(leads):
        for days in range(n):  # 0..7 events each, some outside the windows
            kind = "pricing_page_view" if days % 3 else "demo_request"
            EngagementEventFactory(lead=lead, kind=kind, occurred_at=NOW - datetime.timedelta(days=days * 2.5))

    outcome = pool_rescore(now=NOW, chunk_size=3)

    assert outcome.changed == len(leads)
    direct = scores_fetch(definition=active_definition(), now=NOW)
    assert _stored() == {
        lead_id: (r["total"], r["fit"], r["behaviour"], r["passes_gates"], r["rule_points"], r["gates_passed"])
        for lead_id, r in direct.items()
    }
    assert any(row[2] > 0 for row in _stored().values())  # behaviour points were counted

    # A second run finds every stored score current and writes nothing.
    assert pool_rescore(now=NOW, chunk_size=3).changed == 0


def test_a_pool_run_does_not_replace_a_newer_incremental_score():
    activate()
    lead = LeadFactory(country="US", industry="Software")
    definition = active_definition()
    # The pool run took its snapshot at NOW; meanwhile a demo request arrived and
    # incremental rescoring scored the lead a minute later.
    later = NOW + datetime.timedelta(minutes=1)
    EngagementEventFactory(lead=lead, kind="demo_request", occurred_at=later)
    assert leads_rescore(definition=definition, now=later, lead_ids=[lead.id]) == 1
    assert Lead.objects.get(id=lead.id).score == 70

    # The pool run writing its older result (no demo yet, 40 points) changes nothing.
    assert leads_rescore(definition=definition, now=NOW, lead_ids=[lead.id]) == 0
    assert (Lead.objects.get(id=lead.id).score, LeadScore.objects.get(lead=lead).scored_at) == (70, later)


def test_a_newly_active_version_replaces_a_score_whatever_its_time():
    activate()
    lead = qualifying_lead()
    v1 = active_definition()
    later = NOW + datetime.timedelta(minutes=1)
    leads_rescore(definition=v1, now=later, lead_ids=[lead.id])
    v2 = Definition(version=2, threshold=v1.threshold, fit_rules=v1.fit_rules, gates=v1.gates)

    # Activation's pool run started (NOW) before that incremental score (later): v2 still wins.
    assert leads_rescore(definition=v2, now=NOW, lead_ids=[lead.id]) == 1
    card = LeadScore.objects.get(lead=lead)
    assert (card.version, card.total, card.scored_at) == (2, 40, NOW)
