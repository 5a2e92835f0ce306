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
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Aggregate, Case, Count, FloatField, IntegerField, QuerySet, Value, When
from django.db.models.functions import TruncWeek
from django.shortcuts import get_object_or_404

from accounts.models import RepProfile, Role, Team, User
from leadhandoff.durations import duration_words
from leads.clock.selectors import (
    Compliance,
    FreeToColdCall,
    came_due_q,
    clocks_due_between,
    compliance,
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


class PercentileCont(Aggregate):
    """PostgreSQL's `percentile_cont(f) WITHIN GROUP (ORDER BY x)`: the continuous percentile,
    linear interpolation between the two nearest values (NULLs are ignored)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        fraction = float(fraction)
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("A percentile is a fraction from 0 to 1.")
        super().__init__(expression, fraction=repr(fraction), **extra)


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


def _time_annotations() -> dict:
    return {
        "contacted": Count("contacted_at"),
        "median_s": PercentileCont("seconds_to_contact", 0.5),
        "p90_s": PercentileCont("seconds_to_contact", 0.9),
        "median_business_s": PercentileCont("business_seconds_to_contact", 0.5),
        "p90_business_s": PercentileCont("business_seconds_to_contact", 0.9),
    }


TIME_FIELDS = ("contacted", "median_s", "p90_s", "median_business_s", "p90_business_s")


def _time_figures_by(clocks: QuerySet[FirstContactClock], key: str | None) -> dict:
    """Time to first contact per value of `key` (None: over all clocks), in one query."""
    if key is None:
        return {None: clocks.aggregate(**_time_annotations())}
    rows = clocks.values(key).annotate(**_time_annotations()).order_by()
    return {row[key]: row for row in rows}


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


def time_to_contact_histogram(*, clocks: QuerySet[FirstContactClock]) -> list[tuple[str, int]]:
    """Contacted clocks per wall-clock time-to-first-contact bin, in one grouped query."""
    bins = Case(
        *[When(seconds_to_contact__lt=bound, then=Value(i)) for i, bound in enumerate(HISTOGRAM_BOUNDS)],
        default=Value(len(HISTOGRAM_BOUNDS)),
        output_field=IntegerField(),
    )
    rows = (
        clocks.filter(seconds_to_contact__isnull=False)
        .annotate(bin=bins)
        .values("bin")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {row["bin"]: row["n"] for row in rows}
    return [(label, counts.get(i, 0)) for i, label in enumerate(histogram_labels())]


def _event_counts(*, team_ids: list[int], rep_ids: Iterable[int], period: Period, rep_id: int | None) -> list[dict]:
    """Warnings and reassignments the sweep wrote in the period, per (kind, rep, team, week):
    read through the events' (rep, kind, created_at) index."""
    reps = [rep_id] if rep_id is not None else list(rep_ids)
    return list(
        ClockEvent.objects.filter(
            rep_id__in=reps,
            kind__in=[EventKind.WARNING, EventKind.REASSIGNMENT],
            created_at__gte=period.start,
            created_at__lt=period.end,
            clock__team_id__in=team_ids,
        )
        .annotate(week=TruncWeek("created_at", tzinfo=period.tz))
        .values("kind", "rep_id", "clock__team_id", "week")
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

    overall = Figures(compliance=compliance(clocks=clocks, now=now))
    by_team: dict[int, Figures] = defaultdict(Figures)
    by_rep: dict[int, Figures] = defaultdict(Figures)
    by_week: dict[datetime.date, Figures] = defaultdict(Figures)
    for key, comp in compliance_by(clocks=clocks, now=now, key="team_id").items():
        by_team[key].compliance = comp
    for key, comp in compliance_by(clocks=clocks, now=now, key="rep_id").items():
        by_rep[key].compliance = comp
    for key, comp in compliance_by(clocks=weekly, now=now, key="week").items():
        by_week[_week(key, tz)].compliance = comp

    for target, key, qs in (
        ({None: overall}, None, clocks),
        (by_team, "team_id", clocks),
        (by_rep, "rep_id", clocks),
        (by_week, "week", weekly),
    ):
        for value, row in _time_figures_by(qs, key).items():
            figures = target[_week(value, tz) if key == "week" else value]
            for name in TIME_FIELDS:
                setattr(figures, name, row[name])
            figures.contacted = row["contacted"] or 0

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
            by_team[row["clock__team_id"]],
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
        histogram=time_to_contact_histogram(clocks=clocks),
    )


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
