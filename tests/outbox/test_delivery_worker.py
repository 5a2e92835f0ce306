"""Through a real Celery worker and Redis: the after-commit trigger delivers, and the
beat task (outbox.tasks.deliver) picks up what a lost trigger left behind."""

import signal
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from outbox.models import Message
from outbox.services import message_enqueue
from outbox.tasks import deliver
from tests.conftest import running_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def sent_files(folder: Path) -> str:
    return "".join(p.read_text() for p in sorted(folder.glob("*.log")))


def test_a_committed_message_is_delivered_by_the_worker_with_its_message_id(settings, tmp_path):
    mails = tmp_path / "mail"
    mails.mkdir()
    env = {"TEST_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "TEST_EMAIL_FILE_PATH": str(mails)}
    with running_worker(settings, log=tmp_path / "worker.log", **env) as worker:
        with transaction.atomic():
            message_enqueue(
                key="notification-42",
                recipient="rep@example.com",
                subject="Deadline missed",
                body="x",
                now=timezone.now(),
            )
        assert worker.wait_for(lambda: Message.objects.filter(sent_at__isnull=False).exists()), (
            tmp_path / "worker.log"
        ).read_text()
        assert "Message-ID: <notification-42@leadhandoff>" in sent_files(mails)

        # A message whose trigger was lost (written with no worker listening): beat's run sends it.
        Message.objects.create(
            key="lost-trigger",
            recipient="m@example.com",
            subject="s",
            created_at=timezone.now(),
            next_attempt_at=timezone.now(),
        )
        deliver.delay()
        assert worker.wait_for(lambda: Message.objects.filter(sent_at__isnull=True).count() == 0)
    text = sent_files(mails)
    assert text.count("Message-ID: <notification-42@leadhandoff>") == 1
    assert text.count("Message-ID: <lost-trigger@leadhandoff>") == 1


def test_two_workers_delivering_at_once_send_each_message_once(settings, tmp_path):
    mails = tmp_path / "mail"
    mails.mkdir()
    env = {"TEST_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "TEST_EMAIL_FILE_PATH": str(mails)}
    with (
        running_worker(settings, log=tmp_path / "a.log", **env) as first,
        running_worker(settings, log=tmp_path / "b.log", **env),
    ):
        with transaction.atomic():
            now = timezone.now()
            for i in range(60):
                message_enqueue(key=f"m{i}", recipient=f"r{i}@example.com", subject="s", body="b", now=now)
        for _ in range(5):  # several runs at once, as beat and after-commit triggers may overlap
            deliver.delay()
        assert first.wait_for(lambda: not Message.objects.filter(sent_at__isnull=True).exists())
    text = sent_files(mails)
    for i in range(60):
        assert text.count(f"Message-ID: <m{i}@leadhandoff>") == 1, i
    assert set(Message.objects.values_list("attempts", flat=True)) == {1}


def test_a_worker_killed_after_the_send_leaves_the_message_to_be_sent_again_with_the_same_message_id(
    settings, tmp_path
):
    """At least once: the receiver gets the same Message-ID twice and drops the repeat."""
    mails = tmp_path / "mail"
    mails.mkdir()
    hang = {"TEST_EMAIL_BACKEND": "tests.outbox.backends.HangAfterSendBackend", "TEST_EMAIL_FILE_PATH": str(mails)}
    with running_worker(settings, log=tmp_path / "first.log", **hang) as first:
        with transaction.atomic():
            message_enqueue(
                key="notification-7", recipient="rep@example.com", subject="s", body="b", now=timezone.now()
            )
        assert first.wait_for(lambda: "notification-7@leadhandoff" in sent_files(mails)), (
            tmp_path / "first.log"
        ).read_text()
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(10)
    assert Message.objects.get().sent_at is None  # sent, but the mark died with the worker
    env = {"TEST_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "TEST_EMAIL_FILE_PATH": str(mails)}
    with running_worker(settings, log=tmp_path / "second.log", **env) as second:
        # Beat's next run; PostgreSQL frees the dead worker's row lock once it notices the closed connection.
        def resent() -> bool:
            deliver.delay()
            return second.wait_for(lambda: Message.objects.filter(sent_at__isnull=False).exists(), timeout=5)

        assert second.wait_for(resent, timeout=60)
    assert sent_files(mails).count("Message-ID: <notification-7@leadhandoff>") == 2
