"""The daily digest: one email in each user's 08:00 hour listing what waited, once a day."""

import datetime

import pytest
import time_machine

from outbox.models import Message
from sla.models import Channel, EventKind, Notification
from sla.notifications.services import digests_send
from sla.notifications.tasks import send_digests

pytestmark = pytest.mark.django_db

# 2026-03-02: New York is UTC-5, Berlin UTC+1.
NY_8AM = datetime.datetime(2026, 3, 2, 13, 0, tzinfo=datetime.UTC)
BERLIN_8AM = datetime.datetime(2026, 3, 2, 7, 0, tzinfo=datetime.UTC)


def waiting(user, message: str, at: datetime.datetime, *, lead=None, channel=Channel.DIGEST) -> Notification:
    return Notification.objects.create(
        recipient=user, kind=EventKind.BREACH, message=message, lead=lead, channel=channel, created_at=at
    )


@pytest.fixture
def new_yorker(cast):
    cast.rep.timezone = "America/New_York"
    cast.rep.save()
    return cast.rep


def test_the_digest_goes_out_in_the_users_eight_oclock_hour_and_lists_what_waited(new_yorker, leads):
    first = waiting(new_yorker, "You missed the deadline for Jane Doe", NY_8AM - datetime.timedelta(hours=20))
    second = waiting(
        new_yorker, "First contact with Bob is due", NY_8AM - datetime.timedelta(hours=2), lead=leads.rep_owned
    )
    in_app = waiting(new_yorker, "not in the digest", NY_8AM - datetime.timedelta(hours=2), channel=Channel.IN_APP)
    assert digests_send(now=NY_8AM - datetime.timedelta(hours=1)) == 0  # 07:00 in New York
    assert Message.objects.count() == 0
    assert digests_send(now=NY_8AM + datetime.timedelta(minutes=30)) == 1  # 08:30 in New York
    message = Message.objects.get()
    assert message.key == f"digest-{new_yorker.pk}-2026-03-02"
    assert message.recipient == new_yorker.email
    assert message.subject == "Your first-contact digest for Mon 02 Mar: 2 notifications"
    assert message.body.index("Jane Doe") < message.body.index("Bob")  # oldest first
    assert f"https://leadhandoff.test/leads/{leads.rep_owned.pk}/brief/" in message.body
    assert "not in the digest" not in message.body
    for n in (first, second):
        n.refresh_from_db()
        assert n.digested_at == NY_8AM + datetime.timedelta(minutes=30)
    in_app.refresh_from_db()
    assert in_app.digested_at is None


def test_a_second_run_on_the_same_local_day_sends_nothing_more(new_yorker):
    waiting(new_yorker, "one", NY_8AM - datetime.timedelta(hours=3))
    assert digests_send(now=NY_8AM) == 1
    later = waiting(new_yorker, "two", NY_8AM + datetime.timedelta(minutes=10))
    assert digests_send(now=NY_8AM + datetime.timedelta(minutes=20)) == 0  # the day's digest is written
    assert Message.objects.count() == 1
    later.refresh_from_db()
    assert later.digested_at is None  # waits for tomorrow's
    assert digests_send(now=NY_8AM + datetime.timedelta(days=1)) == 1
    assert set(Message.objects.values_list("key", flat=True)) == {
        f"digest-{new_yorker.pk}-2026-03-02",
        f"digest-{new_yorker.pk}-2026-03-03",
    }


def test_each_user_gets_their_digest_at_their_own_eight_oclock(cast, new_yorker):
    cast.manager.timezone = "Europe/Berlin"
    cast.manager.save()
    waiting(new_yorker, "for New York", BERLIN_8AM - datetime.timedelta(hours=1))
    waiting(cast.manager, "for Berlin", BERLIN_8AM - datetime.timedelta(hours=1))
    assert digests_send(now=BERLIN_8AM) == 1
    assert Message.objects.get().recipient == cast.manager.email
    assert digests_send(now=NY_8AM) == 1
    assert Message.objects.filter(recipient=new_yorker.email).count() == 1


def test_nothing_waiting_means_no_digest(new_yorker):
    sent = waiting(new_yorker, "already sent", NY_8AM - datetime.timedelta(days=1))
    Notification.objects.filter(pk=sent.pk).update(digested_at=NY_8AM - datetime.timedelta(hours=24))
    assert digests_send(now=NY_8AM) == 0
    assert Message.objects.count() == 0


def test_the_hourly_beat_task_sends_them(new_yorker):
    waiting(new_yorker, "one", NY_8AM - datetime.timedelta(hours=3))
    with time_machine.travel(NY_8AM, tick=False):
        assert send_digests() == 1
        assert send_digests() == 0
