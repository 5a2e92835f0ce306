"""Rejecting a lead back to marketing with a reason, and marketing's list of rejections."""

import datetime

import pytest
from django.urls import reverse

from leadhandoff.api import ApplicationError
from leads.models import HistoryAction, Lead, LeadHistory, Origin, RejectReason, Status, TouchKind
from leads.queue.selectors import my_queue
from leads.queue.services import NotInQueueError, lead_reject, touch_log
from tests.factories import LeadFactory, make_queue_lead

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
LATER = T0 + datetime.timedelta(hours=4)


def test_a_rejected_lead_returns_to_the_nurture_pool_flagged_with_its_reason(cast):
    lead = make_queue_lead(rep=cast.rep, at=T0, promoted_version=3, recycled_count=1)
    touch_log(user=cast.rep, lead_id=lead.pk, kind=TouchKind.CALL, now=T0 + datetime.timedelta(hours=1))

    lead_reject(user=cast.rep, lead_id=lead.pk, reason=RejectReason.NO_BUDGET, note="Budget frozen", now=LATER)

    lead.refresh_from_db()
    assert lead.status == Status.NURTURE
    assert (lead.owner, lead.team, lead.sla_due_at) == (None, None, None)
    assert lead.reject_reason == RejectReason.NO_BUDGET and lead.reject_note == "Budget frozen"
    assert lead.rejected_at == LATER and lead.rejected_by == cast.rep
    assert lead.rejected_version == 3
    assert lead.recycled_count == 2
    # A later promotion starts a fresh cycle; the history keeps this one.
    assert lead.assigned_at is None and lead.first_contact_at is None
    row = LeadHistory.objects.get(lead=lead, action=HistoryAction.REJECTED)
    assert (row.old_value, row.new_value, row.actor, row.created_at) == ("contacted", "nurture", cast.rep, LATER)
    assert row.data["reason"] == "no_budget" and row.data["version"] == 3 and row.data["owner_id"] == cast.rep.pk


def test_the_rejected_lead_leaves_the_reps_queue_and_sight(cast, client):
    lead = make_queue_lead(rep=cast.rep, at=T0)
    lead_reject(user=cast.rep, lead_id=lead.pk, reason=RejectReason.NOT_A_FIT, now=LATER)

    assert list(my_queue(user=cast.rep, now=LATER)) == []
    client.force_login(cast.rep)
    assert client.get(reverse("leads:brief", kwargs={"lead_id": lead.pk})).status_code == 404
    client.force_login(cast.manager)
    assert client.get(reverse("leads:brief", kwargs={"lead_id": lead.pk})).status_code == 404


def test_other_needs_a_note(cast):
    lead = make_queue_lead(rep=cast.rep, at=T0)
    with pytest.raises(ApplicationError) as error:
        lead_reject(user=cast.rep, lead_id=lead.pk, reason=RejectReason.OTHER, note="  ", now=LATER)
    assert "note" in error.value.fields
    lead.refresh_from_db()
    assert lead.status == Status.ASSIGNED and lead.owner == cast.rep

    lead_reject(user=cast.rep, lead_id=lead.pk, reason=RejectReason.OTHER, note="Student, not a buyer", now=LATER)
    lead.refresh_from_db()
    assert lead.status == Status.NURTURE


def test_a_rep_sourced_lead_cannot_be_rejected_to_marketing(cast):
    lead = make_queue_lead(rep=cast.rep, at=T0, origin=Origin.REP_SOURCED, sla_due_at=None)
    with pytest.raises(ApplicationError, match="close a lead you sourced yourself as lost"):
        lead_reject(user=cast.rep, lead_id=lead.pk, reason=RejectReason.NOT_A_FIT, now=LATER)
    lead.refresh_from_db()
    assert lead.status == Status.ASSIGNED


def test_a_closed_lead_cannot_be_rejected(cast):
    lead = make_queue_lead(rep=cast.rep, at=T0, status=Status.LOST, closed_at=T0, sla_due_at=None)
    with pytest.raises(ApplicationError, match="already closed"):
        lead_reject(user=cast.rep, lead_id=lead.pk, reason=RejectReason.NOT_A_FIT, now=LATER)


def test_only_the_owner_rejects(cast):
    lead = make_queue_lead(rep=cast.teammate, at=T0)
    with pytest.raises(NotInQueueError):
        lead_reject(user=cast.rep, lead_id=lead.pk, reason=RejectReason.BAD_DATA, now=LATER)
    lead.refresh_from_db()
    assert lead.owner == cast.teammate


def test_rejecting_twice_is_a_404_the_second_time(cast):
    lead = make_queue_lead(rep=cast.rep, at=T0)
    lead_reject(user=cast.rep, lead_id=lead.pk, reason=RejectReason.DUPLICATE, now=LATER)
    with pytest.raises(NotInQueueError):
        lead_reject(user=cast.rep, lead_id=lead.pk, reason=RejectReason.DUPLICATE, now=LATER)
    lead.refresh_from_db()
    assert lead.recycled_count == 1
    assert LeadHistory.objects.filter(lead=lead, action=HistoryAction.REJECTED).count() == 1


