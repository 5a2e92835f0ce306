"""The SLA dashboard's figures: compliance, time to first contact, breaches, warnings, reassignments.

Every figure counts first-contact clocks whose deadline fell in the period
(leads.clock.selectors.clocks_due_between), of the teams the reader may see.
Compliance is THE compliance function (leads.clock.selectors.compliance /
compliance_by); the time to first contact is PostgreSQL's `percentile_cont`
(linear interpolation), as the reports compute it. Every query reads the clock
table through its (team, due_at) index, never the lead table, and the page
makes the same number of queries for one rep or three teams of ten.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Case, Count, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import TruncWeek
from django.shortcuts import get_object_or_404

from accounts.models import RepProfile, Role, Team, User
from leadhandoff.durations import duration_words
from leads.clock.selectors import (
    Compliance,
    FreeToColdCall,
    came_due_q,
    clocks_due_between,
    compliance_by,
    free_to_cold_call_many,
)
from leads.models import ClockOutcome, FirstContactClock
from leads.selectors import leads_visible_to
from sla.models import ClockEvent, EventKind

# Who opens the dashboard (the page and its API): managers their teams, admins and marketing all.
DASHBOARD_ROLES = (Role.MARKETING, Role.MANAGER, Role.ADMIN)
PERIOD_DAYS = (7, 30, 90)
DEFAULT_DAYS = 30
# A custom period longer than this is refused: the figures stay an index range scan of bounded size.
MAX_PERIOD_DAYS = 366

# Upper bounds (seconds) of the time-to-first-contact histogram's bins; the last bin is open-ended.
HISTOGRAM_BOUNDS = (15 * 60, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 48 * 3600)


# --- Who sees what ----------------------------------------------------------------------------


def dashboard_teams_for(*, user: User) -> QuerySet[Team]:
    """Teams whose figures the user may read: a manager their own; admins and marketing all."""
    if user.is_admin_role or user.is_marketing:
        return Team.objects.all()
    if user.is_manager:
        return Team.objects.filter(manager=user)
    return Team.objects.none()


def dashboard_team_get(*, user: User, team_id: int) -> Team:
    """One team the user may read; another manager's team is a 404."""
    return get_object_or_404(dashboard_teams_for(user=user), pk=team_id)


def free_reps_for(*, user: User) -> QuerySet[RepProfile]:
    """Reps whose free-to-cold-call status the user may read: a rep only their own,
    a manager their teams' reps, admins all (marketing none: it is a sales matter)."""
    qs = RepProfile.objects.select_related("user", "team").order_by("user__username")
    if user.is_admin_role:
        return qs
    if user.is_manager:
        return qs.filter(team__manager=user)
    if user.is_rep:
        return qs.filter(user=user)
    return qs.none()


# --- Period -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """[start, end): the deadlines counted. `key` is "7", "30", "90" or "custom"."""

    start: datetime.datetime
    end: datetime.datetime
    key: str
    tz: datetime.tzinfo

    @property
    def first_day(self) -> datetime.date:
        return self.start.astimezone(self.tz).date()

    @property
    def last_day(self) -> datetime.date:
        return (self.end - datetime.timedelta(microseconds=1)).astimezone(self.tz).date()

    @property
    def label(self) -> str:
        if self.key == "custom":
            return f"{self.first_day:%d %b %Y} to {self.last_day:%d %b %Y}"
        return f"the last {self.key} days"


def period_last(*, days: int, now: datetime.datetime, tz: datetime.tzinfo) -> Period:
    return Period(now - datetime.timedelta(days=days), now, str(days), tz)


def period_between(*, first: datetime.date, last: datetime.date, tz: datetime.tzinfo) -> Period:
    """Whole days in the reader's time zone, both ends included."""
    start = datetime.datetime.combine(first, datetime.time(), tzinfo=tz)
    end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time(), tzinfo=tz)
    return Period(start, end, "custom", tz)


# --- Figures ----------------------------------------------------------------------------------


