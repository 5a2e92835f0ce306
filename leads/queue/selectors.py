"""Reads for the sales queue: a rep's queue, the lead brief, marketing's rejections.

Every function starts from leads.selectors.leads_visible_to, so the nurture pool
and other reps' leads never leak, and returns querysets with what the page needs
joined or prefetched, so a page makes a fixed number of queries however long
the queue is.
"""

import dataclasses
import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404

from accounts.models import Team, User
from leadhandoff.json_rows import instance_from_json, instances_from_json, related_cache, row_json
from leads.history import sentences
from leads.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    EngagementEvent,
    EventKind,
    FirstContactClock,
    Lead,
    LeadHistory,
    LeadScore,
    Origin,
    ScoreLegend,
    Status,
    Touch,
)
from leads.selectors import lead_get_for_user, leads_visible_to

# The queue's status filter: open work by default, or one stage, or everything.
QUEUE_STATUS_OPEN = "open"
QUEUE_STATUS_CLOSED = "closed"
QUEUE_STATUS_ALL = "all"
# Statuses a rep's own lead can be in (queued leads have no owner, nurture is hidden).
REP_LEAD_STATUSES = [Status.ASSIGNED, Status.CONTACTED, Status.WORKING, Status.OPPORTUNITY, Status.WON, Status.LOST]

# How much engagement and history the brief shows; older rows are summarised by counts.
BRIEF_EVENTS_LIMIT = 50
BRIEF_HISTORY_LIMIT = 100


# The summary strip's windows on the first-contact deadline (QueueFilters.due).
DUE_OVERDUE = "overdue"
DUE_WITHIN_HOUR = "hour"
DUE_TODAY = "today"
DUE_WINDOWS = (DUE_OVERDUE, DUE_WITHIN_HOUR, DUE_TODAY)


@dataclass(frozen=True)
class QueueFilters:
    status: str = QUEUE_STATUS_OPEN
    source: str = ""
    origin: str = ""
    overdue: bool = False
    q: str = ""
    due: str = ""  # one of DUE_WINDOWS


def _end_of_day(now: datetime.datetime, tz: datetime.tzinfo) -> datetime.datetime:
    """Midnight after `now` in the rep's time zone: "due today" is the rep's today."""
    local = now.astimezone(tz)
    tomorrow = datetime.datetime.combine(local.date() + datetime.timedelta(days=1), datetime.time(), tzinfo=tz)
    return tomorrow.astimezone(datetime.UTC)


def _due_bounds(
    due: str, *, now: datetime.datetime, tz: datetime.tzinfo
) -> tuple[datetime.datetime | None, datetime.datetime]:
    """[start, end) of a summary figure's deadline window (start None: overdue, open-ended)."""
    if due == DUE_OVERDUE:
        return None, now
    if due == DUE_WITHIN_HOUR:
        return now, now + datetime.timedelta(hours=1)
    return now, _end_of_day(now, tz)


def _due_window(due: str, *, now: datetime.datetime, tz: datetime.tzinfo) -> Q:
    """The deadline window of a summary figure (an open clock: sla_due_at is cleared at first contact)."""
    start, end = _due_bounds(due, now=now, tz=tz)
    return Q(sla_due_at__lt=end) if start is None else Q(sla_due_at__gte=start, sla_due_at__lt=end)


@dataclass(frozen=True)
class QueueSummary:
    overdue: int
    due_within_hour: int
    due_today: int
    rep_sourced_open: int
    sources: list[str] = field(default_factory=list)  # among all the rep's leads, for the source filter


