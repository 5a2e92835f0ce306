"""Filters for lead lists: the API's and the nurture pool page's.

Both filter a queryset that already went through leads.selectors, so a
filter can only narrow what the user may see, never widen it.
"""

import datetime

import django_filters
from django import forms
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from rest_framework.exceptions import ValidationError as ApiValidationError

from accounts.access import MARKETING_SIDE, user_has_role
from leads.fields.selectors import custom_fields_list
from leads.models import CustomField, CustomFieldKind, Lead, Origin, Status
from leads.search import lead_search_text

# --- Custom fields (issue 14): filters named attr_<name> (min/max for numbers and dates) ---


def custom_field_filters(fields: list[CustomField], *, widgets: bool = False) -> dict[str, django_filters.Filter]:
    """Filters over declared custom fields, read from lead.attributes like a built-in column."""
    filters: dict[str, django_filters.Filter] = {}
    for field in fields:
        lookup = f"attributes__{field.name}"
        name = f"attr_{field.name}"
        if field.kind == CustomFieldKind.NUMBER:
            filters[f"{name}_min"] = django_filters.NumberFilter(
                field_name=lookup,
                lookup_expr="gte",
                method=_number_filter(lookup, "gte"),
                label=f"{field.label} from",
                widget=_number_input() if widgets else None,
            )
            filters[f"{name}_max"] = django_filters.NumberFilter(
                field_name=lookup,
                lookup_expr="lte",
                method=_number_filter(lookup, "lte"),
                label=f"{field.label} to",
                widget=_number_input() if widgets else None,
            )
        elif field.kind == CustomFieldKind.DATE:
            for suffix, expr, word in (("from", "gte", "from"), ("to", "lte", "to")):
                filters[f"{name}_{suffix}"] = django_filters.DateFilter(
                    field_name=lookup,
                    lookup_expr=expr,
                    label=f"{field.label} {word}",
                    method=_date_filter(lookup, expr),
                    widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"})
                    if widgets
                    else None,
                )
        elif field.kind in (CustomFieldKind.CHOICE, CustomFieldKind.YES_NO):
            choices = (
                [(c, c) for c in field.choices]
                if field.kind == CustomFieldKind.CHOICE
                else [("yes", "Yes"), ("no", "No")]
            )
            filters[name] = django_filters.ChoiceFilter(
                field_name=lookup,
                choices=choices,
                label=field.label,
                empty_label="Any",
                widget=_select() if widgets else None,
            )
        else:
            filters[name] = django_filters.CharFilter(
                field_name=lookup,
                lookup_expr="iexact",
                label=field.label,
                widget=_text_input(field.label) if widgets else None,
            )
    return filters


def _number_filter(lookup: str, expr: str):
    def apply(queryset: QuerySet[Lead], name: str, value) -> QuerySet[Lead]:
        # Compared as JSON numbers (custom numbers are stored as such: leads.fields.services).
        number = int(value) if value == value.to_integral_value() else float(value)
        return queryset.filter(**{f"{lookup}__{expr}": number})

    return apply


def _date_filter(lookup: str, expr: str):
    def apply(queryset: QuerySet[Lead], name: str, value: datetime.date) -> QuerySet[Lead]:
        # Stored as ISO text (leads.fields.services): ISO dates order as text.
        return queryset.filter(**{f"{lookup}__{expr}": value.isoformat()})

    return apply


def _number_input() -> forms.NumberInput:
    return forms.NumberInput(attrs={"class": "form-control form-control-sm"})


def _personal_refused(label: str):
    def refuse(queryset: QuerySet[Lead], name: str, value) -> QuerySet[Lead]:
        raise ApiValidationError({name: [f"{label} is personal data: sales cannot filter on it."]})

    return refuse


# --- API --------------------------------------------------------------------


class LeadApiFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Status.choices)
    origin = django_filters.ChoiceFilter(choices=Origin.choices)
    source = django_filters.CharFilter()
    campaign = django_filters.CharFilter()
    country = django_filters.CharFilter()
    industry = django_filters.CharFilter()
    # By id, not a model choice: validating a choice would tell a caller which user ids exist.
    owner = django_filters.NumberFilter(field_name="owner_id", label="Owner (user id)")
    team = django_filters.NumberFilter(field_name="team_id", label="Team id")

    class Meta:
        model = Lead
        fields = ("status", "origin", "source", "campaign", "country", "industry", "owner", "team")

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        # Declared custom fields filter like columns; sales asking for a personal one get a 400.
        user = getattr(request, "user", None)
        marketing = user is not None and user_has_role(user, MARKETING_SIDE)
        fields = list(custom_fields_list())
        self.filters.update(custom_field_filters([f for f in fields if marketing or not f.personal]))
        if not marketing:
            # Every name a personal field's filters would take (the same builder), refused.
            for field in (f for f in fields if f.personal):
                for name in custom_field_filters([field]):
                    self.filters[name] = django_filters.CharFilter(method=_personal_refused(field.label))


# --- Nurture pool page ------------------------------------------------------

SCORE_BANDS = [
    ("unscored", "Not scored yet"),
    ("lt25", "Below 25"),
    ("25-49", "25–49"),
    ("50-74", "50–74"),
    ("75plus", "75 and above"),
]
# The score lives in LeadScore (lead.scorecard); an unscored lead has no row at all.
_SCORE_BAND_Q = {
    "unscored": Q(scorecard__isnull=True),
    "lt25": Q(scorecard__total__lt=25),
    "25-49": Q(scorecard__total__gte=25, scorecard__total__lt=50),
    "50-74": Q(scorecard__total__gte=50, scorecard__total__lt=75),
    "75plus": Q(scorecard__total__gte=75),
}

