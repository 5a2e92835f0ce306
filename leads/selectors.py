import datetime
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Role, User

from .history import sentences
from .models import SALES_VISIBLE_STATUSES, EngagementEvent, Lead, LeadHistory, Touch


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


def nurture_pool(*, user: User) -> QuerySet[Lead]:
    """The hidden pool: only marketing and admins get anything back."""
    return leads_visible_to(user=user).filter(status="nurture") if not user.is_sales else Lead.objects.none()


class LeadsInScoreOrder:
    """A lead queryset in score order, for Paginator, read from the score index.

    Ordered as POOL_SORTS' "-score"/"score" (leads.filters): by total, ties by lead,
    leads not scored yet last. That ORDER BY over the outer join of leads to their
    scores makes PostgreSQL sort every lead (0.9 s at a million). The same order
    is the scored leads in the order of leadscore_total_lead_idx, then the
    unscored by id; each part is read only as far as the page needs. The pool
    page and the API's lead list (?ordering=-score) read through it.
    """

    ordered = True  # for Paginator's unordered-list warning

    def __init__(self, queryset: QuerySet[Lead], *, descending: bool):
        total, lead = F("scorecard__total"), F("id")
        if descending:
            scored_order, unscored_order = (total.desc(), lead.desc()), (lead.desc(),)
        else:
            scored_order, unscored_order = (total.asc(), lead.asc()), (lead.asc(),)
        self._all = queryset.order_by()
        self._scored = queryset.filter(scorecard__isnull=False).order_by(*scored_order)
        self._unscored = queryset.filter(scorecard__isnull=True).order_by(*unscored_order)
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = self._all.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[Lead]:
        if not isinstance(key, slice) or key.step is not None:
            raise TypeError("LeadsInScoreOrder is read by slices, as Paginator does")
        start = key.start or 0
        stop = self.count() if key.stop is None else key.stop
        if stop <= start:
            return []
        rows = list(self._scored[start:stop])
        if len(rows) == stop - start:
            return rows
        # The scored leads end on this page (or before it): the unscored follow.
        scored = start + len(rows) if rows else self._scored.count()
        return rows + list(self._unscored[max(0, start - scored) : stop - scored])


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime.datetime
    kind: str  # "event", "touch" or "history"
    item: EngagementEvent | Touch | LeadHistory


def lead_timeline(*, lead: Lead, limit: int = 100) -> list[TimelineEntry]:
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
        for h in sentences(lead.history.select_related("actor").order_by("-created_at", "-id")[:limit])
    ]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries
