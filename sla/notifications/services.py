"""Who is told about what the sweep did, how, and when they have read it.

One notification per event and recipient (the unique key makes a second sweep a
no-op). Each recipient's preference for the kind decides the channel: in the app,
email, both, or the daily digest. Email leaves through the outbox, written in
the same transaction as the notification with the stable key
`notification-<id>` (also its Message-ID), so it is delivered after commit, at
least once; digest rows wait for `digests_send` in the recipient's 08:00 hour.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from accounts.models import Role, Team, User
from leadhandoff.api import ApplicationError
from leadhandoff.sql import insert_set
from leads.models import FirstContactClock
from outbox.services import Draft, messages_enqueue
from sla.models import Channel, ClockEvent, EventKind, Notification, NotificationPreference
from sla.notifications.selectors import notification_get_for_user, preferences_for_user

DEFAULT_CHANNEL = Channel.IN_APP
EMAIL_CHANNELS = (Channel.EMAIL, Channel.BOTH)
# Digests go out in this hour of each user's own day.
DIGEST_HOUR = 8

SUBJECTS = {
    EventKind.WARNING: "First contact due soon: {lead}",
    EventKind.BREACH: "First-contact deadline missed: {lead}",
    EventKind.ESCALATION: "Still not contacted: {lead}",
    EventKind.REASSIGNMENT: "Reassigned after a missed deadline: {lead}",
}


def _lead_name(lead) -> str:
    name = str(lead)
    return f"{name} ({lead.company})" if lead.company else name


def _local(moment: datetime.datetime, tz: str) -> str:
    return moment.astimezone(zoneinfo.ZoneInfo(tz)).strftime("%a %d %b %H:%M %Z")


def _message(event: ClockEvent, clock: FirstContactClock, recipient: User, rep: User) -> str:
    """What the recipient reads, in their words and their time zone."""
    lead = _lead_name(clock.lead)
    deadline = _local(clock.due_at, recipient.timezone)
    whose = "you" if recipient.pk == event.rep_id else (rep.get_full_name() or rep.username)
    if event.kind == EventKind.WARNING:
        text = f"First contact with {lead} is due by {deadline}."
    elif event.kind == EventKind.BREACH:
        missed = "You missed" if whose == "you" else f"{whose} missed"
        text = f"{missed} the first-contact deadline for {lead} ({deadline})."
    elif event.kind == EventKind.ESCALATION:
        text = f"{lead} is still not contacted after the deadline of {deadline} (assigned to {whose})."
    else:
        text = f"{lead} was reassigned because the first-contact deadline of {deadline} passed (assigned to {whose})."
    return text[:255]


def brief_url(lead_id: int) -> str:
    """The lead brief's absolute address, for emails (the app's address from DJANGO_SITE_URL)."""
    return settings.DJANGO_SITE_URL + reverse("leads:brief", kwargs={"lead_id": lead_id})


def _recipients(event: ClockEvent, clock: FirstContactClock, managers: dict[int, int | None], admins: list[int]):
    """The rep hears of every event; the team's manager of all but warnings; admins of escalations."""
    ids = {event.rep_id}
    if event.kind != EventKind.WARNING and managers.get(clock.team_id):
        ids.add(managers[clock.team_id])
    if event.kind == EventKind.ESCALATION:
        ids.update(admins)
    return ids


def notifications_for_events(*, events: Sequence[ClockEvent], now: datetime.datetime) -> int:
    """Create the notifications of these (saved) events in the caller's transaction; return how many.

    Each event comes with its clock and the clock's lead in hand (`event.clock.lead`,
    as the sweep has them: nothing is read again); anything with those attributes
    will do. A second call for the same events creates nothing and counts nothing
    (unique per event and recipient, INSERT … ON CONFLICT DO NOTHING RETURNING).
    Emails (preference email or both) go into the outbox in the same transaction.
    A fixed number of queries whatever the number of events.
    """
    if not events:
        return 0
    team_ids = {e.clock.team_id for e in events if e.clock.team_id}
    managers = dict(Team.objects.filter(id__in=team_ids).values_list("id", "manager_id")) if team_ids else {}
    admins: list[int] = []
    if any(e.kind == EventKind.ESCALATION for e in events):
        admins = list(User.objects.filter(role=Role.ADMIN, is_active=True).values_list("id", flat=True))
    pairs = [(e, user_id) for e in events for user_id in sorted(_recipients(e, e.clock, managers, admins))]
    users = User.objects.in_bulk({user_id for _, user_id in pairs}, field_name="pk")
    channels = {
        (user_id, kind): channel
        for user_id, kind, channel in NotificationPreference.objects.filter(user_id__in=users).values_list(
            "user_id", "kind", "channel"
        )
    }
    pairs = [(e, user_id) for e, user_id in pairs if user_id in users]  # a deleted user is told nothing
    if not pairs:
        return 0
    # The rep hears of every event of their clock, so the rep a message names is among `users`.
    texts = [_message(e, e.clock, users[user_id], users[e.rep_id]) for e, user_id in pairs]
    chosen = [channels.get((user_id, e.kind), DEFAULT_CHANNEL) for e, user_id in pairs]
    created = insert_set(
        Notification,
        template=Notification(created_at=now),
        varying={
            "recipient_id": [user_id for _, user_id in pairs],
            "kind": [e.kind for e, _ in pairs],
            "event_id": [e.pk for e, _ in pairs],
            "lead_id": [e.lead_id for e, _ in pairs],
            "message": texts,
            "channel": chosen,
        },
        now=now,
        suffix=(
            "ON CONFLICT (event_id, recipient_id) WHERE event_id IS NOT NULL DO NOTHING"
            " RETURNING id, event_id, recipient_id, channel"
        ),
    )
    emailed = [row for row in created if row[3] in EMAIL_CHANNELS and users[row[2]].email]
    by_pair = {(e.pk, user_id): (e, text) for (e, user_id), text in zip(pairs, texts, strict=True)} if emailed else {}
    drafts = []
    for notification_id, event_id, user_id, _ in emailed:
        user = users[user_id]
        event, text = by_pair[(event_id, user_id)]
        lead = _lead_name(event.clock.lead)
        drafts.append(
            Draft(
                key=f"notification-{notification_id}",
                recipient=user.email,
                subject=SUBJECTS[event.kind].format(lead=lead),
                body=f"{text}\n\nOpen the lead brief: {brief_url(event.lead_id)}\n\n"
                f"Change what you are told and how: {settings.DJANGO_SITE_URL}{reverse('notifications:preferences')}\n",
                payload={"notification_id": notification_id, "event_id": event_id, "kind": event.kind},
            )
        )
    messages_enqueue(drafts=drafts, now=now)
    return len(created)