@dataclass
class Figures:
    """One row of the dashboard: the whole scope, a team, a rep or a week."""

    compliance: Compliance = field(default_factory=lambda: Compliance(0, 0))
    contacted: int = 0
    median_s: float | None = None
    p90_s: float | None = None
    median_business_s: float | None = None
    p90_business_s: float | None = None
    open_breaches: int = 0
    warnings: int = 0
    reassignments: int = 0

    @property
    def missed(self) -> int:
        return self.compliance.came_due - self.compliance.met

    def words(self, name: str) -> str:
        value = getattr(self, name)
        return "—" if value is None else duration_words(value)

    @property
    def median_words(self) -> str:
        return self.words("median_s")

    @property
    def p90_words(self) -> str:
        return self.words("p90_s")

    @property
    def median_business_words(self) -> str:
        return self.words("median_business_s")

    @property
    def p90_business_words(self) -> str:
        return self.words("p90_business_s")

    def as_dict(self) -> dict:
        return {
            "came_due": self.compliance.came_due,
            "met": self.compliance.met,
            "missed": self.missed,
            "compliance": self.compliance.rate,
            "contacted": self.contacted,
            "median_seconds": self.median_s,
            "p90_seconds": self.p90_s,
            "median_business_seconds": self.median_business_s,
            "p90_business_seconds": self.p90_business_s,
            "median_words": self.median_words,
            "p90_words": self.p90_words,
            "median_business_words": self.median_business_words,
            "p90_business_words": self.p90_business_words,
            "open_breaches": self.open_breaches,
            "warnings": self.warnings,
            "reassignments": self.reassignments,
        }


@dataclass
class RepRow:
    rep: User
    team: Team | None
    figures: Figures
    free: FreeToColdCall | None


@dataclass
class TeamRow:
    team: Team
    figures: Figures


@dataclass
class WeekRow:
    week: datetime.date  # the Monday, in the reader's time zone
    figures: Figures


@dataclass
class Dashboard:
    period: Period
    now: datetime.datetime
    teams: list[Team]
    overall: Figures
    team_rows: list[TeamRow]
    rep_rows: list[RepRow]
    week_rows: list[WeekRow]
    histogram: list[tuple[str, int]]
    # The figures cache's entry these figures live in ("" when computed for this request alone).
    cache_key: str = ""

    @property
    def charts(self) -> dict:
        """What static/js/sla_dashboard.js draws (embedded with json_script)."""
        return {
            "trend": {
                "labels": [f"{row.week:%d %b}" for row in self.week_rows],
                "compliance": [
                    None if row.figures.compliance.rate is None else round(row.figures.compliance.rate * 100, 1)
                    for row in self.week_rows
                ],
                "came_due": [row.figures.compliance.came_due for row in self.week_rows],
            },
            "distribution": {
                "labels": [label for label, _ in self.histogram],
                "counts": [n for _, n in self.histogram],
            },
        }


TIME_FIELDS = ("contacted", "median_s", "p90_s", "median_business_s", "p90_business_s")

# The time-to-first-contact figures of every row in one statement: the clocks are chosen by the
# ORM (the same scope and period as compliance); GROUPING SETS computes the continuous
# percentiles (percentile_cont: linear interpolation) over all, per team, per rep, per week,
# and counts the histogram's bins. GROUPING() tells the sets apart.
TIME_FIGURES_SQL = """
    SELECT GROUPING(team_id, rep_id, week, bin) AS level, team_id, rep_id, week, bin,
           count(*) AS contacted,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds_to_contact) AS median_s,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds_to_contact) AS p90_s,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY business_seconds_to_contact) AS median_business_s,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY business_seconds_to_contact) AS p90_business_s
    FROM ({clocks}) AS c
    GROUP BY GROUPING SETS ((), (team_id), (rep_id), (week), (bin))
"""
# GROUPING(team_id, rep_id, week, bin): a bit set for each column the row is not grouped by.
LEVEL_ALL, LEVEL_TEAM, LEVEL_REP, LEVEL_WEEK, LEVEL_BIN = 0b1111, 0b0111, 0b1011, 0b1101, 0b1110


def _histogram_bin() -> Case:
    return Case(
        *[When(seconds_to_contact__lt=bound, then=Value(i)) for i, bound in enumerate(HISTOGRAM_BOUNDS)],
        default=Value(len(HISTOGRAM_BOUNDS)),
        output_field=IntegerField(),
    )


