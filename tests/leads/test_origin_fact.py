"""A lead's origin and rep-source channel are facts of its creation.

Intake and the import refuse to change them (a marketing upsert once turned a
won rep-sourced lead into a marketing lead, falsifying the comparison); sending
the same value is fine; an admin corrects them in the admin, with a history row.
"""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leadhandoff.api import ApplicationError
from leads.imports import CsvFile, Importer
from leads.intake.services import lead_upsert
from leads.models import HistoryAction, Lead, LeadHistory, Origin, RepSourceChannel, Status
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2025, 3, 3, 10, 0, tzinfo=datetime.UTC)
URL = "/api/v1/leads/"


@pytest.fixture
def won_rep_lead(cast):
    return LeadFactory(
        email="deal@acme.com",
        external_id="crm-1",
        status=Status.WON,
        origin=Origin.REP_SOURCED,
        rep_source_channel=RepSourceChannel.REFERRAL,
        owner=cast.rep,
        team=cast.team,
    )


def test_an_upsert_cannot_turn_a_rep_sourced_lead_into_a_marketing_lead(api, cast, won_rep_lead):
    response = api.as_user(cast.marketer).post(URL, {"email": "deal@acme.com", "origin": "marketing"}, "json")
    assert response.status_code == 400
    assert "cannot be changed" in response.json()["fields"]["origin"][0]
    won_rep_lead.refresh_from_db()
    assert won_rep_lead.origin == Origin.REP_SOURCED
    assert not LeadHistory.objects.filter(lead=won_rep_lead).exists()


def test_an_upsert_cannot_change_the_rep_source_channel(api, cast, won_rep_lead):
    for channel in ("cold_call", ""):
        response = api.as_user(cast.marketer).post(
            URL, {"external_id": "crm-1", "rep_source_channel": channel, "title": "CEO"}, "json"
        )
        assert response.status_code == 400
        assert list(response.json()["fields"]) == ["rep_source_channel"]
    won_rep_lead.refresh_from_db()
    assert (won_rep_lead.rep_source_channel, won_rep_lead.title) == (RepSourceChannel.REFERRAL, "")


def test_sending_the_same_origin_again_is_fine(api, cast, won_rep_lead):
    response = api.as_user(cast.marketer).post(
        URL,
        {"email": "deal@acme.com", "origin": "rep_sourced", "rep_source_channel": "referral", "title": "CEO"},
        "json",
    )
    assert response.status_code == 200
    won_rep_lead.refresh_from_db()
    assert (won_rep_lead.origin, won_rep_lead.title) == (Origin.REP_SOURCED, "CEO")


def test_a_new_lead_takes_the_origin_it_is_created_with(cast):
    lead, created = lead_upsert(
        data={"email": "new@acme.com", "origin": "rep_sourced", "rep_source_channel": "event"}, actor=None, now=NOW
    )
    assert created and (lead.origin, lead.rep_source_channel) == (Origin.REP_SOURCED, RepSourceChannel.EVENT)
    with pytest.raises(ApplicationError) as exc:
        lead_upsert(data={"email": "new@acme.com", "origin": "marketing"}, actor=None, now=NOW)
    assert list(exc.value.fields) == ["origin"]


def run_import(text: str, mapping: dict):
    return Importer(csv_file=CsvFile.from_bytes(text.encode()), mapping=mapping, actor=None, now=NOW).run()


def test_an_import_row_that_changes_the_origin_is_rejected_with_the_reason(won_rep_lead):
    LeadFactory(email="other@acme.com", origin=Origin.MARKETING)
    mapping = {"columns": {"email": "email", "origin": "origin", "title": "title"}}
    result = run_import("email,origin,title\ndeal@acme.com,marketing,CEO\nother@acme.com,marketing,CTO\n", mapping)
    assert (result.updated, result.rejected) == (1, 1)
    rejection = result.rejections[0]
    assert (rejection["line"], rejection["key"]) == (2, "deal@acme.com")
    assert "origin is set when a lead is created" in rejection["reason"]
    won_rep_lead.refresh_from_db()
    assert (won_rep_lead.origin, won_rep_lead.title) == (Origin.REP_SOURCED, "")
    assert Lead.objects.get(email="other@acme.com").title == "CTO"


def test_an_import_row_that_changes_the_channel_is_rejected_and_the_same_one_passes(won_rep_lead):
    mapping = {"columns": {"email": "email", "channel": "rep_source_channel"}}
    assert "rep source channel" in run_import("email,channel\ndeal@acme.com,event\n", mapping).rejections[0]["reason"]
    result = run_import("email,channel\ndeal@acme.com,referral\n", mapping)
    assert (result.updated + result.created, result.rejected) in ((1, 0), (0, 0))


def test_an_admin_corrects_the_origin_with_a_history_row(cast, won_rep_lead):
    client = Client()
    client.force_login(cast.admin)
    url = reverse("admin:leads_lead_change", args=[won_rep_lead.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data.update(origin="marketing", rep_source_channel="", attributes="{}", promotion_explanation="{}")
    data["created_at_0"], data["created_at_1"] = won_rep_lead.created_at.strftime("%Y-%m-%d %H:%M:%S").split()
    for name in (
        "assigned_at",
        "promoted_at",
        "sla_due_at",
        "first_contact_at",
        "closed_at",
        "last_activity_at",
        "rejected_at",
    ):
        value = getattr(won_rep_lead, name)
        data[f"{name}_0"], data[f"{name}_1"] = value.strftime("%Y-%m-%d %H:%M:%S").split() if value else ("", "")
    data = {
        k: v
        for k, v in data.items()
        if k
        not in (
            "created_at",
            "assigned_at",
            "promoted_at",
            "sla_due_at",
            "first_contact_at",
            "closed_at",
            "last_activity_at",
            "rejected_at",
        )
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    won_rep_lead.refresh_from_db()
    assert (won_rep_lead.origin, won_rep_lead.rep_source_channel) == (Origin.MARKETING, "")
    rows = LeadHistory.objects.filter(lead=won_rep_lead).order_by("field")
    assert [(r.action, r.field, r.old_value, r.new_value, r.actor_id) for r in rows] == [
        (HistoryAction.UPDATED, "origin", "rep_sourced", "marketing", cast.admin.pk),
        (HistoryAction.UPDATED, "rep_source_channel", "referral", "", cast.admin.pk),
    ]
    assert timezone.now() - rows[0].created_at < datetime.timedelta(minutes=1)
