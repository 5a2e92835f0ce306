"""Stages: contacted → working → opportunity → won, or lost, each change in the history."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from leadhandoff.api import ApplicationError, ConflictError
from leads.models import HistoryAction, LeadHistory, Status, TouchKind
from leads.queue.services import lead_stage_change, touch_log
from tests.factories import make_queue_lead

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def hours(n: float) -> datetime.datetime:
    return T0 + datetime.timedelta(hours=n)


def contacted_lead(cast, **kwargs):
    lead = make_queue_lead(rep=cast.rep, at=T0, **kwargs)
    touch_log(user=cast.rep, lead_id=lead.pk, kind=TouchKind.CALL, now=hours(1))
    return lead


def test_a_lead_moves_forward_to_won_with_each_change_in_the_history(cast):
    lead = contacted_lead(cast)

    lead_stage_change(user=cast.rep, lead_id=lead.pk, to_status=Status.WORKING, now=hours(2))
    lead_stage_change(
        user=cast.rep, lead_id=lead.pk, to_status=Status.OPPORTUNITY, value=Decimal("12000"), now=hours(30)
    )
    lead_stage_change(user=cast.rep, lead_id=lead.pk, to_status=Status.WON, now=hours(100))

    lead.refresh_from_db()
    assert lead.status == Status.WON
    assert lead.deal_value == Decimal("12000.00")
    assert lead.closed_at == hours(100)
    changes = list(
        LeadHistory.objects.filter(lead=lead, action=HistoryAction.STATUS_CHANGED)
        .order_by("created_at")
        .values_list("old_value", "new_value", "created_at")
    )
    assert changes == [
        ("assigned", "contacted", hours(1)),
        ("contacted", "working", hours(2)),
        ("working", "opportunity", hours(30)),
        ("opportunity", "won", hours(100)),
    ]
    # The cycle is measurable: promotion/assignment to close.
    assert lead.closed_at - lead.assigned_at == datetime.timedelta(hours=100)
    value_row = LeadHistory.objects.get(lead=lead, action=HistoryAction.UPDATED, field="deal_value")
    assert value_row.new_value == "12000.00"


def test_won_needs_a_value(cast):
    lead = contacted_lead(cast)
    with pytest.raises(ApplicationError) as error:
        lead_stage_change(user=cast.rep, lead_id=lead.pk, to_status=Status.WON, now=hours(2))
    assert "value" in error.value.fields
    lead_stage_change(user=cast.rep, lead_id=lead.pk, to_status=Status.WON, value=Decimal("500"), now=hours(3))
    lead.refresh_from_db()
    assert (lead.status, lead.deal_value) == (Status.WON, Decimal("500.00"))


def test_an_opportunity_needs_a_value(cast):
    lead = contacted_lead(cast)
    with pytest.raises(ApplicationError) as error:
        lead_stage_change(user=cast.rep, lead_id=lead.pk, to_status=Status.OPPORTUNITY, now=hours(2))
    assert "value" in error.value.fields


def test_an_uncontacted_lead_cannot_skip_to_working_or_won(cast):
    lead = make_queue_lead(rep=cast.rep, at=T0)
    for target, value in ((Status.WORKING, None), (Status.WON, Decimal("10")), (Status.CONTACTED, None)):
        with pytest.raises(ApplicationError, match="Log the first contact"):
            lead_stage_change(user=cast.rep, lead_id=lead.pk, to_status=target, value=value, now=hours(1))
    lead.refresh_from_db()
    assert lead.status == Status.ASSIGNED
    assert not LeadHistory.objects.filter(lead=lead).exists()


def test_stages_do_not_move_backwards(cast):
    lead = contacted_lead(cast)
    lead_stage_change(user=cast.rep, lead_id=lead.pk, to_status=Status.OPPORTUNITY, value=Decimal("1"), now=hours(2))
    with pytest.raises(ApplicationError, match="cannot move back from opportunity to working"):
        lead_stage_change(user=cast.rep, lead_id=lead.pk, to_status=Status.WORKING, now=hours(3))


def test_lost_is_allowed_from_any_open_stage_and_needs_a_reason(cast):
    lead = make_queue_lead(rep=cast.rep, at=T0)
    with pytest.raises(ApplicationError) as error:
        lead_stage_change(user=cast.rep, lead_id=lead.pk, to_status=Status.LOST, now=hours(1))
    assert "reason" in error.value.fields

    lead_stage_change(user=cast.rep, lead_id=lead.pk, to_status=Status.LOST, reason="Went with a rival", now=hours(1))

    lead.refresh_from_db()
    assert lead.status == Status.LOST
    assert lead.lost_reason == "Went with a rival"
    assert lead.closed_at == hours(1)
    # A closed lead's first-contact clock stops: the SLA sweeps must not breach it.
    assert lead.sla_due_at is None
    row = LeadHistory.objects.get(lead=lead, action=HistoryAction.STATUS_CHANGED)
    assert (row.old_value, row.new_value, row.note) == ("assigned", "lost", "Went with a rival")


def test_a_closed_lead_stays_closed(cast):
    lead = contacted_lead(cast)
    lead_stage_change(user=cast.rep, lead_id=lead.pk, to_status=Status.WON, value=Decimal("9"), now=hours(2))
    with pytest.raises(ApplicationError, match="already closed"):
        lead_stage_change(user=cast.rep, lead_id=lead.pk, to_status=Status.LOST, reason="x", now=hours(3))


def test_moving_to_the_current_stage_is_refused(cast):
    lead = contacted_lead(cast)
    with pytest.raises(ApplicationError, match="already contacted"):
        lead_stage_change(user=cast.rep, lead_id=lead.pk, to_status=Status.CONTACTED, now=hours(2))


def test_a_stage_change_against_a_stale_page_is_a_conflict(cast):
    lead = contacted_lead(cast)
    with pytest.raises(ConflictError, match="moved to contacted meanwhile"):
        lead_stage_change(
            user=cast.rep, lead_id=lead.pk, to_status=Status.WORKING, expected_status=Status.ASSIGNED, now=hours(2)
        )


def test_the_page_moves_a_stage_and_shows_errors_on_the_form(cast, client):
    lead = contacted_lead(cast)
    client.force_login(cast.rep)
    url = reverse("leads:stage_change", kwargs={"lead_id": lead.pk})

    refused = client.post(url, {"status": "won", "expected_status": "contacted"})
    assert refused.status_code == 400
    assert "Enter the value won." in refused.content.decode()

    done = client.post(url, {"status": "won", "value": "2500", "expected_status": "contacted"}, follow=True)
    assert "Moved to won." in done.content.decode()
    lead.refresh_from_db()
    assert lead.status == Status.WON and lead.deal_value == Decimal("2500.00")


def test_the_page_reports_a_stale_stage_as_a_warning(cast, client):
    lead = contacted_lead(cast)
    client.force_login(cast.rep)
    response = client.post(
        reverse("leads:stage_change", kwargs={"lead_id": lead.pk}),
        {"status": "working", "expected_status": "assigned"},
        follow=True,
    )
    assert "meanwhile" in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == Status.CONTACTED


def test_the_api_changes_stages_with_clear_errors(cast, api):
    lead = contacted_lead(cast)
    client = api.as_user(cast.rep)
    url = reverse("api-lead-stage", kwargs={"lead_id": lead.pk})

    refused = client.post(url, {"status": "opportunity"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["fields"]["value"] == ["Enter the opportunity's value."]

    moved = client.post(url, {"status": "opportunity", "value": "4000.50"}, format="json")
    assert moved.status_code == 200
    assert moved.json()["status"] == "opportunity" and moved.json()["deal_value"] == "4000.50"

    stale = client.post(url, {"status": "won", "expected_status": "working"}, format="json")
    assert stale.status_code == 409

    unknown = client.post(url, {"status": "nurture"}, format="json")
    assert unknown.status_code == 400 and "status" in unknown.json()["fields"]


def test_a_manager_reads_but_does_not_work_a_lead(cast, api):
    lead = contacted_lead(cast)
    response = api.as_user(cast.manager).post(
        reverse("api-lead-stage", kwargs={"lead_id": lead.pk}), {"status": "working"}, format="json"
    )
    assert response.status_code == 403
