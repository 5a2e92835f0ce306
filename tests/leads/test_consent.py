"""Consent (issue 14, point 5): do-not-email, do-not-call and unsubscribed on the lead, from the
API and imports with the time and source of each change; a gate can require contactability; the
brief shows the flags; a refused touch needs an explicit override, written to history."""

import datetime

import pytest
from django.urls import reverse

from leads.imports import CsvFile, Importer
from leads.models import HistoryAction, Lead, LeadHistory, Touch
from scoring.engine import LeadFacts, evaluate
from scoring.rules import Definition, rules_parse
from scoring.scoring import definition_for_version, facts_for_lead, scores_fetch
from tests.factories import make_queue_lead
from tests.scoring.definition_helpers import make_active

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2025, 3, 3, 10, 0, tzinfo=datetime.UTC)
CONTACTABLE_GATE = {"type": "gate", "field": "contactable", "op": "equals", "value": "yes", "label": "Contactable"}


def test_the_api_sets_consent_with_its_time_source_and_a_history_row(cast, api):
    client = api.as_user(cast.marketer)
    created = client.post(
        "/api/v1/leads/", {"email": "a@x.io", "do_not_email": True, "consent_source": "web form"}, format="json"
    )
    assert created.status_code == 201, created.json()
    lead = Lead.objects.get()
    assert (lead.do_not_email, lead.do_not_call, lead.consent_source) == (True, False, "web form")
    assert lead.consent_changed_at is not None
    row = LeadHistory.objects.get(lead=lead, action=HistoryAction.CONSENT_CHANGED)
    assert row.data == {"changes": {"do_not_email": {"old": False, "new": True}}, "source": "web form"}
    assert row.actor == cast.marketer

    # The same flag again changes nothing (no new row, no new time); a new flag does.
    before = lead.consent_changed_at
    assert client.post("/api/v1/leads/", {"email": "a@x.io", "do_not_email": True}, format="json").status_code == 200
    lead.refresh_from_db()
    assert lead.consent_changed_at == before
    assert client.post("/api/v1/leads/", {"email": "a@x.io", "unsubscribed": "yes"}, format="json").status_code == 200
    lead.refresh_from_db()
    assert lead.unsubscribed and lead.consent_source == "API"
    assert LeadHistory.objects.filter(lead=lead, action=HistoryAction.CONSENT_CHANGED).count() == 2
    detail = client.get(f"/api/v1/leads/{lead.pk}/").json()
    assert (detail["do_not_email"], detail["unsubscribed"], detail["consent_source"]) == (True, True, "API")


def test_a_bad_consent_value_is_a_400(cast, api):
    answer = api.as_user(cast.marketer).post(
        "/api/v1/leads/", {"email": "a@x.io", "do_not_call": "perhaps"}, format="json"
    )
    assert answer.status_code == 400 and "do_not_call" in answer.json()["fields"]


def test_an_import_sets_consent_from_a_do_not_email_column(cast):
    Lead.objects.create(email="old@x.io", created_at=NOW)
    text = "Email,Do Not Email\nold@x.io,Yes\nnew@x.io,No\nbad@x.io,Maybe\nyes@x.io,1\n"
    mapping = {"columns": {"Email": "email", "Do Not Email": "do_not_email"}}
    result = Importer(
        csv_file=CsvFile.from_bytes(text.encode()), mapping=mapping, actor=cast.marketer, now=NOW, job_id=7
    ).run()
    assert (result.created, result.updated, result.rejected) == (2, 1, 1)
    assert "“Maybe” is not yes or no" in result.rejections[0]["reason"]
    flagged = dict(Lead.objects.values_list("email", "do_not_email"))
    assert flagged == {"old@x.io": True, "new@x.io": False, "yes@x.io": True}
    changed = LeadHistory.objects.filter(action=HistoryAction.CONSENT_CHANGED)
    assert sorted(changed.values_list("lead__email", flat=True)) == ["old@x.io", "yes@x.io"]
    assert {row.data["source"] for row in changed} == {"import #7"}
    assert Lead.objects.get(email="old@x.io").consent_changed_at == NOW


