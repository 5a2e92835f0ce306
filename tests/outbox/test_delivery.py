"""The outbox: written in the deciding transaction, delivered after commit, at least
once with a stable Message-ID, retried with backoff, given up after too many tries."""

import datetime
import threading

import pytest
from django.core import mail
from django.db import connection, transaction

from outbox.models import Message
from outbox.services import Draft, message_enqueue, messages_enqueue, outbox_deliver, retry_delay
from tests.outbox.backends import CrashAfterSendBackend, RendezvousBackend

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
MINUTE = datetime.timedelta(minutes=1)

pytestmark = pytest.mark.django_db


def enqueue(key: str = "notification-1", to: str = "rep@example.com") -> bool:
    return message_enqueue(key=key, recipient=to, subject="Deadline missed", body="Call them.", now=T0)


def test_a_key_is_written_once_and_delivery_is_queued_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        assert enqueue()
        assert not enqueue()  # the same message again: nothing new
    assert Message.objects.count() == 1
    assert len(callbacks) == 1  # the second call wrote nothing, so it queued nothing


def test_a_rolled_back_decision_sends_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        enqueue()
        raise RuntimeError("the sweep failed after deciding")
    assert Message.objects.count() == 0
    assert callbacks == []


def test_messages_enqueue_returns_only_the_new_keys():
    drafts = [Draft(key=f"k{i}", recipient="a@x.com", subject="s", body="b") for i in range(3)]
    assert messages_enqueue(drafts=drafts[:2], now=T0) == ["k0", "k1"]
    assert sorted(messages_enqueue(drafts=drafts, now=T0)) == ["k2"]


def test_delivery_sends_each_due_message_once_with_its_message_id(settings):
    settings.DEFAULT_FROM_EMAIL = "LeadHandoff <noreply@example.com>"
    enqueue("notification-7")
    assert outbox_deliver(now=T0) == 1
    assert outbox_deliver(now=T0 + MINUTE) == 0  # sent: never again
    [email] = mail.outbox
    assert email.to == ["rep@example.com"]
    assert email.from_email == "LeadHandoff <noreply@example.com>"
    assert email.extra_headers["Message-ID"] == "<notification-7@leadhandoff>"
    assert "Message-ID: <notification-7@leadhandoff>" in email.message().as_string()
    message = Message.objects.get()
    assert (message.sent_at, message.attempts, message.last_error) == (T0, 1, "")


def test_a_message_not_yet_due_waits():
    message_enqueue(key="later", recipient="a@x.com", subject="s", body="b", now=T0 + MINUTE)
    assert outbox_deliver(now=T0) == 0
    assert outbox_deliver(now=T0 + MINUTE) == 1


def test_a_failed_send_is_retried_with_exponential_backoff_and_given_up_after_max_attempts(settings):
    settings.EMAIL_BACKEND = "tests.outbox.backends.RefusingBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 4
    enqueue()
    now = T0
    for attempt, wait in [(1, 1), (2, 2), (3, 4)]:
        assert outbox_deliver(now=now) == 0
        message = Message.objects.get()
        assert message.attempts == attempt
        assert message.next_attempt_at == now + datetime.timedelta(minutes=wait)
        assert "SMTPServerDisconnected" in message.last_error
        assert message.failed_at is None
        outbox_deliver(now=message.next_attempt_at - datetime.timedelta(seconds=1))  # not yet due
        assert Message.objects.get().attempts == attempt
        now = message.next_attempt_at
    assert outbox_deliver(now=now) == 0
    message = Message.objects.get()
    assert (message.attempts, message.failed_at, message.sent_at) == (4, now, None)
    assert outbox_deliver(now=now + datetime.timedelta(days=1)) == 0  # given up: no fifth attempt
    assert Message.objects.get().attempts == 4


def test_the_backoff_is_capped_at_six_hours():
    assert retry_delay(1) == MINUTE
    assert retry_delay(3) == 4 * MINUTE
    assert retry_delay(20) == datetime.timedelta(hours=6)


def test_one_failing_message_does_not_stall_the_others(settings):
    enqueue("bad", to="bad@example.com")
    enqueue("good", to="good@example.com")
    settings.EMAIL_BACKEND = "tests.outbox.backends.RefusingBackend"
    outbox_deliver(now=T0)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox_deliver(now=T0) == 0  # both were tried and pushed back
    assert outbox_deliver(now=T0 + MINUTE) == 2


def test_a_crash_after_the_send_resends_with_the_same_message_id(settings):
    """At least once: the receiver sees the same Message-ID twice and drops the repeat."""
    settings.EMAIL_BACKEND = "tests.outbox.backends.CrashAfterSendBackend"
    CrashAfterSendBackend.crashed = False
    enqueue("notification-9")
    with pytest.raises(SystemExit):
        outbox_deliver(now=T0)
    assert Message.objects.get().sent_at is None  # the mark was rolled back with the crash
    assert outbox_deliver(now=T0) == 1
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == ["<notification-9@leadhandoff>"] * 2
    assert Message.objects.get().sent_at == T0


@pytest.mark.django_db(transaction=True)
def test_two_deliverers_at_once_send_each_message_once(settings):
    settings.EMAIL_BACKEND = "tests.outbox.backends.RendezvousBackend"
    RendezvousBackend.barrier = threading.Barrier(2)
    for i in range(20):
        enqueue(f"m{i}", to=f"r{i}@example.com")
    counts = []

    def deliverer():
        try:
            counts.append(outbox_deliver(now=T0))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliverer) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        RendezvousBackend.barrier = None
    # Both held a claimed row at the same moment (the barrier), and still no repeat.
    assert sorted(counts)[0] >= 1 and sum(counts) == 20
    ids = sorted(m.extra_headers["Message-ID"] for m in mail.outbox)
    assert ids == sorted(f"<m{i}@leadhandoff>" for i in range(20))
    assert Message.objects.filter(sent_at__isnull=True).count() == 0


def test_a_given_up_message_can_be_retried_from_the_admin(client, cast, settings):
    settings.EMAIL_BACKEND = "tests.outbox.backends.RefusingBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 1
    enqueue("notification-3")
    outbox_deliver(now=T0)
    message = Message.objects.get()
    assert message.failed_at == T0
    client.force_login(cast.admin)
    response = client.post("/admin/outbox/message/", {"action": "retry", "_selected_action": [message.pk]}, follow=True)
    assert response.status_code == 200
    message.refresh_from_db()
    assert (message.failed_at, message.attempts) == (None, 0)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox_deliver(now=message.next_attempt_at) == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == "<notification-3@leadhandoff>"