def my_queue_summary(*, user: User, now: datetime.datetime, tz: datetime.tzinfo) -> QueueSummary:
    """The strip above the queue (the caller's open leads by deadline window) and the sources
    of all their leads (the source filter), in one query.

    "Due today" counts what is still to come before the rep's midnight (the hour's included).
    The counts are written in SQL around the access door's own query: the ORM spent more CPU
    compiling five filtered counts than PostgreSQL spends running them, on the page a rep
    opens fifty times a day.
    """
    leads_sql, leads_params = (
        leads_visible_to(user=user).filter(owner=user).values("status", "sla_due_at", "origin", "source").query
    ).sql_with_params()
    _, hour_end = _due_bounds(DUE_WITHIN_HOUR, now=now, tz=tz)
    _, today_end = _due_bounds(DUE_TODAY, now=now, tz=tz)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*) FILTER (WHERE o AND sla_due_at < %s),
                   count(*) FILTER (WHERE o AND sla_due_at >= %s AND sla_due_at < %s),
                   count(*) FILTER (WHERE o AND sla_due_at >= %s AND sla_due_at < %s),
                   count(*) FILTER (WHERE o AND origin = %s),
                   coalesce(array_agg(DISTINCT source ORDER BY source) FILTER (WHERE source <> ''), '{{}}')
            FROM (SELECT l.*, l.status = ANY(%s) AS o FROM ({leads_sql}) l) l
            """,  # noqa: S608 - the door's compiled query; values are parameters
            [
                now,
                now,
                hour_end,
                now,
                today_end,
                Origin.REP_SOURCED.value,
                [str(s) for s in OPEN_STATUSES],
                *leads_params,
            ],
        )
        overdue, hour, today, rep_sourced, sources = cursor.fetchone()
    return QueueSummary(overdue, hour, today, rep_sourced, sources)


def my_queue(
    *,
    user: User,
    filters: QueueFilters | None = None,
    now: datetime.datetime,
    tz: datetime.tzinfo = datetime.UTC,
) -> QuerySet[Lead]:
    """The caller's own leads, most urgent first-contact deadline first.

    Leads whose clock runs come first (earliest deadline on top), then the rest
    by most recent activity. Only the caller's own leads, whatever their role:
    managers use the team dashboard.
    """
    filters = filters or QueueFilters()
    qs = leads_visible_to(user=user).filter(owner=user)
    if filters.status == QUEUE_STATUS_OPEN:
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif filters.status == QUEUE_STATUS_CLOSED:
        qs = qs.filter(status__in=CLOSED_STATUSES)
    elif filters.status in REP_LEAD_STATUSES:
        qs = qs.filter(status=filters.status)
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.origin in Origin.values:
        qs = qs.filter(origin=filters.origin)
    if filters.overdue:
        qs = qs.filter(sla_due_at__lt=now)
    if filters.due in DUE_WINDOWS:
        qs = qs.filter(_due_window(filters.due, now=now, tz=tz))
    if filters.q:
        for term in filters.q.split()[:5]:
            qs = qs.filter(
                Q(first_name__icontains=term)
                | Q(last_name__icontains=term)
                | Q(email__icontains=term)
                | Q(company__icontains=term)
            )
    return (
        qs.select_related("scorecard")
        .order_by(F("sla_due_at").asc(nulls_last=True), F("last_activity_at").desc(nulls_last=True), "-id")
        .only(*QUEUE_FIELDS)
    )


# Columns the queue shows (the list never needs the JSON explanations).
QUEUE_FIELDS = (
    "id",
    "email",
    "external_id",  # str(lead) falls back to it
    "first_name",
    "last_name",
    "title",
    "company",
    "source",
    "campaign",
    "origin",
    "rep_source_channel",
    "status",
    "sla_due_at",
    "assigned_at",
    "first_contact_at",
    "last_activity_at",
    "touch_count",
    "deal_value",
    "owner_id",
    "scorecard__total",  # the score badge, joined (select_related in my_queue)
)


@dataclass(slots=True)
class QueueRow:
    """A row of the queue page: the columns it shows, without a model instance per lead.

    Building 25 Lead and LeadScore instances (with 30 deferred fields each) cost the page more
    CPU than reading their rows; the page reads plain values (queue_page_rows).
    """

    pk: int
    email: str | None
    external_id: str | None
    first_name: str
    last_name: str
    title: str
    company: str
    source: str
    origin: str
    rep_source_channel: str
    status: str
    sla_due_at: datetime.datetime | None
    first_contact_at: datetime.datetime | None
    last_activity_at: datetime.datetime | None
    touch_count: int | None
    score: int | None
    clock: object = None  # leads.clock.selectors.ClockStatus of its open clock, set by the page

    __str__ = Lead.__str__  # the lead's name as everywhere else: the same attributes, read here


_ROW_COLUMNS = [f.name for f in dataclasses.fields(QueueRow) if f.name not in ("pk", "score", "clock")]


def queue_page_rows(leads: QuerySet[Lead]) -> QuerySet:
    """my_queue's leads as plain values for QueueRow (the page wraps one page of them)."""
    return leads.values("pk", *_ROW_COLUMNS, score=F("scorecard__total"))


@dataclass
class Brief:
    """Everything a rep reads before the first call."""

    lead: Lead
    explanation: dict
    explanation_version: int | None
    events: list[EngagementEvent]
    event_counts: list[dict] = field(default_factory=list)
    event_total: int = 0
    touches: list[Touch] = field(default_factory=list)
    history: list[LeadHistory] = field(default_factory=list)
    clocks: list[FirstContactClock] = field(default_factory=list)  # newest first, each with its rep


