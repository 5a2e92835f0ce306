"""Marketing's pages over the nurture pool: the list, its CSV export and the lead page."""

import datetime
import itertools
from collections.abc import Iterator

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.access import MARKETING_SIDE, role_required
from leadhandoff.csv_files import csv_lines
from leads.fields.selectors import custom_fields_list, custom_values
from leads.models import LEAD_PROFILE_FIELDS
from leads.pool.filters import PoolFilter
from leads.pool.selectors import LeadsInScoreOrder, nurture_pool
from leads.selectors import lead_get_for_user, lead_timeline

POOL_PAGE_SIZE = 50
TIMELINE_LIMIT = 100

# Only what the list shows: the pool page stays a fixed two queries (count, page) at any size.
POOL_LIST_FIELDS = (
    "id",
    "email",
    "external_id",
    "first_name",
    "last_name",
    "title",
    "company",
    "industry",
    "country",
    "source",
    "campaign",
    "last_activity_at",
    "created_at",
    "rejected_at",
    "reject_reason",
    "recycled_count",
    "status",
    # The score badge, joined from lead.scorecard (select_related in pool()).
    "scorecard__total",
    "scorecard__passes_gates",
)

EXPORT_COLUMNS = (
    "id",
    *LEAD_PROFILE_FIELDS,
    "score",
    "fit_score",
    "behaviour_score",
    "passes_gates",
    "last_activity_at",
    "created_at",
    "rejected_at",
    "reject_reason",
    "recycled_count",
)
# CSV column -> the lookup it reads: the score columns live on lead.scorecard.
_EXPORT_LOOKUPS = {
    "score": "scorecard__total",
    "fit_score": "scorecard__fit",
    "behaviour_score": "scorecard__behaviour",
    "passes_gates": "scorecard__passes_gates",
}


def _pool_filter(request: HttpRequest, now: datetime.datetime) -> PoolFilter:
    return PoolFilter(request.GET, queryset=nurture_pool(user=request.user), now=now)


@role_required(*MARKETING_SIDE)
def pool(request: HttpRequest) -> HttpResponse:
    filterset = _pool_filter(request, timezone.now())
    leads = filterset.qs.select_related("scorecard").only(*POOL_LIST_FIELDS)
    sort = filterset.form.cleaned_data.get("sort") if filterset.form.is_valid() else None
    if sort in ("-score", "score"):
        leads = LeadsInScoreOrder(leads, descending=sort == "-score")
    page = Paginator(leads, POOL_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "leads/pool.html", {"filter": filterset, "page": page, "leads": page.object_list})


CONSENT_EXPORT_COLUMNS = ("do_not_email", "do_not_call", "unsubscribed", "consent_changed_at", "consent_source")


def _export_rows(queryset) -> Iterator[str]:
    # Declared custom fields are columns like built-in ones (attributes.<name>, as imports name them).
    custom = [f.name for f in custom_fields_list()]
    columns = (*EXPORT_COLUMNS, *CONSENT_EXPORT_COLUMNS, *(f"attributes.{name}" for name in custom))
    lookups = [_EXPORT_LOOKUPS.get(column, column) for column in (*EXPORT_COLUMNS, *CONSENT_EXPORT_COLUMNS)]
    lookups += [f"attributes__{name}" for name in custom]
    yield from csv_lines(itertools.chain([columns], queryset.values_list(*lookups).iterator(chunk_size=2000)))


@role_required(*MARKETING_SIDE)
def pool_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered pool as CSV, streamed in chunks so a large pool never sits in memory."""
    now = timezone.now()
    filterset = _pool_filter(request, now)
    response = StreamingHttpResponse(_export_rows(filterset.qs), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="nurture-pool-{now:%Y%m%d-%H%M}.csv"'
    return response


@role_required(*MARKETING_SIDE)
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Any lead, any status, for marketing: profile, score and why, rejection, timeline."""
    lead = lead_get_for_user(user=request.user, lead_id=lead_id, with_score=True)
    return render(
        request,
        "leads/lead_detail.html",
        {
            "lead": lead,
            "explanation": lead.score_explanation,
            "timeline": lead_timeline(lead=lead, limit=TIMELINE_LIMIT, tz=request.user.tz),
            "timeline_limit": TIMELINE_LIMIT,
            "custom_values": custom_values(lead=lead),
        },
    )
