"""Reads of the nurture pool (marketing and admins only)."""

from django.db.models import F, QuerySet

from accounts.models import User
from leads.models import Lead
from leads.selectors import leads_visible_to


def nurture_pool(*, user: User) -> QuerySet[Lead]:
    """The hidden pool: only marketing and admins get anything back."""
    return leads_visible_to(user=user).filter(status="nurture") if not user.is_sales else Lead.objects.none()


class LeadsInScoreOrder:
    """A lead queryset in score order, for Paginator, read from the score index.

    Ordered as POOL_SORTS' "-score"/"score" (leads.pool.filters): by total, ties by lead,
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
