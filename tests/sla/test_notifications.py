"""Notifications of the sweep's events: who is told, how (their preference), once,
in their words; email through the outbox with a stable key and a link to the brief."""

import datetime

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from leads.models import Status
from outbox.models import Message
from outbox.services import outbox_deliver
from sla.models import Channel, ClockEvent, EventKind, Notification, NotificationPreference
from sla.notifications.services import notifications_for_events
from tests.factories import LeadFactory, make_clock

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
DUE = T0 + datetime.timedelta(hours=24)

pytestmark = pytest.mark.django_db


def a_clock(cast, *, rep=None, **lead):
    rep = rep or cast.rep
    defaults = {"first_name": "Jane", "last_name": "Doe", "company": "Acme", "status": Status.ASSIGNED}
    lead = LeadFactory(**{**defaults, **lead}, owner=rep, team=cast.team)
    return make_clock(lead=lead, started_at=T0, due_at=DUE)


def event(clock, kind=EventKind.BREACH, seq=1) -> ClockEvent:
    return ClockEvent.objects.create(
        clock=clock, lead=clock.lead, rep_id=clock.rep_id, kind=kind, seq=seq, due_at=DUE, created_at=DUE
    )


def told(kind) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def test_each_kind_reaches_its_people(cast):
    clock = a_clock(cast)
    events = [event(clock, kind) for kind in EventKind.values]
    assert notifications_for_events(events=events, now=DUE) == 1 + 2 + 3 + 2
    assert told(EventKind.WARNING) == {"rep1"}
    assert told(EventKind.BREACH) == {"rep1", "manager"}
    assert told(EventKind.ESCALATION) == {"rep1", "manager", "admin"}
    assert told(EventKind.REASSIGNMENT) == {"rep1", "manager"}
    assert "other_manager" not in set(Notification.objects.values_list("recipient__username", flat=True))


def test_a_second_call_creates_and_counts_nothing(cast):
    clock = a_clock(cast)
    breach = event(clock)
    assert notifications_for_events(events=[breach], now=DUE) == 2
    warning = event(clock, EventKind.WARNING)
    # The breach again (nothing new) and a new warning (one row): only the new row counts.
    assert notifications_for_events(events=[breach, warning], now=DUE) == 1
    assert Notification.objects.count() == 3


def test_the_number_of_queries_does_not_grow_with_the_events(cast):
    NotificationPreference.objects.create(user=cast.rep, kind=EventKind.BREACH, channel=Channel.BOTH)
    NotificationPreference.objects.create(user=cast.manager, kind=EventKind.ESCALATION, channel=Channel.EMAIL)

    def queries(n: int) -> int:
        clocks = [a_clock(cast, email=f"l{n}-{i}@x.com") for i in range(n)]
        events = [event(clock, kind) for clock in clocks for kind in EventKind.values]
        with CaptureQueriesContext(connection) as ctx:
            assert notifications_for_events(events=events, now=DUE) == 8 * n
        return len(ctx.captured_queries)

    assert queries(1) == queries(10)
    assert Message.objects.count() == 2 * 11  # one rep breach and one manager escalation per clock


def test_messages_name_the_lead_in_each_readers_words_and_time_zone(cast):
    cast.rep.timezone = "Europe/Berlin"
    cast.rep.save()
    cast.manager.timezone = "America/New_York"
    cast.manager.save()
    clock = a_clock(cast)
    notifications_for_events(events=[event(clock)], now=DUE)
    mine = Notification.objects.get(recipient=cast.rep)
    managers = Notification.objects.get(recipient=cast.manager)
    # The deadline, 2026-03-03 09:00 UTC, in each reader's own time.
    assert mine.message == "You missed the first-contact deadline for Jane Doe (Acme) (Tue 03 Mar 10:00 CET)."
    rep_name = cast.rep.get_full_name()
    assert (
        managers.message == f"{rep_name} missed the first-contact deadline for Jane Doe (Acme) (Tue 03 Mar 04:00 EST)."
    )
    assert (mine.lead_id, mine.event.clock_id) == (clock.lead_id, clock.pk)


def test_the_channel_follows_each_recipients_preference_and_email_goes_to_the_outbox(cast):
    NotificationPreference.objects.create(user=cast.rep, kind=EventKind.BREACH, channel=Channel.EMAIL)
    NotificationPreference.objects.create(user=cast.manager, kind=EventKind.BREACH, channel=Channel.BOTH)
    NotificationPreference.objects.create(user=cast.rep, kind=EventKind.WARNING, channel=Channel.DIGEST)
    clock = a_clock(cast)
    notifications_for_events(events=[event(clock), event(clock, EventKind.WARNING)], now=DUE)
    rows = {(n.recipient.username, n.kind): n for n in Notification.objects.select_related("recipient")}
    assert rows["rep1", "breach"].channel == Channel.EMAIL
    assert rows["manager", "breach"].channel == Channel.BOTH
    assert rows["rep1", "warning"].channel == Channel.DIGEST
    keys = set(Message.objects.values_list("key", flat=True))
    assert keys == {f"notification-{rows['rep1', 'breach'].pk}", f"notification-{rows['manager', 'breach'].pk}"}
    email = Message.objects.get(recipient=cast.rep.email)
    assert email.subject == "First-contact deadline missed: Jane Doe (Acme)"
    assert f"https://leadhandoff.test/leads/{clock.lead_id}/brief/" in email.body
    assert email.body.startswith("You missed the first-contact deadline for Jane Doe (Acme)")


def test_the_email_leaves_with_its_stable_message_id(cast):
    NotificationPreference.objects.create(user=cast.rep, kind=EventKind.BREACH, channel=Channel.EMAIL)
    notifications_for_events(events=[event(a_clock(cast))], now=DUE)
    notification = Notification.objects.get(recipient=cast.rep)
    assert outbox_deliver(now=DUE) == 1
    [sent] = mail.outbox
    assert sent.to == [cast.rep.email]
    assert sent.extra_headers["Message-ID"] == f"<notification-{notification.pk}@leadhandoff>"


def test_a_rolled_back_sweep_leaves_no_notification_and_no_email(cast):
    NotificationPreference.objects.create(user=cast.rep, kind=EventKind.BREACH, channel=Channel.BOTH)
    clock = a_clock(cast)
    with pytest.raises(RuntimeError), transaction.atomic():
        notifications_for_events(events=[event(clock)], now=DUE)
        raise RuntimeError("the sweep failed")
    assert (Notification.objects.count(), Message.objects.count()) == (0, 0)


def test_nothing_to_tell_is_zero(cast):
    assert notifications_for_events(events=[], now=DUE) == 0