def brief_lead_get(*, user: User, lead_id: int, with_score: bool = False) -> Lead:
    """The lead of a brief: visible to the user and in the sales queue (never the pool).

    Admins may see pool leads on marketing's pages; the brief is a sales page,
    so a nurture lead is a 404 here for everyone. `with_score` joins the score
    and its legend (the brief page shows them).
    """
    lead = _brief_lead(user=user, lead_id=lead_id) if with_score else lead_get_for_user(user=user, lead_id=lead_id)
    if lead is None or lead.status == Status.NURTURE:
        raise Http404("No such lead in the sales queue.")
    return lead


# The brief's lead with its owner, team, score and legend, as lead_get_for_user(with_score=True)
# reads them, in one statement around the access door's own query: compiling the ORM's
# five-table join cost about four times as long as running it. tests/leads/test_brief.py
# holds every field equal to the ORM's.
_BRIEF_LEAD_SQL = f"""
    SELECT {row_json(Lead, "l")}, {row_json(User, "o")}, {row_json(Team, "t")},
           {row_json(LeadScore, "s")}, {row_json(ScoreLegend, "g")}
    FROM {Lead._meta.db_table} l
    LEFT JOIN {User._meta.db_table} o ON o.id = l.owner_id
    LEFT JOIN {Team._meta.db_table} t ON t.id = l.team_id
    LEFT JOIN {LeadScore._meta.db_table} s ON s.lead_id = l.id
    LEFT JOIN {ScoreLegend._meta.db_table} g ON g.version = s.{LeadScore.legend.field.column}
    WHERE l.id IN ({{door}})
"""  # noqa: S608 - table names from the models; the door's compiled query; values are parameters


def _brief_lead(*, user: User, lead_id: int) -> Lead | None:
    door, params = leads_visible_to(user=user).filter(pk=lead_id).values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(_BRIEF_LEAD_SQL.format(door=door), params)
        row = cursor.fetchone()
    if row is None:
        return None
    lead, owner, team, card, legend = (
        instance_from_json(model, value)
        for model, value in zip((Lead, User, Team, LeadScore, ScoreLegend), row, strict=True)
    )
    # Cached as select_related caches them: reading lead.owner or lead.scorecard is no query.
    Lead.owner.field.set_cached_value(lead, owner)
    Lead.team.field.set_cached_value(lead, team)
    Lead.scorecard.related.set_cached_value(lead, card)
    if card is not None:
        LeadScore.lead.field.set_cached_value(card, lead)
        LeadScore.legend.field.set_cached_value(card, legend)
    return lead


def _people_named_in(history: str) -> str:
    """SQL: the users a history CTE's payloads name (leads.history.sentences reads these keys)."""
    return " UNION ".join(
        f"SELECT (data->>'{key}')::bigint FROM {history} WHERE data->>'{key}' ~ '^[0-9]{{1,18}}$'"  # noqa: S608
        for key in ("owner_id", "old_owner_id")
    )


# The brief's four lists and the people they name, as JSON, in one statement. Four ORM queries
# cost about 2.5 ms of CPU to compile and build on the page a rep opens fifty times a day;
# this costs a fraction of it. tests/leads/test_brief.py holds it equal to the ORM's lists.
_BRIEF_LISTS_SQL = f"""
    WITH e AS (
        SELECT * FROM {EngagementEvent._meta.db_table} WHERE lead_id = %(lead)s
        ORDER BY occurred_at DESC, id DESC LIMIT %(events)s
    ), t AS (
        SELECT * FROM {Touch._meta.db_table} WHERE lead_id = %(lead)s
    ), h AS (
        SELECT * FROM {LeadHistory._meta.db_table} WHERE lead_id = %(lead)s
        ORDER BY created_at DESC, id DESC LIMIT %(history)s
    ), c AS (
        SELECT * FROM {FirstContactClock._meta.db_table} WHERE lead_id = %(lead)s
    ), people AS (
        SELECT rep_id AS id FROM t UNION SELECT actor_id FROM h UNION SELECT rep_id FROM c
        UNION {_people_named_in("h")}
    )
    SELECT (SELECT json_agg(e ORDER BY occurred_at DESC, id DESC) FROM e),
           (SELECT json_agg(t ORDER BY occurred_at DESC, id DESC) FROM t),
           (SELECT json_agg(h ORDER BY created_at DESC, id DESC) FROM h),
           (SELECT json_agg(c ORDER BY started_at DESC, id DESC) FROM c),
           (SELECT json_agg(json_build_array(id, username, first_name, last_name))
            FROM {User._meta.db_table} WHERE id IN (SELECT id FROM people))
"""  # noqa: S608 - table names from the models; values are parameters