ACTIVITY_WINDOWS = [
    ("7", "Within 7 days"),
    ("30", "Within 30 days"),
    ("90", "Within 90 days"),
    ("older", "More than 90 days ago"),
    ("never", "Never"),
]

# Sort key -> order_by terms. Every order ends in -id so pages never overlap.
POOL_SORTS = {
    "-created": (F("created_at").desc(), F("id").desc()),
    "created": (F("created_at").asc(), F("id").asc()),
    "-score": (F("scorecard__total").desc(nulls_last=True), F("id").desc()),
    "score": (F("scorecard__total").asc(nulls_last=True), F("id").asc()),
    "-activity": (F("last_activity_at").desc(nulls_last=True), F("id").desc()),
    # Least active first, never-active leads leading: the activity index read backwards.
    "activity": (F("last_activity_at").asc(nulls_first=True), F("id").asc()),
    "company": (F("company").asc(), F("id").asc()),
    "-company": (F("company").desc(), F("id").desc()),
}
POOL_SORT_CHOICES = [
    ("-created", "Newest first"),
    ("created", "Oldest first"),
    ("-score", "Highest score"),
    ("score", "Lowest score"),
    ("-activity", "Most recent activity"),
    ("activity", "Least recent activity"),
    ("company", "Company A–Z"),
    ("-company", "Company Z–A"),
]
POOL_DEFAULT_SORT = "-created"


def _text_input(placeholder: str) -> forms.TextInput:
    return forms.TextInput(attrs={"placeholder": placeholder, "class": "form-control form-control-sm"})


def _select() -> forms.Select:
    return forms.Select(attrs={"class": "form-select form-select-sm"})


class PoolFilter(django_filters.FilterSet):
    """Search, filters and sorting of the nurture pool page (and its CSV export).

    Source, campaign, country and industry match exactly, so the single-column
    indexes on Lead serve them on a large pool.
    """

    q = django_filters.CharFilter(method="filter_search", label="Search", widget=_text_input("Name, email, company"))
    source = django_filters.CharFilter(widget=_text_input("Source"))
    campaign = django_filters.CharFilter(widget=_text_input("Campaign"))
    country = django_filters.CharFilter(widget=_text_input("Country"))
    industry = django_filters.CharFilter(widget=_text_input("Industry"))
    score_band = django_filters.ChoiceFilter(
        choices=SCORE_BANDS, method="filter_score_band", label="Score", empty_label="Any score", widget=_select()
    )
    activity = django_filters.ChoiceFilter(
        choices=ACTIVITY_WINDOWS,
        method="filter_activity",
        label="Last activity",
        empty_label="Any time",
        widget=_select(),
    )
    sort = django_filters.ChoiceFilter(
        choices=POOL_SORT_CHOICES, method="sort_by", label="Sort", empty_label=None, widget=_select()
    )
    # The leads a browser import wrote (its finished page links here); kept hidden in the filter card.
    import_job = django_filters.NumberFilter(method="filter_import_job", widget=forms.HiddenInput)

    class Meta:
        model = Lead
        fields: list[str] = []

    def __init__(self, data=None, *args, now: datetime.datetime | None = None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.now = now or timezone.now()
        # The pool is marketing's: every declared custom field filters, personal ones included.
        sort = self.filters.pop("sort")
        self.filters.update(custom_field_filters(list(custom_fields_list()), widgets=True))
        self.filters["sort"] = sort

    def filter_search(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        # Every word must match somewhere: "ana acme" finds Ana at Acme. One text per
        # lead, so PostgreSQL answers from the pool's trigram index (lead_search_trgm_idx).
        terms = value.split()[:5]
        queryset = queryset.alias(search_text=lead_search_text())
        for term in terms:
            queryset = queryset.filter(search_text__icontains=term)
        return queryset

    def filter_score_band(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        return queryset.filter(_SCORE_BAND_Q[value])

    def filter_activity(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        if value == "never":
            return queryset.filter(last_activity_at__isnull=True)
        if value == "older":
            return queryset.filter(last_activity_at__lt=self.now - datetime.timedelta(days=90))
        return queryset.filter(last_activity_at__gte=self.now - datetime.timedelta(days=int(value)))

    def filter_import_job(self, queryset: QuerySet[Lead], name: str, value) -> QuerySet[Lead]:
        from leads.models import HistoryAction, ImportJob, LeadHistory

        job = ImportJob.objects.filter(pk=value).values("created_at", "finished_at").first()
        if job is None:
            return queryset.none()
        # The import's history rows (leads.history.imported), found through the (action, created_at)
        # index within the job's lifetime rather than by scanning every history row's payload.
        rows = LeadHistory.objects.filter(
            action=HistoryAction.IMPORTED, created_at__gte=job["created_at"], data__import_job=int(value)
        )
        if job["finished_at"]:
            rows = rows.filter(created_at__lte=job["finished_at"])
        return queryset.filter(pk__in=rows.values("lead_id"))

    def sort_by(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        return queryset.order_by(*POOL_SORTS[value])

    def filter_queryset(self, queryset: QuerySet[Lead]) -> QuerySet[Lead]:
        # The default order; a chosen `sort` replaces it (sort_by).
        return super().filter_queryset(queryset.order_by(*POOL_SORTS[POOL_DEFAULT_SORT]))
