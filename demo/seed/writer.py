"""Writing the plans: bulk inserts in chunks, lead ids first, then each lead's children."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable

from accounts.business_time import calendar_around_the_clock
from accounts.models import RepProfile
from accounts.selectors import policy_default
from demo.seed.builder import Plan
from demo.seed.constants import CHUNK, SECOND
from leads import history
from leads.clock.services import clock_terms
from leads.models import ClockOutcome, EngagementEvent, FirstContactClock, Lead, LeadHistory, LeadScore, Origin, Touch
from scoring.legend import legend_ensure
from scoring.rules import Definition
from sla.models import ClockEvent, EventKind


def _chunks(items: list, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def plans_write(
    plans: list[Plan], *, definition: Definition, now: datetime.datetime, log: Callable[[str], None]
) -> dict:
    leads = [p.lead for p in plans]
    for chunk in _chunks(leads):
        Lead.objects.bulk_create(chunk, batch_size=CHUNK)
    log(f"  {len(leads)} leads")

    legend_ensure(definition)  # every demo score is against the one active definition
    scores = []
    for p in plans:
        if p.score is not None:
            p.score.lead_id = p.lead.pk
            scores.append(p.score)
    for chunk in _chunks(scores):
        LeadScore.objects.bulk_create(chunk, batch_size=CHUNK)
    log(f"  {len(scores)} scores")

    events = [
        EngagementEvent(lead_id=p.lead.pk, kind=kind, occurred_at=at, properties={})
        for p in plans
        for kind, at in p.events
    ]
    for chunk in _chunks(events):
        EngagementEvent.objects.bulk_create(chunk, batch_size=CHUNK)
    log(f"  {len(events)} engagement events")

    touches = []
    for p in plans:
        for touch in p.touches:
            touch.lead_id = p.lead.pk
            touches.append(touch)
    for chunk in _chunks(touches):
        Touch.objects.bulk_create(chunk, batch_size=CHUNK)
    log(f"  {len(touches)} touches")

    clocks, clock_events = _clocks(plans, now=now)
    for chunk in _chunks(clocks):
        FirstContactClock.objects.bulk_create(chunk, batch_size=CHUNK)
    for event in clock_events:
        event.clock_id = event.clock.pk
    ClockEvent.objects.bulk_create(clock_events, batch_size=CHUNK)
    log(f"  {len(clocks)} first-contact clocks, {len(clock_events)} warnings, breaches and escalations")

    rows = [entry.row(lead_id=p.lead.pk, at=at, actor_id=actor_id) for p in plans for entry, at, actor_id in p.history]
    for chunk in _chunks(rows):
        LeadHistory.objects.bulk_create(chunk, batch_size=CHUNK)
    log(f"  {len(rows)} history rows")

    return {
        "leads": len(leads),
        "scores": len(scores),
        "events": len(events),
        "touches": len(touches),
        "history": len(rows),
        "clocks": len(clocks),
        "clock_events": len(clock_events),
        "statuses": dict(Counter(lead.status for lead in leads)),
    }


def _clocks(plans: list[Plan], *, now: datetime.datetime) -> tuple[list[FirstContactClock], list[ClockEvent]]:
    """Each assignment's clock as the sweep would have left it at `now`, with what it did.

    Terms come from the policy (leads.clock.services.clock_terms), so the demo's
    warnings and escalations fall where the product puts them. History rows for
    them join the plan's history.
    """
    policy = policy_default()
    clocks, events = [], []
    for p in plans:
        c = p.clock
        if c is None:
            continue
        terms = clock_terms(policy=policy, calendar=calendar_around_the_clock(), start=c["started_at"])
        clock = FirstContactClock(lead_id=p.lead.pk, rep=c["rep"], team=c["team"], **terms)
        end = c.get("contacted_at") or c.get("closed_at")
        horizon = min(end or now, now)
        due = clock.due_at

        def event(kind: str, at: datetime.datetime, seq: int = 1, clock=clock, lead_id=p.lead.pk, rep=c["rep"]) -> None:
            # The sweep runs every minute: it wrote each event within a minute of its moment.
            events.append(
                ClockEvent(
                    clock=clock,
                    lead_id=lead_id,
                    rep=rep,
                    kind=kind,
                    seq=seq,
                    due_at=at,
                    created_at=at + 30 * SECOND,
                )
            )

        for seq, at in enumerate(clock.warn_at, start=1):
            if at <= horizon:
                event(EventKind.WARNING, at, seq)
                p.note(history.sla_warning(due=due), at + 30 * SECOND)
                clock.warnings_sent = seq
        if due < horizon:
            event(EventKind.BREACH, due)
            p.note(history.sla_breached(due=due), due + 30 * SECOND)
            clock.outcome, clock.breached_at = ClockOutcome.BREACHED, due
            if clock.escalate_at and clock.escalate_at <= horizon:
                event(EventKind.ESCALATION, clock.escalate_at)
                clock.escalated_at = clock.escalate_at
        if end is not None and end <= now:
            clock.ended_at = end
            if c.get("contacted_at"):
                clock.contacted_at = end
                clock.seconds_to_contact = clock.business_seconds_to_contact = int(
                    (end - clock.started_at).total_seconds()
                )
                clock.outcome = clock.outcome or ClockOutcome.MET
            else:
                clock.outcome = clock.outcome or ClockOutcome.CLOSED
        clock.next_action, clock.next_action_at = clock.next_step()
        clocks.append(clock)
    return clocks, events


def rep_profiles_touch(plans: list[Plan]) -> None:
    """Each rep's round-robin position: the last time a lead was routed to them."""
    last: dict[int, datetime.datetime] = {}
    for p in plans:
        if p.lead.owner_id and p.lead.assigned_at and p.lead.origin == Origin.MARKETING:
            last[p.lead.owner_id] = max(last.get(p.lead.owner_id, p.lead.assigned_at), p.lead.assigned_at)
    for profile in RepProfile.objects.filter(user_id__in=last):
        profile.last_assigned_at = last[profile.user_id]
        profile.save(update_fields=["last_assigned_at"])