def _brief_lists(lead: Lead) -> tuple[list, list, list, list, dict[int, User]]:
    with connection.cursor() as cursor:
        cursor.execute(
            _BRIEF_LISTS_SQL, {"lead": lead.pk, "events": BRIEF_EVENTS_LIMIT + 1, "history": BRIEF_HISTORY_LIMIT}
        )
        events, touches, history, clocks, people = cursor.fetchone()
    # Only what a name needs (str(user)): reading another field of these would be a query.
    users = {
        pk: User.from_db(connection.alias, ["id", "username", "first_name", "last_name"], [pk, *rest])
        for pk, *rest in people or ()
    }
    events, touches = instances_from_json(EngagementEvent, events), instances_from_json(Touch, touches)
    history, clocks = instances_from_json(LeadHistory, history), instances_from_json(FirstContactClock, clocks)
    related_cache(touches, "rep", users)
    related_cache(history, "actor", users)
    related_cache(clocks, "rep", users)
    return events, touches, history, clocks, users


def brief(*, lead: Lead, tz: datetime.tzinfo = datetime.UTC) -> Brief:
    """Engagement, touches, history and first-contact clocks of one lead, with the people they
    name: one statement whatever their length, two when it has more events than the brief lists.

    The lead comes from brief_lead_get(with_score=True), so its score is joined already.
    """
    events, touches, history, clocks, users = _brief_lists(lead)
    # One row more than shown tells whether these are all the lead's events; when they are (most
    # leads), their counts by kind are counted here rather than by a second query.
    if len(events) <= BRIEF_EVENTS_LIMIT:
        by_kind = Counter(event.kind for event in events)
        event_counts = [{"kind": kind, "n": n} for kind, n in sorted(by_kind.items(), key=lambda kv: (-kv[1], kv[0]))]
    else:
        events = events[:BRIEF_EVENTS_LIMIT]
        event_counts = list(
            EngagementEvent.objects.filter(lead=lead).values("kind").annotate(n=Count("id")).order_by("-n", "kind")
        )
    for row in event_counts:
        row["label"] = EventKind(row["kind"]).label if row["kind"] in EventKind.values else row["kind"]
    if lead.promotion_explanation:
        explanation, version = lead.promotion_explanation, lead.promoted_version
    else:
        explanation, version = lead.score_explanation, lead.scored_version
    return Brief(
        lead=lead,
        explanation=explanation,
        explanation_version=version,
        events=events,
        event_counts=event_counts,
        event_total=sum(row["n"] for row in event_counts),
        touches=touches,
        history=sentences(history, tz=tz, users=users),
        clocks=clocks,
    )


def lead_touches(*, lead: Lead) -> QuerySet[Touch]:
    return Touch.objects.filter(lead=lead).select_related("rep").order_by("-occurred_at", "-id")


@dataclass(frozen=True)
class RejectionFilters:
    reason: str = ""
    version: int | None = None


def rejections(*, user: User, filters: RejectionFilters | None = None) -> QuerySet[Lead]:
    """Leads reps sent back to marketing, latest first (marketing and admins only)."""
    filters = filters or RejectionFilters()
    if user.is_sales:
        return Lead.objects.none()
    qs = leads_visible_to(user=user).filter(rejected_at__isnull=False)
    if filters.version is not None:
        qs = qs.filter(rejected_version=filters.version)
    if filters.reason:
        qs = qs.filter(reject_reason=filters.reason)
    return qs.select_related("rejected_by").order_by("-rejected_at", "-id")


def rejection_counts(*, user: User, version: int | None = None) -> list[dict]:
    """Rejections per reason (within a definition version when given), most frequent first."""
    qs = rejections(user=user, filters=RejectionFilters(version=version))
    return list(qs.order_by().values("reject_reason").annotate(n=Count("id")).order_by("-n", "reject_reason"))


def rejection_versions(*, user: User) -> list[int]:
    """Definition versions that have rejections, for the version filter."""
    return list(
        rejections(user=user)
        .exclude(rejected_version__isnull=True)
        .order_by("-rejected_version")
        .values_list("rejected_version", flat=True)
        .distinct()
    )
