"""Writing the plans: bulk inserts in chunks, lead ids first, then each lead's children."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable

from accounts.models import RepProfile
from demo.seed.builder import Plan
from demo.seed.constants import CHUNK
from leads.models import EngagementEvent, Lead, LeadHistory, LeadScore, Origin, Touch
from scoring.legend import legend_ensure
from scoring.rules import Definition
from sla.models import SlaEvent


def _chunks(items: list, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def plans_write(plans: list[Plan], *, definition: Definition, log: Callable[[str], None]) -> dict:
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

    rows = [entry.row(lead_id=p.lead.pk, at=at, actor_id=actor_id) for p in plans for entry, at, actor_id in p.history]
    for chunk in _chunks(rows):
        LeadHistory.objects.bulk_create(chunk, batch_size=CHUNK)
    log(f"  {len(rows)} history rows")

    sla = [
        SlaEvent(lead_id=p.lead.pk, assigned_at=p.lead.assigned_at or p.history[0][1], **s)
        for p in plans
        for s in p.sla
    ]
    SlaEvent.objects.bulk_create(sla, batch_size=CHUNK)
    return {
        "leads": len(leads),
        "scores": len(scores),
        "events": len(events),
        "touches": len(touches),
        "history": len(rows),
        "sla_events": len(sla),
        "statuses": dict(Counter(lead.status for lead in leads)),
    }


def rep_profiles_touch(plans: list[Plan]) -> None:
    """Each rep's round-robin position: the last time a lead was routed to them."""
    last: dict[int, datetime.datetime] = {}
    for p in plans:
        if p.lead.owner_id and p.lead.assigned_at and p.lead.origin == Origin.MARKETING:
            last[p.lead.owner_id] = max(last.get(p.lead.owner_id, p.lead.assigned_at), p.lead.assigned_at)
    for profile in RepProfile.objects.filter(user_id__in=last):
        profile.last_assigned_at = last[profile.user_id]
        profile.save(update_fields=["last_assigned_at"])
