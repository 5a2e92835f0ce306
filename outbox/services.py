"""Writing messages into the outbox and delivering them.

Enqueue in the transaction that decided to send (a rollback sends nothing);
delivery runs after commit (`transaction.on_commit`) and every minute from beat
(retries, and a trigger lost with a dead worker).

Delivery is at least once: a message is marked sent in the transaction that
claimed it, after the send. A worker that dies after the SMTP server accepted
the message but before that commit leaves it unsent, and the next run sends it
again with the same Message-ID header (`Message.message_id`, built from the
stable `key`), so a receiver can drop the repeat. Two deliverers at once never
send one message twice in one attempt: each claims its row with
SELECT … FOR UPDATE SKIP LOCKED and holds the lock until the message is marked.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction

from leadhandoff.sql import insert_set

from .models import Message

logger = logging.getLogger(__name__)

# First retry a minute after a failure, then 2, 4, 8 … minutes, never more than 6 hours apart.
BACKOFF_FIRST_SECONDS = 60
BACKOFF_MAX_SECONDS = 6 * 3600


@dataclass(frozen=True)
class Draft:
    """One message to write: `key` is its stable identity (and Message-ID)."""

    key: str
    recipient: str
    subject: str
    body: str
    payload: dict = field(default_factory=dict)
    channel: str = Message.Channel.EMAIL


def _deliver_after_commit() -> None:
    from . import tasks  # the task module imports this one

    transaction.on_commit(lambda: tasks.deliver.delay())


def messages_enqueue(*, drafts: Sequence[Draft], now: datetime.datetime) -> list[str]:
    """Write these messages (one statement) and deliver them after commit; return the keys written.

    A key already in the outbox is left as it is (ON CONFLICT DO NOTHING): who
    enqueues the same message twice sends it once.
    """
    if not drafts:
        return []
    rows = insert_set(
        Message,
        template=Message(created_at=now, next_attempt_at=now),
        varying={
            "key": [d.key for d in drafts],
            "channel": [d.channel for d in drafts],
            "recipient": [d.recipient for d in drafts],
            "subject": [d.subject[:255] for d in drafts],
            "body": [d.body for d in drafts],
            "payload": [d.payload for d in drafts],
        },
        now=now,
        suffix="ON CONFLICT (key) DO NOTHING RETURNING key",
    )
    if rows:
        _deliver_after_commit()
    return [key for (key,) in rows]


def message_enqueue(
    *, key: str, recipient: str, subject: str, body: str, now: datetime.datetime, payload: dict | None = None
) -> bool:
    """Write one message and deliver it after commit; False when its key was already there."""
    draft = Draft(key=key, recipient=recipient, subject=subject, body=body, payload=payload or {})
    return bool(messages_enqueue(drafts=[draft], now=now))


def retry_delay(attempts: int) -> datetime.timedelta:
    """How long to wait after the `attempts`-th failure: 1, 2, 4 … minutes, at most 6 hours."""
    return datetime.timedelta(seconds=min(BACKOFF_FIRST_SECONDS * 2 ** (attempts - 1), BACKOFF_MAX_SECONDS))


def _email(message: Message, connection) -> EmailMessage:
    return EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers={"Message-ID": message.message_id},
        connection=connection,
    )


def _deliver_one(*, now: datetime.datetime, connection) -> Message | None:
    """Claim the next due message, send it and mark it, in one transaction; None when nothing is due."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(skip_locked=True)
            .filter(
                channel=Message.Channel.EMAIL,
                sent_at__isnull=True,
                failed_at__isnull=True,
                next_attempt_at__lte=now,
            )
            .order_by("next_attempt_at", "id")
            .first()
        )
        if message is None:
            return None
        message.attempts += 1
        try:
            _email(message, connection).send()
        except Exception as exc:  # noqa: BLE001 - any failure of one message is recorded, never stalls the rest
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                message.failed_at = now
                logger.error("outbox: giving up on %s after %s attempts: %s", message.key, message.attempts, exc)
            else:
                message.next_attempt_at = now + retry_delay(message.attempts)
                logger.warning("outbox: %s failed (attempt %s): %s", message.key, message.attempts, exc)
        else:
            message.sent_at = now
            message.last_error = ""
        message.save(update_fields=["attempts", "sent_at", "next_attempt_at", "last_error", "failed_at"])
        return message


def outbox_deliver(*, now: datetime.datetime, batch: int = 100) -> int:
    """Send up to `batch` due messages; return how many were sent.

    Each message is claimed, sent and marked in its own short transaction, so a
    crash resends at most the one message in flight. Failures are pushed back
    (exponential backoff) and, after OUTBOX_MAX_ATTEMPTS, given up (`failed_at`).
    """
    sent = 0
    connection = get_connection(fail_silently=False)
    try:
        for _ in range(batch):
            message = _deliver_one(now=now, connection=connection)
            if message is None:
                break
            sent += message.sent_at is not None
    finally:
        connection.close()
    return sent


def messages_retry(*, ids: Sequence[int], now: datetime.datetime) -> int:
    """Give failed (or waiting) unsent messages a fresh start now; return how many.

    For the admin, after fixing what made them fail (a wrong SMTP password).
    """
    count = Message.objects.filter(pk__in=ids, sent_at__isnull=True).update(
        failed_at=None, attempts=0, next_attempt_at=now
    )
    if count:
        _deliver_after_commit()
    return count