def test_a_gate_can_require_contactability_in_the_engine_and_in_sql(cast):
    version = make_active(cast.marketer, cast.manager, rules=[CONTACTABLE_GATE], threshold=0)
    definition = definition_for_version(version)
    ok = Lead.objects.create(email="ok@x.io", created_at=NOW)
    no_call = Lead.objects.create(email="nc@x.io", created_at=NOW, do_not_call=True)
    unsub = Lead.objects.create(email="un@x.io", created_at=NOW, unsubscribed=True)
    sql = scores_fetch(definition=definition, now=NOW, lead_ids=[ok.pk, no_call.pk, unsub.pk])
    assert {lead.pk: sql[lead.pk]["qualifies"] for lead in (ok, no_call, unsub)} == {
        ok.pk: True,
        no_call.pk: False,
        unsub.pk: False,
    }
    for lead in (ok, no_call, unsub):
        assert evaluate(facts_for_lead(lead), definition, NOW).qualifies == sql[lead.pk]["qualifies"]


def test_a_consent_gate_takes_yes_or_no_only():
    with pytest.raises(Exception, match="give yes or no"):
        rules_parse([{**CONTACTABLE_GATE, "value": "maybe"}])
    gate = Definition.from_rules(version=1, threshold=0, rules=rules_parse([CONTACTABLE_GATE]))
    assert evaluate(LeadFacts.of(contactable=True), gate, NOW).passes_gates
    assert not evaluate(LeadFacts.of(contactable=False), gate, NOW).passes_gates


def test_the_brief_shows_consent_at_the_top_and_offers_the_override(cast, client):
    lead = make_queue_lead(rep=cast.rep)
    Lead.objects.filter(pk=lead.pk).update(do_not_call=True, consent_source="phone call", consent_changed_at=NOW)
    client.force_login(cast.rep)
    page = client.get(reverse("leads:brief", kwargs={"lead_id": lead.pk})).content.decode()
    assert 'data-testid="consent-do-not-call"' in page and "phone call" in page
    assert page.index('data-testid="consent-flags"') < page.index('data-testid="page-title"')
    assert 'data-testid="consent-override"' in page


def test_a_call_to_a_do_not_call_lead_is_refused_on_the_page_without_the_override(cast, client):
    lead = make_queue_lead(rep=cast.rep)
    Lead.objects.filter(pk=lead.pk).update(do_not_call=True)
    client.force_login(cast.rep)
    url = reverse("leads:touch_log", kwargs={"lead_id": lead.pk})
    refused = client.post(url, {"kind": "call", "outcome": "connected"})
    assert refused.status_code == 400
    assert "asked not to be called" in refused.content.decode()
    assert not Touch.objects.exists()
    # An email is fine: only calls are refused.
    assert client.post(url, {"kind": "email", "outcome": "sent"}).status_code == 302
    done = client.post(
        url, {"kind": "call", "outcome": "connected", "consent_override": "on", "override_reason": "called us"}
    )
    assert done.status_code == 302
    assert Touch.objects.filter(kind="call").count() == 1
    row = LeadHistory.objects.get(lead=lead, action=HistoryAction.CONSENT_OVERRIDDEN)
    assert row.actor == cast.rep and row.data == {"kind": "call", "flag": "do_not_call", "reason": "called us"}


def test_an_email_to_a_do_not_email_lead_is_a_400_on_the_api_without_the_override(cast, api):
    lead = make_queue_lead(rep=cast.rep)
    Lead.objects.filter(pk=lead.pk).update(do_not_email=True)
    url = reverse("api-lead-touches", kwargs={"lead_id": lead.pk})
    client = api.as_user(cast.rep)
    refused = client.post(url, {"kind": "email", "outcome": "sent"}, format="json")
    assert refused.status_code == 400
    assert "asked not to be emailed" in refused.json()["fields"]["kind"][0]
    assert not LeadHistory.objects.filter(lead=lead, action=HistoryAction.CONSENT_OVERRIDDEN).exists()
    done = client.post(url, {"kind": "email", "outcome": "sent", "consent_override": True}, format="json")
    assert done.status_code == 201
    assert LeadHistory.objects.filter(lead=lead, action=HistoryAction.CONSENT_OVERRIDDEN).count() == 1
