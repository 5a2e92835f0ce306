"""Rep-sourced leads: a rep's own prospect goes straight into their queue, no clock."""

import datetime

import pytest
from django.urls import reverse

from leadhandoff.api import ApplicationError
from leads.models import HistoryAction, Lead, LeadHistory, Origin, RepSourceChannel, Status, TouchKind
from leads.queue.selectors import QueueFilters, my_queue
from leads.queue.services import ALREADY_KNOWN, ALREADY_YOURS, IN_NURTURE_POOL, rep_sourced_create, touch_log
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def test_a_prospect_lands_in_the_reps_queue_assigned_with_no_clock(cast):
    lead = rep_sourced_create(
        user=cast.rep,
        email="Dana@Prospect.io",
        channel=RepSourceChannel.REFERRAL,
        first_name="Dana",
        company="Prospect",
        now=T0,
    )

    lead.refresh_from_db()
    assert lead.origin == Origin.REP_SOURCED and lead.rep_source_channel == "referral"
    assert lead.status == Status.ASSIGNED
    assert (lead.owner, lead.team) == (cast.rep, cast.team)
    assert lead.assigned_at == T0 and lead.created_at == T0
    assert lead.sla_due_at is None
    assert list(my_queue(user=cast.rep, filters=QueueFilters(origin=Origin.REP_SOURCED), now=T0)) == [lead]
    actions = set(LeadHistory.objects.filter(lead=lead).values_list("action", flat=True))
    assert actions == {HistoryAction.CREATED, HistoryAction.ASSIGNED}


def test_a_prospect_is_worked_with_the_same_touches_and_stages(cast):
    lead = rep_sourced_create(user=cast.rep, email="sam@cold.io", channel=RepSourceChannel.COLD_CALL, now=T0)
    touch_log(user=cast.rep, lead_id=lead.pk, kind=TouchKind.CALL, now=T0 + datetime.timedelta(minutes=5))
    lead.refresh_from_db()
    assert lead.status == Status.CONTACTED and lead.first_contact_at is not None and lead.touch_count == 1


@pytest.mark.parametrize(
    ("status", "owner", "said"),
    [
        (Status.NURTURE, None, "This contact is in the nurture pool; ask marketing."),
        (Status.ASSIGNED, "other_rep", "This contact is already known to LeadHandoff; ask your manager."),
        (Status.ASSIGNED, "rep", "This contact is already in your queue."),
    ],
)
def test_a_known_contact_is_refused_saying_only_what_the_rep_may_know(cast, status, owner, said):
    known = LeadFactory(email="known@acme.com", status=status, company="Secret Corp")
    if owner:
        known.owner = getattr(cast, owner)
        known.save()
    with pytest.raises(ApplicationError) as error:
        rep_sourced_create(user=cast.rep, email="KNOWN@acme.com", channel=RepSourceChannel.EVENT, now=T0)
    assert error.value.message == said
    assert error.value.own_lead_id == (known.pk if owner == "rep" else None)
    assert said in (ALREADY_KNOWN, ALREADY_YOURS, IN_NURTURE_POOL)
    assert "Secret Corp" not in said
    assert Lead.objects.filter(email__iexact="known@acme.com").count() == 1


def test_the_form_adds_a_prospect(cast, client):
    client.force_login(cast.rep)
    url = reverse("leads:rep_sourced_create")
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"email": "lee@social.io", "first_name": "Lee", "channel": "social", "company": "Social Co"}, follow=True
    )
    lead = Lead.objects.get(email="lee@social.io")
    assert response.redirect_chain[-1][0] == reverse("leads:brief", kwargs={"lead_id": lead.pk})
    assert "is in your queue" in response.content.decode()
    assert lead.owner == cast.rep and lead.rep_source_channel == "social"


def test_the_form_says_a_contact_is_known_and_shows_nothing_of_it(cast, client):
    LeadFactory(email="pool@nurture.com", company="Hidden Industries", status=Status.NURTURE)
    client.force_login(cast.rep)
    response = client.post(reverse("leads:rep_sourced_create"), {"email": "pool@nurture.com", "channel": "event"})
    content = response.content.decode()
    assert response.status_code == 400
    assert "This contact is in the nurture pool; ask marketing." in content
    assert "Hidden Industries" not in content
    assert 'data-testid="own-lead"' not in content


def test_the_form_links_to_the_reps_own_lead_when_the_email_is_theirs(cast, client):
    mine = LeadFactory(email="mine@acme.com", status=Status.WORKING, owner=cast.rep)
    client.force_login(cast.rep)
    response = client.post(reverse("leads:rep_sourced_create"), {"email": "MINE@acme.com", "channel": "event"})
    content = response.content.decode()
    assert response.status_code == 400
    assert "This contact is already in your queue." in content
    assert f'href="{reverse("leads:brief", kwargs={"lead_id": mine.pk})}"' in content


def test_the_form_needs_an_email_and_a_channel(cast, client):
    client.force_login(cast.rep)
    response = client.post(reverse("leads:rep_sourced_create"), {"email": "not-an-email", "channel": ""})
    assert response.status_code == 400
    assert response.context["form"].errors.keys() == {"email", "channel"}
    assert not Lead.objects.exists()


def test_the_api_adds_a_prospect(cast, api):
    client = api.as_user(cast.rep)
    response = client.post(
        reverse("api-prospects"), {"email": "ana@event.io", "channel": "event", "first_name": "Ana"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["origin"] == "rep_sourced" and body["status"] == "assigned" and body["sla_due_at"] is None

    again = client.post(reverse("api-prospects"), {"email": "ANA@event.io", "channel": "referral"}, format="json")
    assert again.status_code == 400
    assert again.json() == {"detail": ALREADY_YOURS, "fields": {"email": [ALREADY_YOURS]}}

    bad = client.post(reverse("api-prospects"), {"email": "ana2@event.io", "channel": "carrier pigeon"}, format="json")
    assert bad.status_code == 400 and "channel" in bad.json()["fields"]
