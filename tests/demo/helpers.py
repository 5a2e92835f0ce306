"""Shared checks of the demo history: table sizes and a digest independent of database ids."""

import hashlib
from collections import Counter

from accounts.models import RepProfile, Team, User
from demo.seed import LIVE_PREFIX
from leads.models import EngagementEvent, FirstContactClock, Lead, LeadHistory, LeadScore, ScoreLegend, Touch
from scoring.models import Approval, Comment, DefinitionVersion
from sla.models import ClockEvent


def table_counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "teams": Team.objects.count(),
        "reps": RepProfile.objects.count(),
        "leads": Lead.objects.count(),
        "scores": LeadScore.objects.count(),
        "legends": ScoreLegend.objects.count(),
        "events": EngagementEvent.objects.count(),
        "touches": Touch.objects.count(),
        "history": LeadHistory.objects.count(),
        "clocks": FirstContactClock.objects.count(),
        "clock_events": ClockEvent.objects.count(),
        "definitions": DefinitionVersion.objects.count(),
        "approvals": Approval.objects.count(),
        "comments": Comment.objects.count(),
    }


def fingerprint() -> str:
    """A digest of everything the seed decides, independent of database ids."""
    digest = hashlib.sha256()
    # rep1's live queue and the team queues are stamped at "now"; everything else is not.
    rows = (
        Lead.objects.exclude(external_id__startswith=LIVE_PREFIX)
        .order_by("external_id")
        .values_list(
            "external_id",
            "email",
            "status",
            "origin",
            "owner__username",
            "team__name",
            "touch_count",
            "scorecard__total",
            "scorecard__rule_points",
            "deal_value",
            "created_at",
            "closed_at",
            "first_contact_at",
            "reject_reason",
        )
    )
    for row in rows:
        digest.update(repr(row).encode())
    for model, key in ((EngagementEvent, "kind"), (Touch, "kind"), (Touch, "outcome"), (LeadHistory, "action")):
        digest.update(repr(sorted(Counter(model.objects.values_list(key, flat=True)).items())).encode())
    return digest.hexdigest()