def test_the_page_rejects_with_a_reason_and_shows_errors(cast, client):
    lead = make_queue_lead(rep=cast.rep, at=T0)
    client.force_login(cast.rep)
    url = reverse("leads:reject", kwargs={"lead_id": lead.pk})

    refused = client.post(url, {"reason": "other", "note": ""})
    assert refused.status_code == 400
    assert "A note is required when the reason is other." in refused.content.decode()

    done = client.post(url, {"reason": "too_early"}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("leads:my_queue")
    assert "went back to marketing (too early)" in done.content.decode()


def test_the_api_rejects(cast, api):
    lead = make_queue_lead(rep=cast.rep, at=T0, promoted_version=2)
    client = api.as_user(cast.rep)
    url = reverse("api-lead-reject", kwargs={"lead_id": lead.pk})

    refused = client.post(url, {"reason": "other"}, format="json")
    assert refused.status_code == 400 and "note" in refused.json()["fields"]

    done = client.post(url, {"reason": "bad_data", "note": "Fake phone"}, format="json")
    assert done.status_code == 200
    assert done.json()["status"] == "nurture" and done.json()["rejected_version"] == 2


# --- Marketing's list of rejections -------------------------------------------------


def rejected(*, reason: str, version: int, at=LATER, **kwargs) -> Lead:
    return LeadFactory(
        status=Status.NURTURE,
        reject_reason=reason,
        rejected_version=version,
        rejected_at=at,
        recycled_count=1,
        **kwargs,
    )


@pytest.fixture
def rejections(cast):
    return [
        rejected(reason=RejectReason.NOT_A_FIT, version=1, rejected_by=cast.rep),
        rejected(reason=RejectReason.NOT_A_FIT, version=2, rejected_by=cast.rep),
        rejected(reason=RejectReason.NOT_A_FIT, version=2, rejected_by=cast.other_rep),
        rejected(reason=RejectReason.NO_BUDGET, version=2, rejected_by=cast.rep),
        rejected(reason=RejectReason.OTHER, version=2, rejected_by=cast.rep, reject_note="Wrong country"),
    ]


def test_marketing_sees_rejections_with_counts_per_reason(cast, client, rejections):
    LeadFactory(status=Status.NURTURE)  # never rejected
    client.force_login(cast.marketer)
    response = client.get(reverse("leads:rejections"))
    assert response.status_code == 200
    assert len(response.context["leads"]) == 5
    assert {row["reject_reason"]: row["n"] for row in response.context["counts"]} == {
        "not_a_fit": 3,
        "no_budget": 1,
        "other": 1,
    }
    assert "Wrong country" in response.content.decode()


def test_rejections_filter_by_reason_and_version(cast, client, rejections):
    client.force_login(cast.marketer)
    response = client.get(reverse("leads:rejections"), {"reason": "not_a_fit", "version": 2})
    assert sorted(lead.pk for lead in response.context["leads"]) == sorted(r.pk for r in rejections[1:3])
    # Counts follow the version, so a version's reasons can be compared.
    assert {row["reject_reason"]: row["n"] for row in response.context["counts"]} == {
        "not_a_fit": 2,
        "no_budget": 1,
        "other": 1,
    }
    assert response.context["versions"] == [2, 1]


def test_rejections_are_paginated_in_a_fixed_number_of_queries(cast, client, django_assert_num_queries):
    client.force_login(cast.marketer)
    for n in range(3):
        rejected(reason=RejectReason.BAD_DATA, version=1, rejected_by=cast.rep, at=LATER - datetime.timedelta(n))
    client.get(reverse("leads:rejections"))  # warm the session
    with django_assert_num_queries(5) as few:  # user (session cached), count, page, per reason, versions
        client.get(reverse("leads:rejections"))
    for _ in range(40):
        rejected(reason=RejectReason.BAD_DATA, version=1, rejected_by=cast.other_rep, at=LATER)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(reverse("leads:rejections"), {"page": 2})
    assert response.context["page"].number == 2
    assert len(response.context["leads"]) == 18


def test_the_rejections_api_lists_filters_and_counts(cast, api, rejections):
    client = api.as_user(cast.marketer)
    body = client.get(reverse("api-rejections"), {"version": 2}).json()
    assert body["count"] == 4
    assert body["counts_by_reason"] == {"not_a_fit": 2, "no_budget": 1, "other": 1}
    assert {row["rejected_by"] for row in body["results"]} == {"rep1", "rep3"}
    bad = client.get(reverse("api-rejections"), {"reason": "grumpy"})
    assert bad.status_code == 400 and "reason" in bad.json()["fields"]
    assert api.as_user(cast.rep).get(reverse("api-rejections")).status_code == 403
