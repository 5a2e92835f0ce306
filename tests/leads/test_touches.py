"""Touches: logging contact with a lead, and the first contact that stops the clock."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from leadhandoff.api import ApplicationError
from leads.models import HistoryAction, LeadHistory, Status, Touch, TouchKind, TouchOutcome
from leads.queue.services import NotInQueueError, touch_log
from tests.factories import make_queue_lead

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def test_first_call_records_first_contact_stops_the_clock_and_moves_to_contacted(cast):
    lead = make_queue_lead(rep=cast.rep, at=T0)
    now = T0 + datetime.timedelta(hours=3)

    touch = touch_log(user=cast.rep, lead_id=lead.pk, kind=TouchKind.CALL, outcome=TouchOutcome.CONNECTED, now=now)

    lead.refresh_from_db()
    assert touch.rep == cast.rep and touch.occurred_at == now
    assert lead.first_contact_at == now
    assert lead.sla_due_at is None
    assert lead.status == Status.CONTACTED
    assert lead.touch_count == 1
    assert lead.last_activity_at == now
    actions = list(LeadHistory.objects.filter(lead=lead).values_list("action", "field", "old_value", "new_value"))
    assert (HistoryAction.FIRST_CONTACT, "first_contact_at", "", now.isoformat()) in actions
    assert (HistoryAction.STATUS_CHANGED, "status", "assigned", "contacted") in actions
    first = LeadHistory.objects.get(lead=lead, action=HistoryAction.FIRST_CONTACT)
    assert first.data["within_sla"] is True and first.actor == cast.rep


def test_a_note_is_not_a_contact_attempt(cast):
    lead = make_queue_lead(rep=cast.rep, at=T0)

    touch_log(user=cast.rep, lead_id=lead.pk, kind=TouchKind.NOTE, notes="Researched on LinkedIn", now=T0)

    lead.refresh_from_db()
    assert lead.first_contact_at is None
    assert lead.sla_due_at == T0 + datetime.timedelta(hours=24)
    assert lead.status == Status.ASSIGNED
    assert lead.touch_count == 1
    assert not LeadHistory.objects.filter(lead=lead, action=HistoryAction.FIRST_CONTACT).exists()


@pytest.mark.parametrize("kind", [TouchKind.CALL, TouchKind.EMAIL, TouchKind.MEETING, TouchKind.SOCIAL])
def test_every_contact_attempt_kind_counts_as_first_contact(cast, kind):
    lead = make_queue_lead(rep=cast.rep, at=T0)
    touch_log(user=cast.rep, lead_id=lead.pk, kind=kind, now=T0 + datetime.timedelta(minutes=5))
    lead.refresh_from_db()
    assert lead.status == Status.CONTACTED and lead.sla_due_at is None


def test_later_touches_count_but_keep_the_first_contact_time(cast):
    lead = make_queue_lead(rep=cast.rep, at=T0)
    first = T0 + datetime.timedelta(hours=1)
    touch_log(user=cast.rep, lead_id=lead.pk, kind=TouchKind.CALL, now=first)
    touch_log(user=cast.rep, lead_id=lead.pk, kind=TouchKind.EMAIL, now=first + datetime.timedelta(hours=2))
    touch_log(user=cast.rep, lead_id=lead.pk, kind=TouchKind.NOTE, now=first + datetime.timedelta(hours=3))

    lead.refresh_from_db()
    assert lead.touch_count == 3
    assert lead.first_contact_at == first
    assert lead.last_activity_at == first + datetime.timedelta(hours=3)
    assert LeadHistory.objects.filter(lead=lead, action=HistoryAction.FIRST_CONTACT).count() == 1
    assert LeadHistory.objects.filter(lead=lead, action=HistoryAction.STATUS_CHANGED).count() == 1


@pytest.mark.parametrize(
    ("minutes_after_assignment", "within"), [(24 * 60 - 1, True), (24 * 60, True), (24 * 60 + 1, False)]
)
def test_first_contact_records_whether_it_met_the_deadline_at_the_edges(cast, minutes_after_assignment, within):
    lead = make_queue_lead(rep=cast.rep, at=T0)
    with time_machine.travel(T0 + datetime.timedelta(minutes=minutes_after_assignment), tick=False):
        touch_log(user=cast.rep, lead_id=lead.pk, kind=TouchKind.CALL, now=timezone.now())
    row = LeadHistory.objects.get(lead=lead, action=HistoryAction.FIRST_CONTACT)
    assert row.data["within_sla"] is within
    lead.refresh_from_db()
    assert lead.sla_due_at is None


def test_a_backdated_touch_counts_from_when_it_happened(cast):
    lead = make_queue_lead(rep=cast.rep, at=T0)
    now = T0 + datetime.timedelta(hours=5)
    called = T0 + datetime.timedelta(hours=2)
    touch_log(user=cast.rep, lead_id=lead.pk, kind=TouchKind.CALL, occurred_at=called, now=now)
    lead.refresh_from_db()
    assert lead.first_contact_at == called


def test_a_touch_cannot_be_before_assignment_or_in_the_future(cast):
    lead = make_queue_lead(rep=cast.rep, at=T0)
    with pytest.raises(ApplicationError) as before:
        touch_log(
            user=cast.rep,
            lead_id=lead.pk,
            kind=TouchKind.CALL,
            occurred_at=T0 - datetime.timedelta(hours=1),
            now=T0 + datetime.timedelta(hours=1),
        )
    assert "occurred_at" in before.value.fields
    with pytest.raises(ApplicationError) as future:
        touch_log(
            user=cast.rep, lead_id=lead.pk, kind=TouchKind.CALL, occurred_at=T0 + datetime.timedelta(hours=2), now=T0
        )
    assert "occurred_at" in future.value.fields
    lead.refresh_from_db()
    assert lead.touch_count == 0 and lead.first_contact_at is None and not Touch.objects.exists()


def test_a_touch_on_a_closed_lead_is_refused(cast):
    lead = make_queue_lead(rep=cast.rep, at=T0, status=Status.WON, sla_due_at=None, closed_at=T0)
    with pytest.raises(ApplicationError, match="already closed"):
        touch_log(user=cast.rep, lead_id=lead.pk, kind=TouchKind.CALL, now=T0)
    assert not Touch.objects.exists()


def test_another_reps_lead_is_not_in_your_queue(cast):
    lead = make_queue_lead(rep=cast.teammate, at=T0)
    with pytest.raises(NotInQueueError):
        touch_log(user=cast.rep, lead_id=lead.pk, kind=TouchKind.CALL, now=T0)
    lead.refresh_from_db()
    assert lead.touch_count == 0


def test_a_reassigned_lead_answers_404_with_a_clear_message(cast, client):
    lead = make_queue_lead(rep=cast.rep, at=T0)
    client.force_login(cast.rep)
    brief_url = reverse("leads:brief", kwargs={"lead_id": lead.pk})
    assert client.get(brief_url).status_code == 200
    # Meanwhile a manager hands it to a teammate.
    lead.owner = cast.teammate
    lead.save(update_fields=["owner"])

    response = client.post(reverse("leads:touch_log", kwargs={"lead_id": lead.pk}), {"kind": "call"})

    assert response.status_code == 404
    assert "not in your queue" in response.content.decode()


def test_the_page_logs_a_call_in_one_click(cast, client):
    lead = make_queue_lead(rep=cast.rep)
    client.force_login(cast.rep)
    response = client.post(
        reverse("leads:touch_log", kwargs={"lead_id": lead.pk}),
        {"kind": "call", "outcome": "left_voicemail", "notes": "Try again Thursday"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("leads:brief", kwargs={"lead_id": lead.pk})
    content = response.content.decode()
    assert "Call logged (left voicemail)" in content
    assert "Try again Thursday" in content
    touch = Touch.objects.get(lead=lead)
    assert (touch.kind, touch.outcome, touch.rep) == ("call", "left_voicemail", cast.rep)


def test_the_page_shows_bad_input_on_the_form(cast, client):
    lead = make_queue_lead(rep=cast.rep)
    client.force_login(cast.rep)
    response = client.post(reverse("leads:touch_log", kwargs={"lead_id": lead.pk}), {"kind": "fax"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Touch.objects.exists()


def test_the_api_logs_and_lists_touches(cast, api):
    lead = make_queue_lead(rep=cast.rep)
    client = api.as_user(cast.rep)
    url = reverse("api-lead-touches", kwargs={"lead_id": lead.pk})

    created = client.post(url, {"kind": "email", "outcome": "sent", "notes": "Intro"}, format="json")

    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["touch"]["kind"] == "email" and body["touch"]["rep"] == cast.rep.username
    assert body["lead"]["status"] == "contacted"
    assert body["lead"]["sla_due_at"] is None
    assert body["lead"]["touch_count"] == 1
    listed = client.get(url).json()
    assert [t["notes"] for t in listed["results"]] == ["Intro"]
    # The manager of the team reads them too.
    assert api.as_user(cast.manager).get(url).json()["count"] == 1


def test_the_api_answers_bad_input_with_field_messages(cast, api):
    lead = make_queue_lead(rep=cast.rep)
    response = api.as_user(cast.rep).post(
        reverse("api-lead-touches", kwargs={"lead_id": lead.pk}), {"kind": "pigeon"}, format="json"
    )
    assert response.status_code == 400
    assert "kind" in response.json()["fields"]


def test_the_api_says_why_a_lead_is_not_yours(cast, api):
    lead = make_queue_lead(rep=cast.other_rep)
    response = api.as_user(cast.rep).post(
        reverse("api-lead-touches", kwargs={"lead_id": lead.pk}), {"kind": "call"}, format="json"
    )
    assert response.status_code == 404
    assert "not in your queue" in response.json()["detail"]


def test_the_api_hides_pool_leads_from_reps(cast, leads, api):
    url = reverse("api-lead-touches", kwargs={"lead_id": leads.pool.pk})
    assert api.as_user(cast.rep).post(url, {"kind": "call"}, format="json").status_code == 404
    assert api.as_user(cast.rep).get(url).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_touches_logged_at_once_both_count_and_one_is_the_first_contact(cast):
    import threading

    from django.db import connection

    lead = make_queue_lead(rep=cast.rep, at=T0)
    barrier = threading.Barrier(2)
    errors = []

    def log(kind):
        try:
            barrier.wait()
            touch_log(user=cast.rep, lead_id=lead.pk, kind=kind, now=T0 + datetime.timedelta(hours=1))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=log, args=(kind,)) for kind in (TouchKind.CALL, TouchKind.EMAIL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    lead.refresh_from_db()
    assert lead.touch_count == 2
    assert lead.status == Status.CONTACTED
    assert LeadHistory.objects.filter(lead=lead, action=HistoryAction.FIRST_CONTACT).count() == 1
    assert LeadHistory.objects.filter(lead=lead, action=HistoryAction.STATUS_CHANGED).count() == 1