# --- Preferences ---------------------------------------------------------------


def preferences_set(*, user: User, channels: dict[str, str]) -> dict[str, str]:
    """Set the user's channel for each kind given; return every kind's channel."""
    unknown = sorted(set(channels) - set(EventKind.values))
    bad = {kind: channel for kind, channel in channels.items() if channel not in Channel.values}
    if unknown or bad:
        fields = {kind: ["Not a kind of notification."] for kind in unknown}
        fields |= {kind: [f"Choose one of: {', '.join(Channel.values)}."] for kind in bad}
        raise ApplicationError("Some preferences are not valid.", fields=fields)
    with transaction.atomic():
        for kind, channel in channels.items():
            NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"channel": channel})
    return preferences_for_user(user=user)


# --- Reading -----------------------------------------------------------------


def notification_mark_read(*, user: User, notification_id: int, now: datetime.datetime) -> Notification:
    """Mark one of the user's notifications read (again: no change); another user's is a 404."""
    notification = notification_get_for_user(user=user, notification_id=notification_id)
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def notifications_mark_all_read(*, user: User, now: datetime.datetime) -> int:
    """Mark every unread notification of the user read; return how many."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=now)


# --- Daily digest ------------------------------------------------------------


def _digest_timezones(now: datetime.datetime, timezones: Iterable[str]) -> list[str]:
    return [tz for tz in timezones if now.astimezone(zoneinfo.ZoneInfo(tz)).hour == DIGEST_HOUR]


def digest_send(*, user: User, now: datetime.datetime) -> int:
    """Write the user's digest for their local day into the outbox and mark what it lists; return how many.

    Idempotent: the key `digest-<user id>-<local date>` is unique, so a second run
    on the same local day writes nothing and marks nothing (rows created since
    wait for tomorrow's digest).
    """
    local_date = now.astimezone(user.tz).date()
    with transaction.atomic():
        pending = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(recipient=user, channel=Channel.DIGEST, digested_at__isnull=True, created_at__lte=now)
            .order_by("created_at", "id")
        )
        if not pending or not user.email:
            return 0
        lines = [
            f"- {_local(n.created_at, user.timezone)}: {n.message}"
            + (f"\n  {brief_url(n.lead_id)}" if n.lead_id else "")
            for n in pending
        ]
        count = len(pending)
        written = messages_enqueue(
            drafts=[
                Draft(
                    key=f"digest-{user.pk}-{local_date.isoformat()}",
                    recipient=user.email,
                    subject=f"Your first-contact digest for {local_date:%a %d %b}: {count} "
                    + ("notification" if count == 1 else "notifications"),
                    body="Since your last digest:\n\n" + "\n".join(lines) + "\n",
                    payload={"user_id": user.pk, "date": local_date.isoformat(), "notifications": count},
                )
            ],
            now=now,
        )
        if not written:
            return 0
        Notification.objects.filter(pk__in=[n.pk for n in pending]).update(digested_at=now)
    return count


def digests_send(*, now: datetime.datetime) -> int:
    """Beat, hourly: send the digest of every user in their 08:00 hour with something waiting; return how many."""
    waiting = Notification.objects.filter(channel=Channel.DIGEST, digested_at__isnull=True)
    timezones = User.objects.filter(notifications__in=waiting).values_list("timezone", flat=True).distinct()
    due = _digest_timezones(now, set(timezones))
    if not due:
        return 0
    users = User.objects.filter(timezone__in=due, notifications__in=waiting).distinct().order_by("pk")
    return sum(1 for user in users if digest_send(user=user, now=now))
