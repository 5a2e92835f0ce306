import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Role, User
from leads.history import sentences
from leads.models import SALES_VISIBLE_STATUSES, EngagementEvent, Lead, LeadHistory, Touch


def leads_visible_to(*, user: User) -> QuerySet[Lead]:
    """Every lead query a user triggers starts here.

    Marketing and admins see everything. A rep sees only leads they own; a
    manager only their teams' leads; neither ever sees the nurture pool.
    """
    if not user.is_authenticated or not user.is_active:
        return Lead.objects.none()
    if user.is_superuser or user.role in (Role.MARKETING, Role.ADMIN):
        return Lead.objects.all()
    if user.role == Role.REP:
        return Lead.objects.filter(owner=user, status__in=SALES_VISIBLE_STATUSES)
    if user.role == Role.MANAGER:
        return Lead.objects.filter(
            Q(team__manager=user) | Q(owner__rep_profile__team__manager=user),
            status__in=SALES_VISIBLE_STATUSES,
        )
    return Lead.objects.none()


def lead_get_for_user(*, user: User, lead_id: int, write: bool = False, with_score: bool = False) -> Lead:
    """The one way a view fetches a lead: 404 when the user may not see it.

    `write` is for operations that change the lead; read-only callers leave it False.
    `with_score` joins the score and its legend, for pages that show the explanation.
    """
    qs = leads_visible_to(user=user).select_related("owner", "team")
    if with_score:
        qs = qs.select_related("scorecard__legend")
    if write:
        qs = qs.select_for_update(of=("self",))
    return get_object_or_404(qs, pk=lead_id)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime.datetime
    kind: str  # "event", "touch" or "history"
    item: EngagementEvent | Touch | LeadHistory


def lead_timeline(*, lead: Lead, limit: int = 100, tz: datetime.tzinfo = datetime.UTC) -> list[TimelineEntry]:
    """A lead's events, touches and history, newest first: three queries, at most `limit` of each.

    The caller fetched `lead` through lead_get_for_user, so access is settled.
    """
    entries = [TimelineEntry(e.occurred_at, "event", e) for e in lead.events.order_by("-occurred_at", "-id")[:limit]]
    entries += [
        TimelineEntry(t.occurred_at, "touch", t)
        for t in lead.touches.select_related("rep").order_by("-occurred_at", "-id")[:limit]
    ]
    # History in words: one more query for the users the rows name (leads.history.sentences).
    entries += [
        TimelineEntry(h.created_at, "history", h)
        for h in sentences(lead.history.select_related("actor").order_by("-created_at", "-id")[:limit], tz=tz)
    ]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries
