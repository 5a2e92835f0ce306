"""Routing promoted leads to teams and reps.

STUB until the routing feature lands: it only parks leads in the fallback
team's unassigned queue. The signature is the contract scoring relies on.
"""

import datetime

from accounts.models import Team, User

from .models import Lead, Status


def leads_route(*, lead_ids: list[int], now: datetime.datetime, actor: User | None = None) -> int:
    """Route queued leads (status "queued") among `lead_ids`; return how many were assigned to a rep.

    Called inside the caller's transaction (scoring promotion) and by leads.tasks.
    """
    fallback = Team.objects.filter(is_fallback=True).first()
    if fallback is not None:
        Lead.objects.filter(id__in=lead_ids, status=Status.QUEUED, team__isnull=True).update(team=fallback)
    return 0
