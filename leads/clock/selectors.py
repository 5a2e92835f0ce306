"""Reading first-contact clocks: time left in the policy's terms, compliance, "free to cold-call".

`compliance` is the one definition of the SLA figure: the dashboard, the
free-to-cold-call check and the reports all count through it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Q, QuerySet

from accounts.business_time import working_time_between
from accounts.models import RepProfile, User
from accounts.selectors import calendar_for_rep, closed_dates_for_teams, policies_for_teams, policy_from_settings
from leadhandoff.durations import duration_words, moment_words
from leads.models import ClockOutcome, FirstContactClock, Lead


class ClockState:
    RUNNING = "running"
    WARNING = "warning"
    BREACHED = "breached"


@dataclass(frozen=True)
class ClockStatus:
    """An open clock as a rep reads it."""

    state: str  # ClockState
    due_at: datetime.datetime
    business_time: bool
    # Time left in the policy's terms (working time under business time); negative once overdue.
    seconds_left: int
    words: str  # "3 h 10 min of working time left", "45 min left", "6 days overdue"
    due_words: str  # "due Monday 10:00", "was due yesterday 17:00" (in the reader's time zone)

    @property
    def css(self) -> str:
        return {ClockState.BREACHED: "danger", ClockState.WARNING: "warning"}.get(self.state, "success")

    @property
    def label(self) -> str:
        return {ClockState.BREACHED: "Overdue", ClockState.WARNING: "Due soon"}.get(self.state, "On time")


def clock_status(
    *, clock: FirstContactClock, now: datetime.datetime, tz: datetime.tzinfo, working_left: datetime.timedelta | None
) -> ClockStatus:
    overdue = now >= clock.due_at
    if overdue:
        seconds = -int((now - clock.due_at).total_seconds())
        words = f"{duration_words(seconds)} overdue"
        due_words = f"was due {moment_words(clock.due_at, now=now, tz=tz)}"
        state = ClockState.BREACHED
    else:
        left = working_left if clock.business_time and working_left is not None else clock.due_at - now
        seconds = int(left.total_seconds())
        words = f"{duration_words(seconds)} {'of working time ' if clock.business_time else ''}left"
        due_words = f"due {moment_words(clock.due_at, now=now, tz=tz)}"
        warned = clock.warnings_sent > 0 or any(at <= now for at in clock.warn_at)
        state = ClockState.WARNING if warned else ClockState.RUNNING
    return ClockStatus(state, clock.due_at, clock.business_time, seconds, words, due_words)


def clock_statuses(
    *,
    lead_ids: Iterable[int],
    now: datetime.datetime,
    tz: datetime.tzinfo,
    clocks: Iterable[FirstContactClock] | None = None,
) -> dict[int, ClockStatus]:
    """The open clock of each lead that has one, by lead id: a page of leads in a few queries.

    `clocks`: these leads' clocks when the caller has them already (the brief reads them all for
    the timeline), so they are not fetched twice; the ended ones are left out here.
    """
    ids = set(lead_ids)
    if clocks is None:
        # Written by hand: a queue page asks for every visit, and the ORM spent three times
        # longer compiling this filter than reading its rows (plain columns, no joins).
        clocks = FirstContactClock.objects.raw(
            f"SELECT * FROM {FirstContactClock._meta.db_table} WHERE lead_id = ANY(%s) AND ended_at IS NULL",  # noqa: S608
            [list(ids)],
        )
    clocks = [c for c in clocks if c.ended_at is None and c.lead_id in ids]
    business = [c for c in clocks if c.business_time and c.due_at > now]
    calendars = {}
    if business:
        policies = policies_for_teams(team_ids={c.team_id for c in business})
        profiles = {
            p.user_id: p
            for p in RepProfile.objects.filter(user_id__in={c.rep_id for c in business}).select_related("user")
        }
        closed = closed_dates_for_teams(team_ids={c.team_id for c in business if c.team_id})
        for c in business:
            key = (c.rep_id, c.team_id)
            if key not in calendars:
                policy = c.policy if c.policy_id else policies[c.team_id]
                calendars[key] = calendar_for_rep(
                    policy=policy, profile=profiles.get(c.rep_id), closed_dates=closed.get(c.team_id, ()), business=True
                )
    statuses = {}
    for c in clocks:
        calendar = calendars.get((c.rep_id, c.team_id))
        left = working_time_between(now, c.due_at, calendar) if calendar is not None else None
        statuses[c.lead_id] = clock_status(clock=c, now=now, tz=tz, working_left=left)
    return statuses


def lead_clocks(*, lead: Lead) -> QuerySet[FirstContactClock]:
    """Every clock of the lead, newest first (the lead's access was checked by the caller)."""
    return FirstContactClock.objects.filter(lead=lead).select_related("rep").order_by("-started_at", "-id")


# --- Compliance -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Compliance:
    met: int
    came_due: int

    @property
    def rate(self) -> float | None:
        """Met among the clocks that came due; None when none did."""
        return self.met / self.came_due if self.came_due else None

    @property
    def percent(self) -> int | None:
        return None if self.rate is None else int(self.rate * 100)


def came_due_q(now: datetime.datetime) -> Q:
    """Clocks that came due by `now`: met or breached (a clock reassigned or closed before its
    deadline never came due; one still open past its deadline did, before the sweep marks it)."""
    return Q(outcome__in=[ClockOutcome.MET, ClockOutcome.BREACHED]) | Q(outcome="", due_at__lte=now)


def _compliance_counts(now: datetime.datetime) -> dict:
    return {"met": Count("id", filter=Q(outcome=ClockOutcome.MET)), "came_due": Count("id", filter=came_due_q(now))}


# The same definition in SQL (came_due_q and _compliance_counts in the ORM's words) for
# free to cold-call, which every queue page shows: building the ORM's filtered counts cost
# more CPU than running them. tests/leads/test_clock.py holds the two equal.
MET_SQL = f"outcome = '{ClockOutcome.MET.value}'"
CAME_DUE_SQL = (
    f"(outcome IN ('{ClockOutcome.MET.value}', '{ClockOutcome.BREACHED.value}')"
    " OR (outcome = '' AND due_at <= %(now)s))"
)


def compliance(*, clocks: QuerySet[FirstContactClock], now: datetime.datetime) -> Compliance:
    """THE compliance figure: clocks met among clocks that came due, over the clocks given.

    Callers choose the clocks (a rep, a team, a period by deadline); this counts them
    in one aggregate over the clock table, never the lead table.
    """
    figures = clocks.aggregate(**_compliance_counts(now))
    return Compliance(met=figures["met"], came_due=figures["came_due"])


def compliance_by(*, clocks: QuerySet[FirstContactClock], now: datetime.datetime, key: str | tuple[str, ...]) -> dict:
    """`compliance` per value of `key` (e.g. "rep_id", "team_id"), in one grouped aggregate.

    A tuple of keys groups by all of them, keyed by tuples (the SLA dashboard adds the
    cells of (team, rep, week) up into its rows: the counts are additive).
    """
    keys = (key,) if isinstance(key, str) else tuple(key)
    rows = clocks.values(*keys).annotate(**_compliance_counts(now))
    return {
        (row[key] if isinstance(key, str) else tuple(row[k] for k in keys)): Compliance(
            met=row["met"], came_due=row["came_due"]
        )
        for row in rows
    }


def clocks_due_between(
    start: datetime.datetime, end: datetime.datetime, *, clocks: QuerySet[FirstContactClock] | None = None
) -> QuerySet[FirstContactClock]:
    """Clocks whose deadline fell in [start, end): a period's clocks, as every SLA figure counts them."""
    return (clocks if clocks is not None else FirstContactClock.objects.all()).filter(due_at__gte=start, due_at__lt=end)


# --- Free to cold-call ----------------------------------------------------------------------


@dataclass(frozen=True)
class FreeToColdCall:
    free: bool
    compliance: Compliance
    days: int
    min_percent: int
    open_breaches: list[Lead] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        """Why not, in words ([] when free)."""
        reasons = []
        if self.open_breaches:
            names = ", ".join(str(lead) for lead in self.open_breaches[:3])
            more = len(self.open_breaches) - 3
            reasons.append(
                f"{len(self.open_breaches)} lead{'s' if len(self.open_breaches) != 1 else ''} past the "
                f"first-contact deadline still not contacted: {names}{f' and {more} more' if more > 0 else ''}."
            )
        if self.compliance.rate is not None and self.compliance.percent < self.min_percent:
            reasons.append(
                f"First contact on time for {self.compliance.met} of {self.compliance.came_due} leads "
                f"({self.compliance.percent}%) in the last {self.days} days; the policy asks for {self.min_percent}%."
            )
        return reasons


def open_breaches(*, rep_ids: Iterable[int], now: datetime.datetime) -> QuerySet[FirstContactClock]:
    """Open clocks past their deadline (breached, or about to be marked so by the sweep)."""
    return FirstContactClock.objects.filter(rep_id__in=list(rep_ids), ended_at__isnull=True, due_at__lte=now)


# Clocks of the reps in %(reps)s counted for free to cold-call: (rep id, met and came due among
# those due in [{since}, now), overdue now). `{since}` is SQL: a parameter, or the policy's.
_FREE_COUNTS_SQL = f"""
    SELECT rep_id,
           count(*) FILTER (WHERE in_period AND {MET_SQL}) AS met,
           count(*) FILTER (WHERE in_period AND {CAME_DUE_SQL}) AS came_due,
           count(*) FILTER (WHERE ended_at IS NULL AND due_at <= %(now)s) AS overdue
    FROM (
        SELECT rep_id, outcome, due_at, ended_at, due_at >= {{since}} AND due_at < %(now)s AS in_period
        FROM leads_firstcontactclock
        WHERE rep_id = ANY(%(reps)s)
          AND (due_at >= {{since}} AND due_at < %(now)s OR ended_at IS NULL AND due_at <= %(now)s)
    ) c
    GROUP BY rep_id
"""  # noqa: S608 - the module's constant fragments; values are parameters
# One rep, with their policy's period and threshold read in the same statement: the team's
# own policy, else the default one, else settings' (accounts.selectors.policies_for_teams).
_FREE_ONE_SQL = f"""
    WITH policy AS (
        SELECT days, min_percent FROM (
            SELECT free_days AS days, free_min_compliance AS min_percent, 0 AS preference
            FROM accounts_firstcontactpolicy WHERE team_id = %(team)s
            UNION ALL
            SELECT free_days, free_min_compliance, 1 FROM accounts_firstcontactpolicy WHERE team_id IS NULL
            UNION ALL
            SELECT %(days)s, %(min_percent)s, 2
        ) p ORDER BY preference LIMIT 1
    )
    SELECT policy.days, policy.min_percent, coalesce(c.met, 0), coalesce(c.came_due, 0), coalesce(c.overdue, 0)
    FROM policy LEFT JOIN LATERAL ({_FREE_COUNTS_SQL.format(since="%(now)s - make_interval(days => policy.days)")}) c
    ON true
"""  # noqa: S608 - the module's constant fragments; values are parameters


def free_to_cold_call(*, rep: User, now: datetime.datetime) -> FreeToColdCall:
    """A rep with no breached lead still open and compliance over the policy's last N days at
    least its X% is free to cold-call. A rep with no clock due in the period has nothing to fail.

    Every queue page asks: the policy and the counts are one statement (free_to_cold_call_many
    gives the same answer for many reps; a test holds the two equal).
    """
    # The signed-in user's profile came with them (accounts.backends); anyone else's is one query.
    team_id = getattr(getattr(rep, "rep_profile", None), "team_id", None)
    fallback = policy_from_settings()
    with connection.cursor() as cursor:
        cursor.execute(
            _FREE_ONE_SQL,
            {
                "team": team_id,
                "days": fallback.free_days,
                "min_percent": fallback.free_min_compliance,
                "now": now,
                "reps": [rep.id],
            },
        )
        days, min_percent, met, came_due, overdue = cursor.fetchone()
    return _free_status(
        Compliance(met, came_due),
        days=days,
        min_percent=min_percent,
        breaches=_open_breach_leads(rep_ids=[rep.id], now=now).get(rep.id, []) if overdue else [],
    )


def _free_status(figure: Compliance, *, days: int, min_percent: int, breaches: list[Lead]) -> FreeToColdCall:
    ok = not breaches and (figure.rate is None or figure.rate * 100 >= min_percent)
    return FreeToColdCall(ok, figure, days, min_percent, breaches)


def _open_breach_leads(*, rep_ids: list[int], now: datetime.datetime) -> dict[int, list[Lead]]:
    """The leads of reps' overdue clocks, by rep, most overdue first."""
    breaches: dict[int, list[Lead]] = {}
    for clock in open_breaches(rep_ids=rep_ids, now=now).select_related("lead").order_by("due_at"):
        breaches.setdefault(clock.rep_id, []).append(clock.lead)
    return breaches


def _free_counts(*, rep_ids: list[int], now: datetime.datetime, days: int) -> list[tuple[int, int, int, int]]:
    """(rep id, met, came due, overdue) of reps with a clock due in the last `days` or overdue now."""
    with connection.cursor() as cursor:
        cursor.execute(
            _FREE_COUNTS_SQL.format(since="%(since)s"),
            {"now": now, "since": now - datetime.timedelta(days=days), "reps": list(rep_ids)},
        )
        return cursor.fetchall()


def free_to_cold_call_many(*, rep_teams: dict[int, int | None], now: datetime.datetime) -> dict[int, FreeToColdCall]:
    """The status of several reps ({rep id: team id}, e.g. a manager's dashboard): the policies,
    one grouped aggregate per distinct period (almost always one), and the overdue leads'
    names only for reps who have some."""
    policies = policies_for_teams(team_ids=set(rep_teams.values()))
    by_days: dict[int, list[int]] = {}
    for rep_id, team_id in rep_teams.items():
        by_days.setdefault(policies[team_id].free_days, []).append(rep_id)
    figures: dict[int, tuple[Compliance, int]] = {}
    for days, rep_ids in by_days.items():
        for rep_id, met, came_due, overdue in _free_counts(rep_ids=rep_ids, now=now, days=days):
            figures[rep_id] = (Compliance(met, came_due), overdue)
    late_reps = [rep_id for rep_id, (_, n) in figures.items() if n]
    breaches = _open_breach_leads(rep_ids=late_reps, now=now) if late_reps else {}
    result = {}
    for rep_id, team_id in rep_teams.items():
        policy = policies[team_id]
        result[rep_id] = _free_status(
            figures.get(rep_id, (Compliance(0, 0), 0))[0],
            days=policy.free_days,
            min_percent=policy.free_min_compliance,
            breaches=breaches.get(rep_id, []),
        )
    return result


# --- A lead's SLA timeline --------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime.datetime
    sentence: str
    tone: str = "secondary"  # a Bootstrap colour: success, warning, danger, secondary


def lead_sla_timeline(
    *, lead: Lead, now: datetime.datetime, clocks: list[FirstContactClock] | None = None
) -> list[TimelineEntry]:
    """The lead's clocks as what happened, oldest first: assigned, warnings, breach,
    escalation, reassignment, first contact. Read from the clocks alone (one query, none when
    the caller passes `clocks`, lead_clocks' list)."""
    entries: list[TimelineEntry] = []
    for clock in reversed(clocks if clocks is not None else list(lead_clocks(lead=lead))):
        terms = "working time" if clock.business_time else "hours"
        window = duration_words(clock.window_minutes * 60)
        entries.append(
            TimelineEntry(clock.started_at, f"Assigned to {clock.rep}: first contact within {window} ({terms}).")
        )
        for n, at in enumerate(clock.warn_at[: clock.warnings_sent], start=1):
            left = duration_words(clock.due_at - at)
            entries.append(TimelineEntry(at, f"Warning {n}: {left} to the deadline.", "warning"))
        if clock.breached_at:
            entries.append(TimelineEntry(clock.breached_at, f"Deadline missed by {clock.rep}.", "danger"))
        if clock.escalated_at:
            entries.append(TimelineEntry(clock.escalated_at, "Escalated: still no contact.", "danger"))
        if clock.contacted_at:
            late = clock.contacted_at > clock.due_at
            how = f"{duration_words(clock.contacted_at - clock.due_at)} late" if late else "on time"
            taken = duration_words(clock.seconds_to_contact or 0)
            entries.append(
                TimelineEntry(
                    clock.contacted_at,
                    f"First contact by {clock.rep} after {taken}, {how}.",
                    "danger" if late else "success",
                )
            )
        elif clock.ended_at and clock.outcome == ClockOutcome.REASSIGNED:
            entries.append(TimelineEntry(clock.ended_at, f"Reassigned from {clock.rep} before the deadline."))
        elif clock.ended_at and clock.outcome == ClockOutcome.BREACHED:
            entries.append(TimelineEntry(clock.ended_at, f"Taken from {clock.rep} (or closed) without contact."))
        elif clock.ended_at and clock.outcome == ClockOutcome.CLOSED:
            entries.append(TimelineEntry(clock.ended_at, "Closed before first contact."))
    return sorted(entries, key=lambda e: e.at)
