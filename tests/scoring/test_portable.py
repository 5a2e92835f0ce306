"""The demo's SQLite path (scoring.portable) gives what the PostgreSQL path gives.

Both run here on PostgreSQL: the portable functions are plain ORM, so the same
leads scored and promoted either way must end up identical.
"""

import datetime

import pytest

from leads.models import HistoryAction, Lead, LeadHistory, LeadScore, Status
from scoring import portable
from scoring.scoring import active_definition, leads_rescore
from tests.factories import EngagementEventFactory, LeadFactory, TeamFactory
from tests.scoring.test_promotion import NOW, activate, qualifying_lead

pytestmark = pytest.mark.django_db

SCORED = ("score", "fit_score", "behaviour_score", "passes_gates", "score_explanation", "scored_version")


def _leads_in_variety():
    leads = [qualifying_lead(), qualifying_lead(country="FR"), LeadFactory(industry="Retail", country="US")]
    old = LeadFactory(country="US")
    EngagementEventFactory(lead=old, kind="demo_request", occurred_at=NOW - datetime.timedelta(days=45))
    return [*leads, old]


def test_portable_rescoring_stores_the_same_scores_as_sql():
    activate(number=2)
    leads = _leads_in_variety()
    definition = active_definition()

    assert portable.leads_rescore(definition=definition, now=NOW) == len(leads)
    ids = [x.id for x in leads]
    by_engine = {lead.id: [getattr(lead, f) for f in SCORED] for lead in Lead.objects.filter(id__in=ids)}
    assert all(scored[-1] == 2 for scored in by_engine.values())
    LeadScore.objects.all().delete()
    leads_rescore(definition=definition, now=NOW)
    for lead in Lead.objects.filter(id__in=[x.id for x in leads]):
        assert [getattr(lead, f) for f in SCORED] == by_engine[lead.id]
    # Nothing moved, so a second run writes nothing.
    assert portable.leads_rescore(definition=definition, now=NOW) == 0


def test_portable_rescoring_reaches_every_lead_across_chunks(monkeypatch):
    monkeypatch.setattr(portable, "CHUNK", 1)  # a chunk per lead
    activate(number=2)
    leads = _leads_in_variety()

    assert portable.leads_rescore(definition=active_definition(), now=NOW) == len(leads)
    assert set(LeadScore.objects.values_list("lead_id", flat=True)) == {lead.id for lead in leads}


def test_portable_promotion_is_exactly_once_and_routed():
    activate(number=3)
    TeamFactory(name="Fallback", is_fallback=True)
    good, *others = _leads_in_variety()
    definition = active_definition()
    portable.leads_rescore(definition=definition, now=NOW)

    assert portable.leads_promote(definition=definition, now=NOW) == [good.id]
    assert portable.leads_promote(definition=definition, now=NOW) == []
    good.refresh_from_db()
    assert (good.status, good.promoted_version, good.promoted_at) == (Status.QUEUED, 3, NOW)
    assert good.team is not None  # handed to routing: the fallback team's queue
    assert LeadHistory.objects.filter(lead=good, action=HistoryAction.PROMOTED).count() == 1
    assert all(Lead.objects.get(id=lead.id).status == Status.NURTURE for lead in others)


def test_portable_claim_clears_the_flag_of_the_leads_it_returns():
    leads = [LeadFactory(needs_rescore=True) for _ in range(3)]
    LeadFactory(needs_rescore=False)
    assert portable.dirty_leads_claim(limit=2) == [leads[0].id, leads[1].id]
    assert list(Lead.objects.filter(needs_rescore=True).values_list("id", flat=True)) == [leads[2].id]