def time_figures(*, clocks: QuerySet[FirstContactClock], tz: datetime.tzinfo) -> list[dict]:
    """Rows of TIME_FIGURES_SQL over the contacted clocks among `clocks`, one query."""
    inner = (
        clocks.filter(contacted_at__isnull=False)
        .annotate(week=TruncWeek("due_at", tzinfo=tz), bin=_histogram_bin())
        .values("team_id", "rep_id", "week", "bin", "seconds_to_contact", "business_seconds_to_contact")
        .order_by()
    )
    sql, params = inner.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(TIME_FIGURES_SQL.format(clocks=sql), params)
        names = [col.name for col in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def scope_clocks(*, team_ids: Iterable[int], rep_id: int | None = None) -> QuerySet[FirstContactClock]:
    """The clocks of these teams (and rep): the (team, due_at) index answers every period filter."""
    clocks = FirstContactClock.objects.filter(team_id__in=list(team_ids))
    return clocks.filter(rep_id=rep_id) if rep_id is not None else clocks


def histogram_labels() -> list[str]:
    labels, low = [], 0
    for bound in HISTOGRAM_BOUNDS:
        labels.append(
            f"under {duration_words(bound)}" if low == 0 else f"{duration_words(low)} to {duration_words(bound)}"
        )
        low = bound
    labels.append(f"{duration_words(low)} or more")
    return labels


def _event_counts(*, team_ids: list[int], rep_ids: Iterable[int], period: Period, rep_id: int | None) -> list[dict]:
    """Warnings and reassignments the sweep wrote in the period, per (kind, rep, team, week):
    read through the events' (rep, kind, created_at) index.

    The clock's team is looked up per event by primary key (a scalar subquery) rather than
    joined: a join let PostgreSQL hash every clock the team ever had (8.5 ms for 10,000
    clocks, growing with history) where the period's few hundred events need as many probes.
    """
    reps = [rep_id] if rep_id is not None else list(rep_ids)
    clock_team = Subquery(FirstContactClock.objects.filter(pk=OuterRef("clock_id")).order_by().values("team_id")[:1])
    return list(
        ClockEvent.objects.filter(
            rep_id__in=reps,
            kind__in=[EventKind.WARNING, EventKind.REASSIGNMENT],
            created_at__gte=period.start,
            created_at__lt=period.end,
        )
        .annotate(clock_team=clock_team, week=TruncWeek("created_at", tzinfo=period.tz))
        .filter(clock_team__in=team_ids)
        .values("kind", "rep_id", "clock_team", "week")
        .annotate(n=Count("id"))
        .order_by()
    )


def _week(value: datetime.datetime | datetime.date, tz: datetime.tzinfo) -> datetime.date:
    return value.astimezone(tz).date() if isinstance(value, datetime.datetime) else value


def sla_dashboard(
    *, user: User, period: Period, now: datetime.datetime, team_id: int | None = None, rep_id: int | None = None
) -> Dashboard:
    """Every figure of the page, in a fixed number of queries whatever the number of teams, reps or clocks."""
    teams_qs = dashboard_teams_for(user=user)
    if team_id is not None:
        teams_qs = teams_qs.filter(pk=team_id)
    teams = list(teams_qs.order_by("name"))
    team_ids = [t.id for t in teams]
    base = scope_clocks(team_ids=team_ids, rep_id=rep_id)
    clocks = clocks_due_between(period.start, period.end, clocks=base)
    tz = period.tz
    weekly = clocks.annotate(week=TruncWeek("due_at", tzinfo=tz))

    overall = Figures()
    by_team: dict[int, Figures] = defaultdict(Figures)
    by_rep: dict[int, Figures] = defaultdict(Figures)
    by_week: dict[datetime.date, Figures] = defaultdict(Figures)
    # Compliance per (team, rep, week) cell, through THE compliance function; the counts add up
    # into the rows (a rep who moved teams counts in both teams, once in their own row).
    for (cell_team, cell_rep, cell_week), comp in compliance_by(
        clocks=weekly, now=now, key=("team_id", "rep_id", "week")
    ).items():
        for figures in (overall, by_team[cell_team], by_rep[cell_rep], by_week[_week(cell_week, tz)]):
            figures.compliance = Compliance(
                figures.compliance.met + comp.met, figures.compliance.came_due + comp.came_due
            )

    bins: dict[int, int] = {}
    for row in time_figures(clocks=clocks, tz=tz):
        level = row["level"]
        if level == LEVEL_BIN:
            bins[row["bin"]] = row["contacted"]
            continue
        if level == LEVEL_ALL:
            figures = overall
        elif level == LEVEL_TEAM:
            figures = by_team[row["team_id"]]
        elif level == LEVEL_REP:
            figures = by_rep[row["rep_id"]]
        else:
            figures = by_week[row["week"].date()]  # a naive timestamp: the reader's local Monday
        for name in TIME_FIELDS:
            setattr(figures, name, row[name])
    histogram = [(label, bins.get(i, 0)) for i, label in enumerate(histogram_labels())]

    # Breaches open now: open clocks past their deadline, whatever the period.
    open_rows = (
        base.filter(ended_at__isnull=True, due_at__lte=now)
        .values("rep_id", "team_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in open_rows:
        overall.open_breaches += row["n"]
        by_team[row["team_id"]].open_breaches += row["n"]
        by_rep[row["rep_id"]].open_breaches += row["n"]

    # The reps: the teams' current reps and anyone whose clocks counted (a rep who moved on).
    profiles = list(RepProfile.objects.filter(team_id__in=team_ids).select_related("user", "team"))
    if rep_id is not None:
        profiles = [p for p in profiles if p.user_id == rep_id]
    reps = {p.user_id: (p.user, p.team) for p in profiles}
    missing = set(by_rep) - set(reps)
    if missing:
        teams_by_id = {t.id: t for t in teams}
        for u in User.objects.filter(id__in=missing).select_related("rep_profile"):
            profile = getattr(u, "rep_profile", None)
            reps[u.id] = (u, teams_by_id.get(profile.team_id) if profile else None)

    for row in _event_counts(team_ids=team_ids, rep_ids=reps, period=period, rep_id=rep_id):
        name = "warnings" if row["kind"] == EventKind.WARNING else "reassignments"
        for figures in (
            overall,
            by_team[row["clock_team"]],
            by_rep[row["rep_id"]],
            by_week[_week(row["week"], tz)],
        ):
            setattr(figures, name, getattr(figures, name) + row["n"])

    free = free_to_cold_call_many(rep_teams={rid: (t.id if t else None) for rid, (_, t) in reps.items()}, now=now)
    rep_rows = sorted(
        (RepRow(u, t, by_rep[rid], free.get(rid)) for rid, (u, t) in reps.items()),
        key=lambda r: ((r.team.name if r.team else ""), r.rep.get_full_name() or r.rep.username),
    )
    return Dashboard(
        period=period,
        now=now,
        teams=teams,
        overall=overall,
        team_rows=[TeamRow(t, by_team[t.id]) for t in teams],
        rep_rows=rep_rows,
        week_rows=[WeekRow(w, by_week[w]) for w in sorted(by_week)],
        histogram=histogram,
    )


# --- The figures cache -----------------------------------------------------------------------
#
# Fifty managers opening the page at once asked for ~35 ms of app CPU and ten queries each, every
# time: 1.7-2 cores of a 2-core box, so pages queued for seconds. The figures of one scope and
# period are now computed at most once per SLA_DASHBOARD_CACHE_SECONDS (per cache: Redis in
# production, shared by every worker) and the page says when they were computed ("as of 09:14"):
# `Dashboard.now` is that instant, and every figure is exactly what it was then, never older.

CACHE_VERSION = 1


def dashboard_cache_key(
    *, team_ids: Iterable[int], period: Period, team_id: int | None = None, rep_id: int | None = None
) -> str:
    """One entry per scope (the teams read, not the reader: two admins share theirs), period and
    time zone (weeks and custom dates are the reader's). A rolling period ("last 30 days") is one
    entry whatever `now` is; its figures carry their own instant (`Dashboard.now`)."""
    bounds = f"{period.start.isoformat()}/{period.end.isoformat()}" if period.key == "custom" else ""
    scope = ",".join(str(i) for i in sorted(team_ids))
    raw = f"{scope}|{team_id}|{rep_id}|{period.key}|{bounds}|{period.tz}"
    return f"sla-dashboard:v{CACHE_VERSION}:{hashlib.sha256(raw.encode()).hexdigest()}"


def sla_dashboard_cached(
    *, user: User, period: Period, now: datetime.datetime, team_id: int | None = None, rep_id: int | None = None
) -> Dashboard:
    """sla_dashboard, or the same scope's and period's figures computed within the last
    SLA_DASHBOARD_CACHE_SECONDS (then `.now` and `.period` are those of that computation)."""
    ttl = settings.SLA_DASHBOARD_CACHE_SECONDS
    if ttl <= 0:
        return sla_dashboard(user=user, period=period, now=now, team_id=team_id, rep_id=rep_id)
    teams = dashboard_teams_for(user=user)
    if team_id is not None:
        teams = teams.filter(pk=team_id)
    key = dashboard_cache_key(
        team_ids=teams.values_list("id", flat=True), period=period, team_id=team_id, rep_id=rep_id
    )
    data = cache.get(key)
    # An entry from a clock that runs behind ours (or a time-travelling test) is not used:
    # the figures are never older than the stated instant nor newer than the reader's now.
    if data is None or not (now - datetime.timedelta(seconds=ttl) <= data.now <= now):
        data = sla_dashboard(user=user, period=period, now=now, team_id=team_id, rep_id=rep_id)
        data.cache_key = key
        cache.set(key, data, ttl)
    return data


# --- Drill-down -------------------------------------------------------------------------------

FIGURES = {
    "came_due": "Came due",
    "met": "Met",
    "missed": "Missed",
    "contacted": "Contacted",
    "open_breaches": "Breaches open now",
    "warnings": "Warned",
    "reassignments": "Reassigned after a breach",
}


def figure_clocks(
    *,
    user: User,
    figure: str,
    period: Period,
    now: datetime.datetime,
    team_id: int | None = None,
    rep_id: int | None = None,
    week: datetime.date | None = None,
) -> QuerySet[FirstContactClock]:
    """The clocks behind one figure, each with its lead, limited to leads the user may open
    (leads.selectors.leads_visible_to: the same door as every lead page)."""
    teams = dashboard_teams_for(user=user)
    if team_id is not None:
        teams = teams.filter(pk=team_id)
    team_ids = list(teams.values_list("id", flat=True))
    base = scope_clocks(team_ids=team_ids, rep_id=rep_id)
    start, end = period.start, period.end
    if week is not None:
        monday = datetime.datetime.combine(week, datetime.time(), tzinfo=period.tz)
        start, end = max(start, monday), min(end, monday + datetime.timedelta(days=7))
    if figure == "open_breaches":
        clocks = base.filter(ended_at__isnull=True, due_at__lte=now)
    elif figure in ("warnings", "reassignments"):
        kind = EventKind.WARNING if figure == "warnings" else EventKind.REASSIGNMENT
        events = ClockEvent.objects.filter(kind=kind, created_at__gte=start, created_at__lt=end)
        clocks = base.filter(id__in=events.values("clock_id"))
    else:
        clocks = clocks_due_between(start, end, clocks=base)
        if figure == "met":
            clocks = clocks.filter(outcome=ClockOutcome.MET)
        elif figure == "came_due":
            clocks = clocks.filter(came_due_q(now))
        elif figure == "missed":
            clocks = clocks.filter(came_due_q(now)).exclude(outcome=ClockOutcome.MET)
        elif figure == "contacted":
            clocks = clocks.filter(contacted_at__isnull=False)
    visible = leads_visible_to(user=user).values("id")
    return clocks.filter(lead_id__in=visible).select_related("lead", "rep", "team").order_by("due_at", "id")


def clock_outcome_words(clock: FirstContactClock, now: datetime.datetime) -> str:
    if clock.outcome == ClockOutcome.MET:
        return f"Met after {duration_words(clock.seconds_to_contact)}"
    if clock.outcome == ClockOutcome.BREACHED and clock.contacted_at:
        return f"Missed; contacted {duration_words(clock.contacted_at - clock.due_at)} late"
    if clock.ended_at is None and clock.due_at <= now:
        return f"Open, {duration_words(now - clock.due_at)} overdue"
    if clock.ended_at is None:
        return f"Open, {duration_words(clock.due_at - now)} left"
    return clock.get_outcome_display() or "Ended"
