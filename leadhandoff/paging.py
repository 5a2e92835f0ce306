"""A page of a list and the list's length, read in one statement."""

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window

_TOTAL = "page_list_total"


def page_with_count(queryset: QuerySet, number, per_page: int) -> Page:
    """Paginator(queryset, per_page).get_page(number), in one query instead of two.

    Paginator counts the list (a query) and then reads the page (another). Here the page's
    rows carry the list's length (count(*) OVER (), taken before LIMIT), so a page costs one
    statement to compile and run; on the pages a rep opens fifty times a day, compiling the
    count cost more CPU than PostgreSQL spent running it. An empty page (an empty list, a
    page past the end, a page number that is not a number) is Paginator's own answer.
    """
    paginator = Paginator(queryset, per_page)
    raw = "1" if number in (None, "") else str(number)
    if not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
        return paginator.get_page(number)
    n = int(raw)
    rows = list(queryset.annotate(**{_TOTAL: Window(Count("*"))})[(n - 1) * per_page : n * per_page])
    if not rows:
        return paginator.get_page(n)
    first = rows[0]
    # Paginator.count is a cached_property: this is its value. Rows are instances or, from
    # values(), dicts (which then leave the total out).
    if isinstance(first, dict):
        paginator.count = first[_TOTAL]
        for row in rows:
            del row[_TOTAL]
    else:
        paginator.count = getattr(first, _TOTAL)
    return Page(rows, n, paginator)
