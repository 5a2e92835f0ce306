"""The bell, the list, marking read and preferences, in pages and the API: each user
sees and changes only their own."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from sla.models import Channel, EventKind, Notification, NotificationPreference

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def note(user, message="Deadline missed", *, lead=None, channel=Channel.IN_APP, at=T0, read=False) -> Notification:
    return Notification.objects.create(
        recipient=user,
        kind=EventKind.BREACH,
        message=message,
        lead=lead,
        channel=channel,
        created_at=at,
        read_at=at if read else None,
    )


def test_the_list_shows_my_in_app_notifications_newest_first_with_links_to_the_brief(client, cast, leads):
    note(cast.rep, "older", at=T0, lead=leads.rep_owned)
    note(cast.rep, "newer", at=T0 + datetime.timedelta(hours=1), lead=leads.rep_owned)
    note(cast.rep, "by email only", channel=Channel.EMAIL)
    note(cast.rep, "in the digest", channel=Channel.DIGEST)
    note(cast.rep, "both ways", channel=Channel.BOTH, at=T0 - datetime.timedelta(hours=1))
    note(cast.teammate, "someone else's")
    client.force_login(cast.rep)
    page = client.get(reverse("notifications:list"))
    assert page.status_code == 200
    shown = [n.message for n in page.context["notifications"]]
    assert shown == ["newer", "older", "both ways"]
    assert f'href="/leads/{leads.rep_owned.pk}/brief/"' in page.content.decode()


def test_the_list_is_paginated(client, cast):
    for i in range(30):
        note(cast.rep, f"n{i}", at=T0 + datetime.timedelta(minutes=i))
    client.force_login(cast.rep)
    first = client.get(reverse("notifications:list"))
    second = client.get(reverse("notifications:list"), {"page": 2})
    assert [n.message for n in first.context["notifications"]][:2] == ["n29", "n28"]
    assert len(first.context["notifications"]) == 25
    assert [n.message for n in second.context["notifications"]] == [f"n{i}" for i in range(4, -1, -1)]


def test_the_bell_counts_my_unread_in_app_notifications(client, cast):
    note(cast.rep)
    note(cast.rep, channel=Channel.BOTH)
    note(cast.rep, read=True)
    note(cast.rep, channel=Channel.EMAIL)
    note(cast.teammate)
    client.force_login(cast.rep)
    bell = client.get(reverse("notifications:bell"))
    assert bell.context["unread"] == 2
    assert 'data-testid="bell-count">2<' in bell.content.decode()
    note(cast.rep)
    assert client.get(reverse("notifications:bell")).context["unread"] == 3


def test_a_poll_after_the_session_expired_swaps_nothing_into_the_bell(client, cast):
    assert client.get(reverse("notifications:bell"), headers={"HX-Request": "true"}).status_code == 204
    assert client.get(reverse("notifications:bell")).status_code == 302  # not htmx: to the login page


def test_every_page_has_the_bell_polling_its_count_without_inline_script(client, cast):
    client.force_login(cast.marketer)
    html = client.get(reverse("notifications:preferences")).content.decode()
    assert f'hx-get="{reverse("notifications:bell")}" hx-trigger="load, every 30s"' in html
    assert 'data-testid="notification-bell"' in html
    assert "<script>" not in html


def test_opening_a_notification_reads_it_and_goes_to_the_brief(client, cast, leads):
    mine = note(cast.rep, lead=leads.rep_owned)
    client.force_login(cast.rep)
    brief = reverse("leads:brief", kwargs={"lead_id": leads.rep_owned.pk})
    response = client.post(reverse("notifications:read", args=[mine.pk]), {"next": brief})
    assert response["Location"] == brief
    mine.refresh_from_db()
    assert mine.read_at is not None
    # Elsewhere than this site: back to the list instead.
    other = note(cast.rep)
    response = client.post(reverse("notifications:read", args=[other.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("notifications:list")


def test_marking_read_keeps_the_first_time(client, cast):
    mine = note(cast.rep, read=True)
    client.force_login(cast.rep)
    client.post(reverse("notifications:read", args=[mine.pk]))
    mine.refresh_from_db()
    assert mine.read_at == T0


def test_mark_all_read_reads_only_mine(client, cast):
    note(cast.rep)
    note(cast.rep)
    theirs = note(cast.teammate)
    client.force_login(cast.rep)
    client.post(reverse("notifications:read_all"))
    assert not Notification.objects.filter(recipient=cast.rep, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_read_needs_post(client, cast):
    mine = note(cast.rep)
    client.force_login(cast.rep)
    assert client.get(reverse("notifications:read", args=[mine.pk])).status_code == 405
    assert client.get(reverse("notifications:read_all")).status_code == 405


def test_the_preferences_page_shows_and_saves_my_choices(client, cast):
    NotificationPreference.objects.create(user=cast.manager, kind=EventKind.BREACH, channel=Channel.EMAIL)
    client.force_login(cast.manager)
    page = client.get(reverse("notifications:preferences"))
    assert page.context["form"].initial == {
        "warning": "in_app",
        "breach": "email",
        "escalation": "in_app",
        "reassignment": "in_app",
    }
    choice = {"warning": "digest", "breach": "both", "escalation": "email", "reassignment": "in_app"}
    assert client.post(reverse("notifications:preferences"), choice).status_code == 302
    saved = dict(NotificationPreference.objects.filter(user=cast.manager).values_list("kind", "channel"))
    assert saved == choice
    refused = client.post(reverse("notifications:preferences"), {**choice, "breach": "pigeon"})
    assert refused.status_code == 200
    assert refused.context["form"].errors["breach"]


# --- API ---------------------------------------------------------------------


def test_the_api_lists_only_my_notifications_in_pages(api, cast, leads):
    for i in range(3):
        note(cast.rep, f"n{i}", at=T0 + datetime.timedelta(minutes=i), lead=leads.rep_owned)
    note(cast.rep, "by email", channel=Channel.EMAIL)
    note(cast.teammate, "not mine")
    response = api.as_user(cast.rep).get(reverse("api-notifications"), {"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["unread"]) == (3, 3)
    assert [n["message"] for n in body["results"]] == ["n2", "n1"]
    assert body["results"][0]["lead_id"] == leads.rep_owned.pk
    assert body["next"]
    assert api.as_user(cast.rep).get(reverse("api-notifications"), {"page_size": "x"}).status_code == 400


def test_the_api_marks_read_mine_only(api, cast):
    mine, theirs = note(cast.rep), note(cast.teammate)
    client = api.as_user(cast.rep)
    assert client.post(reverse("api-notification-read", args=[theirs.pk])).status_code == 404
    response = client.post(reverse("api-notification-read", args=[mine.pk]))
    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    note(cast.rep)
    note(cast.rep)
    assert client.post(reverse("api-notifications-read-all")).json() == {"marked": 2}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_api_reads_and_changes_preferences(api, cast):
    client = api.as_user(cast.rep)
    assert client.get(reverse("api-notification-preferences")).json() == dict.fromkeys(EventKind.values, "in_app")
    response = client.put(reverse("api-notification-preferences"), {"breach": "digest"}, format="json")
    assert response.json()["breach"] == "digest"
    assert response.json()["warning"] == "in_app"
    bad = client.put(reverse("api-notification-preferences"), {"warning": "fax"}, format="json")
    assert bad.status_code == 400
    assert "warning" in bad.json()["fields"]
    assert NotificationPreference.objects.get(user=cast.rep).channel == "digest"


def test_now_is_used_for_read_times(api, cast):
    mine = note(cast.rep)
    before = timezone.now()
    api.as_user(cast.rep).post(reverse("api-notification-read", args=[mine.pk]))
    mine.refresh_from_db()
    assert mine.read_at >= before
