"""Who is told about what the sweep did: one notification per event and recipient.

First version (in-app only); preferences, email through the outbox and the
daily digest build on it.
"""

from __future__ import annotations

import datetime

from accounts.models import Role, Team, User
from sla.models import ClockEvent, EventKind, Notification

MESSAGES = {
    EventKind.WARNING: "First contact due soon on {lead}",
    EventKind.BREACH: "First-contact deadline missed on {lead}",
    EventKind.ESCALATION: "Still no contact after the deadline on {lead}",
    EventKind.REASSIGNMENT: "{lead} was reassigned after a missed deadline",
}


def _recipients(event: ClockEvent, managers: dict[int, int | None], admins: list[int]) -> set[int]:
    """The rep hears of every event; the team's manager of all but warnings; admins of escalations."""
    ids = {event.rep_id}
    team_id = event.clock.team_id
    if event.kind != EventKind.WARNING and managers.get(team_id):
        ids.add(managers[team_id])
    if event.kind == EventKind.ESCALATION:
        ids.update(admins)
    return ids


def notifications_for_events(*, events: list[ClockEvent], now: datetime.datetime) -> int:
    """Create the notifications of these (saved) events in the caller's transaction; return how many.

    A second call for the same events creates nothing (unique per event and recipient).
    """
    if not events:
        return 0
    team_ids = {e.clock.team_id for e in events if e.clock.team_id}
    managers = dict(Team.objects.filter(id__in=team_ids).values_list("id", "manager_id"))
    admins = []
    if any(e.kind == EventKind.ESCALATION for e in events):
        admins = list(User.objects.filter(role=Role.ADMIN, is_active=True).values_list("id", flat=True))
    rows = [
        Notification(
            recipient_id=user_id,
            kind=e.kind,
            event=e,
            lead_id=e.lead_id,
            message=MESSAGES[e.kind].format(lead=e.clock.lead if e.clock.lead_id else e.lead_id)[:255],
            created_at=now,
        )
        for e in events
        for user_id in sorted(_recipients(e, managers, admins))
    ]
    created = Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(created)
