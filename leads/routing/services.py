"""Routing: promoted leads to teams and reps, and the managers' actions on it
(reassign with a reason, pause and unpause reps, the ordered routing rules).

`leads_route` is the set-based path used by promotion (scoring calls it inside
its transaction) and by leads.tasks: it loads the rules, the teams' reps (locked)
and their current loads once per call, decides every lead in memory, then writes
with one UPDATE ... FROM unnest(arrays) (the UPDATE ... FROM VALUES idea, with the
batch passed as arrays), one INSERT ... SELECT FROM unnest of history rows and
one bulk update of the reps' round-robin positions. No per-lead queries.

Order of locks, the same everywhere so routers never deadlock: leads (by id),
then rep profiles (by id).
"""

import datetime
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection, transaction
from django.db.models import DateTimeField, Exists, F, Max, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.models import RepProfile, Team, User
from leadhandoff.api import ApplicationError, ConflictError
from leadhandoff.sql import insert_set
from leads import history
from leads.clock.services import clock_start, clocks_end, clocks_plan
from leads.models import OPEN_STATUSES, AssignmentRule, ClockOutcome, FirstContactClock, Lead, LeadHistory, Status
from leads.routing.selectors import rep_get_for_user, rep_uncontacted_loads, rule_get_for_user, rules_ordered
from leads.selectors import leads_visible_to

logger = logging.getLogger(__name__)

# Lists a rule may test a lead's field against (case-insensitive, exact value).
LIST_CONDITIONS = ("country", "region", "industry", "source")
# Inclusive bounds; a lead without the value does not match a rule that sets a bound.
RANGE_CONDITIONS = (("company_size", "company_size_min", "company_size_max"), ("score", "score_min", "score_max"))
CONDITION_KEYS = frozenset(LIST_CONDITIONS) | {k for _, lo, hi in RANGE_CONDITIONS for k in (lo, hi)}

# Leads per transaction when the periodic task retries the unassigned queues.
WAITING_BATCH = 1000

_TICK = datetime.timedelta(microseconds=1)


# --- Rule matching (pure) ----------------------------------------------------


def _norm(value: object) -> str:
    return str(value).strip().casefold()


def compile_conditions(conditions: dict) -> Callable[[dict], str | None]:
    """A matcher for one rule: lead (a mapping of lead field values) -> why it matches, or None.

    Every condition kind that is set must hold, except geography: a rule listing
    both countries and regions matches a lead whose country OR region is listed
    ("UK, DE" or the region "Nordics"). Lists compare case-insensitively; bounds
    are inclusive and an unknown value never meets a bound. The lists are
    normalised once here, not once per lead.
    """
    geo = [(key, {_norm(v) for v in conditions.get(key) or []}) for key in ("country", "region")]
    geo = [(key, wanted) for key, wanted in geo if wanted]
    lists = [(key, {_norm(v) for v in conditions.get(key) or []}) for key in ("industry", "source")]
    lists = [(key, wanted) for key, wanted in lists if wanted]
    ranges = [
        (key, key.replace("_", " "), conditions.get(lo_key), conditions.get(hi_key))
        for key, lo_key, hi_key in RANGE_CONDITIONS
        if conditions.get(lo_key) is not None or conditions.get(hi_key) is not None
    ]

    def match(lead: dict) -> str | None:
        reasons: list[str] = []
        if geo:
            for key, wanted in geo:
                value = lead.get(key) or ""
                if value and _norm(value) in wanted:
                    reasons.append(f"{key} {value}")
                    break
            else:
                return None
        for key, wanted in lists:
            value = lead.get(key) or ""
            if not value or _norm(value) not in wanted:
                return None
            reasons.append(f"{key} {value}")
        for key, label, lo, hi in ranges:
            value = lead.get(key)
            if value is None or (lo is not None and value < lo) or (hi is not None and value > hi):
                return None
            reasons.append(f"{label} {value} in {'' if lo is None else lo}–{'' if hi is None else hi}")
        return ", ".join(reasons) or "matches every lead"

    return match


def conditions_match(conditions: dict, lead: dict) -> str | None:
    """Why `lead` meets `conditions`, or None when it does not (see compile_conditions)."""
    return compile_conditions(conditions)(lead)


CONDITION_LABELS = {
    "country": "Countries",
    "region": "Regions",
    "industry": "Industries",
    "source": "Sources",
    "company_size_min": "Company size from",
    "company_size_max": "Company size up to",
    "score_min": "Score from",
    "score_max": "Score up to",
}


def conditions_clean(conditions: dict) -> dict:
    """Validate and normalise a rule's conditions; ApplicationError with one message per bad field.

    Lists are trimmed, emptied of blanks and de-duplicated (case-insensitively);
    bounds are whole numbers with the lower one not above the upper one.
    """
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    if not isinstance(conditions, dict):
        raise ApplicationError("Conditions must be an object.", fields={"conditions": ["Expected an object."]})
    for key in sorted(set(conditions) - CONDITION_KEYS):
        errors[key] = [f"Unknown condition. Use one of: {', '.join(sorted(CONDITION_KEYS))}."]
    for key in LIST_CONDITIONS:
        values = conditions.get(key) or []
        if isinstance(values, str):
            values = values.split(",")
        if not isinstance(values, list | tuple):
            errors[key] = ["Give a comma-separated list."]
            continue
        seen: dict[str, str] = {}
        for value in values:
            value = str(value).strip()
            if len(value) > 100:
                errors.setdefault(key, []).append(f"“{value[:20]}…” is longer than 100 characters.")
            elif value:
                seen.setdefault(_norm(value), value)
        if seen:
            clean[key] = list(seen.values())
    for _field, lo_key, hi_key in RANGE_CONDITIONS:
        bounds = {}
        for key in (lo_key, hi_key):
            value = conditions.get(key)
            if value in (None, ""):
                continue
            try:
                number = int(value)
                if isinstance(value, float | str) and str(value).strip() not in (str(number),) and value != number:
                    raise ValueError
            except (TypeError, ValueError):
                errors[key] = ["Enter a whole number."]
                continue
            if number < 0 and _field == "company_size":
                errors[key] = ["A company size cannot be negative."]
                continue
            bounds[key] = number
        if lo_key in bounds and hi_key in bounds and bounds[lo_key] > bounds[hi_key]:
            errors[hi_key] = [
                f"{CONDITION_LABELS[hi_key]} ({bounds[hi_key]}) is below {CONDITION_LABELS[lo_key].lower()} "
                f"({bounds[lo_key]})."
            ]
        clean.update(bounds)
    if errors:
        raise ApplicationError("The rule's conditions are not valid.", fields=errors)
    return clean


def conditions_summary(conditions: dict) -> str:
    """A rule's conditions in words, for the rule list."""
    parts = []
    geo = [*(conditions.get("country") or []), *(conditions.get("region") or [])]
    if geo:
        parts.append("in " + ", ".join(geo))
    for key in ("industry", "source"):
        if conditions.get(key):
            parts.append(f"{key} " + ", ".join(conditions[key]))
    for key, lo_key, hi_key in RANGE_CONDITIONS:
        lo, hi = conditions.get(lo_key), conditions.get(hi_key)
        label = key.replace("_", " ")
        if lo is not None and hi is not None:
            parts.append(f"{label} {lo}–{hi}")
        elif lo is not None:
            parts.append(f"{label} ≥ {lo}")
        elif hi is not None:
            parts.append(f"{label} ≤ {hi}")
    return "; ".join(parts) or "every lead"


@dataclass(frozen=True)
class _Rule:
    id: int | None
    name: str
    team_id: int
    strategy: str
    skip_off_hours: bool
    match: Callable[[dict], str | None]


DEFAULT_STRATEGY = AssignmentRule.Strategy.ROUND_ROBIN


# --- Reps in memory -----------------------------------------------------------


@dataclass
class _Rep:
    profile: RepProfile
    load: int  # open leads not yet contacted
    changed: bool = False
    _working: bool | None = field(default=None, repr=False)

    @property
    def user_id(self) -> int:
        return self.profile.user_id

    def working(self, now: datetime.datetime) -> bool:
        if self._working is None:
            self._working = self.profile.is_working_at(now)
        return self._working

    def refusal(self, *, now: datetime.datetime, skip_off_hours: bool) -> str | None:
        p = self.profile
        if not p.user.is_active:
            return "inactive"
        if p.out_of_office:
            return "out of office"
        if p.paused:
            return "paused"
        if self.load >= p.capacity:
            return "at capacity"
        if skip_off_hours and not self.working(now):
            return "outside working hours"
        return None


def _rr_key(rep: _Rep) -> tuple:
    # Never-assigned reps first, then the longest since their last lead; id breaks ties.
    last = rep.profile.last_assigned_at
    return (last is not None, last or datetime.datetime.min.replace(tzinfo=datetime.UTC), rep.profile.id)


def pick_rep(eligible: Sequence[_Rep], strategy: str) -> _Rep:
    """Choose among eligible reps (ordered by profile id). Deterministic for a given state."""
    if strategy == AssignmentRule.Strategy.WEIGHTED:
        # Smooth weighted round robin (as in nginx): every eligible rep earns its
        # weight, the richest is chosen and pays the total. Interleaves 3:1 as
        # A A B A rather than A A A B, and the credit persists between calls.
        total = 0
        for rep in eligible:
            rep.profile.routing_credit += rep.profile.routing_weight
            total += rep.profile.routing_weight
            rep.changed = True
        chosen = max(eligible, key=lambda r: (r.profile.routing_credit, -r.profile.id))
        chosen.profile.routing_credit -= total
        return chosen
    if strategy == AssignmentRule.Strategy.LEAST_LOADED:
        return min(eligible, key=lambda r: (r.load, *_rr_key(r)))
    return min(eligible, key=_rr_key)


def _waiting_reason(team_name: str, reps: list[_Rep], refusals: list[str]) -> str:
    if not reps:
        return f"Waiting in {team_name}'s unassigned queue: the team has no reps."
    counts: dict[str, int] = {}
    for r in refusals:
        counts[r] = counts.get(r, 0) + 1
    detail = ", ".join(f"{n} {why}" for why, n in sorted(counts.items()))
    return f"Waiting in {team_name}'s unassigned queue: no rep available ({detail})."


# --- The set-based router -------------------------------------------------------

_LEAD_FIELDS = ("id", "team_id", "country", "region", "industry", "company_size", "source")


@dataclass
class _Decision:
    lead_id: int
    team_id: int
    owner_id: int | None
    old_team_id: int | None
    rule: _Rule | None
    why: str


def leads_route(*, lead_ids: list[int], now: datetime.datetime, actor: User | None = None) -> int:
    """Route queued leads (status "queued") among `lead_ids`; return how many were assigned to a rep.

    Called inside the caller's transaction (promotion, leads.pool.services) and by leads.tasks.
    A lead no rep can take stays "queued" in its team's unassigned queue (team set,
    owner empty) for leads.tasks.route_waiting_leads to retry. Leads locked by
    another transaction are skipped and retried later, so two routers never
    assign the same lead.
    """
    if not lead_ids:
        return 0
    with transaction.atomic():
        return _route(lead_ids=lead_ids, now=now, actor=actor)


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _cycle_breaches() -> QuerySet[FirstContactClock]:
    """The outer lead's breached clocks since it was promoted (its current cycle), for subqueries."""
    since = Coalesce(OuterRef("promoted_at"), Value(_EPOCH, output_field=DateTimeField()))
    return FirstContactClock.objects.filter(
        lead_id=OuterRef("id"), outcome=ClockOutcome.BREACHED, started_at__gte=since
    )


def _lapsed_reps() -> ArraySubquery:
    """Reps who let the lead's clock lapse in this cycle: it is never routed back to them."""
    return ArraySubquery(_cycle_breaches().values("rep_id"))


def _reassignments_used_up() -> Exists:
    """A lead the sweep gave back to its team after the policy's last reassignment on breach.

    It waits for the manager: only a person routes it again (leads_reassign).
    """
    return Exists(_cycle_breaches().filter(reassign_on_breach=True, reassignment__gte=F("max_reassignments")))


def _route(*, lead_ids: list[int], now: datetime.datetime, actor: User | None) -> int:
    leads = list(
        Lead.objects.filter(id__in=lead_ids, status=Status.QUEUED, owner__isnull=True)
        .filter(~_reassignments_used_up())
        .order_by("id")
        # Lock only the lead rows: the score is read through an outer join to its LeadScore.
        .select_for_update(skip_locked=True, of=("self",))
        .values(*_LEAD_FIELDS, score=F("scorecard__total"), lapsed=_lapsed_reps())
    )
    if not leads:
        return 0

    rules = [
        _Rule(r.id, r.name, r.team_id, r.strategy, r.skip_outside_working_hours, compile_conditions(r.conditions or {}))
        for r in AssignmentRule.objects.filter(enabled=True).order_by("position", "id")
    ]
    preset_team_ids = {lead["team_id"] for lead in leads if lead["team_id"]}
    teams = {
        t.id: t
        for t in Team.objects.filter(
            Q(is_fallback=True) | Q(id__in=preset_team_ids) | Q(id__in={r.team_id for r in rules})
        )
    }
    fallback = next((t for t in teams.values() if t.is_fallback), None)

    # 1. Which team (and under which rule) each lead goes to.
    plans: list[tuple[dict, int, _Rule | None, str]] = []
    for lead in leads:
        plan = _team_for(lead, rules, fallback, teams)
        if plan is not None:
            plans.append((lead, *plan))
    if not plans:
        return 0

    # 2. Lock the teams' reps and read their loads.
    team_ids = sorted({team_id for _, team_id, _, _ in plans})
    profiles, reps_by_team, stamp = _reps_locked(team_ids, now=now)

    # 3. Decide in memory.
    decisions: list[_Decision] = []
    for lead, team_id, rule, why in plans:
        reps = reps_by_team[team_id]
        strategy = rule.strategy if rule else DEFAULT_STRATEGY
        skip_off_hours = bool(rule and rule.skip_off_hours)
        eligible, refusals = [], []
        lapsed = set(lead["lapsed"] or ())
        for rep in reps:
            refusal = "let this lead lapse" if rep.user_id in lapsed else None
            refusal = refusal or rep.refusal(now=now, skip_off_hours=skip_off_hours)
            (refusals.append(refusal) if refusal else eligible.append(rep))
        if not eligible:
            waiting = _waiting_reason(teams[team_id].name, reps, refusals)
            decisions.append(_Decision(lead["id"], team_id, None, lead["team_id"], rule, f"{why}. {waiting}"))
            continue
        rep = pick_rep(eligible, strategy)
        rep.load += 1
        rep.profile.last_assigned_at = stamp
        rep.changed = True
        stamp += _TICK
        label = AssignmentRule.Strategy(strategy).label.lower()
        decisions.append(_Decision(lead["id"], team_id, rep.user_id, lead["team_id"], rule, f"{why}; {label}"))

    # 4. Write: leads, history, reps.
    to_write = [d for d in decisions if d.owner_id is not None or d.team_id != d.old_team_id]
    # Each assignment's clock: planned first, so the lead row takes its deadline in the same write.
    clocks = clocks_plan(
        assignments=[(d.lead_id, d.owner_id, d.team_id) for d in to_write if d.owner_id],
        now=now,
        profiles=profiles,
    )
    written = set(_write_leads(to_write, clocks=clocks, now=now))
    clocks = {lead_id: clock for lead_id, clock in clocks.items() if lead_id in written}
    FirstContactClock.objects.bulk_create(clocks.values())
    users = {p.user_id: p.user for p in profiles}
    rows: list[tuple[int, history.Entry]] = []
    for d in to_write:
        if d.lead_id not in written:
            continue
        data = {
            "team_id": d.team_id,
            "team": teams[d.team_id].name,
            "rule_id": d.rule.id if d.rule else None,
            "rule": d.rule.name if d.rule else None,
            "strategy": d.rule.strategy if d.rule else DEFAULT_STRATEGY,
        }
        if d.owner_id is not None:
            due = clocks[d.lead_id].due_at.isoformat()
            entry = history.assigned(owner=users[d.owner_id], note=d.why, sla_due_at=due, **data)
        else:
            old_team = teams[d.old_team_id].name if d.old_team_id in teams else ""
            entry = history.queued_in_team(old_team=old_team, note=d.why, **data)
        rows.append((d.lead_id, entry))
    _write_history(rows, now=now, actor_id=actor.id if actor else None)
    changed = [rep.profile for reps in reps_by_team.values() for rep in reps if rep.changed]
    if changed:
        RepProfile.objects.bulk_update(changed, ["last_assigned_at", "routing_credit"])
    return sum(1 for d in to_write if d.owner_id is not None and d.lead_id in written)


def _reps_locked(
    team_ids: list[int], *, now: datetime.datetime
) -> tuple[list[RepProfile], dict[int, list[_Rep]], datetime.datetime]:
    """The teams' reps locked (one query, id order, the order every router locks in), each with
    their load of uncontacted leads (one aggregate), and the first round-robin stamp to use.

    Round-robin positions must keep their order across calls even when the clock reads the
    same instant (one bulk call, or a frozen test clock): each assignment stamps a strictly
    later instant, at most a few µs past `now`.
    """
    profiles = list(
        RepProfile.objects.filter(team_id__in=team_ids)
        .select_related("user")
        .order_by("id")
        .select_for_update(of=("self",))
    )
    loads = rep_uncontacted_loads(user_ids=[p.user_id for p in profiles])
    reps_by_team: dict[int, list[_Rep]] = {tid: [] for tid in team_ids}
    for p in profiles:
        reps_by_team[p.team_id].append(_Rep(profile=p, load=loads.get(p.user_id, 0)))
    latest = max((p.last_assigned_at for p in profiles if p.last_assigned_at), default=None)
    return profiles, reps_by_team, now if latest is None or latest < now else latest + _TICK


def _team_for(
    lead: dict, rules: list[_Rule], fallback: Team | None, teams: dict[int, Team]
) -> tuple[int, _Rule | None, str] | None:
    """The team a lead goes to, the rule that sent it there and why; None if nowhere."""
    if lead["team_id"]:
        # Already in a team's unassigned queue (an earlier routing, or a manager
        # put it there): it stays; the team's first matching rule picks the strategy.
        team = teams[lead["team_id"]]
        for rule in rules:
            if rule.team_id == team.id and (reason := rule.match(lead)) is not None:
                return team.id, rule, f"Rule '{rule.name}' ({reason}) → {team.name}"
        return team.id, None, f"In {team.name}'s unassigned queue"
    for rule in rules:
        if (reason := rule.match(lead)) is not None:
            return rule.team_id, rule, f"Rule '{rule.name}' ({reason}) → {teams[rule.team_id].name}"
    if fallback is not None:
        return fallback.id, None, f"No rule matched → fallback team {fallback.name}"
    logger.warning("Lead %s matches no routing rule and there is no fallback team", lead["id"])
    return None


def _write_leads(
    decisions: list[_Decision], *, clocks: dict[int, FirstContactClock], now: datetime.datetime
) -> list[int]:
    """Apply decisions in set-based statements; return the ids actually changed.

    The WHERE repeats the routing precondition (queued, no owner) so a lead changed
    since it was read is left alone and gets no history row.
    """
    if not decisions:
        return []
    # One statement whatever the batch: the decisions travel as three arrays.
    table = connection.ops.quote_name(Lead._meta.db_table)
    sql = (
        f"UPDATE {table} AS l SET team_id = v.team_id, owner_id = v.owner_id, "  # noqa: S608 - names are ours
        "status = CASE WHEN v.owner_id IS NULL THEN l.status ELSE %s END, "
        "assigned_at = CASE WHEN v.owner_id IS NULL THEN l.assigned_at ELSE %s END, "
        "sla_due_at = CASE WHEN v.owner_id IS NULL THEN l.sla_due_at ELSE v.due_at END, "
        "updated_at = %s "
        "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::timestamptz[]) AS v(id, team_id, owner_id, due_at) "
        "WHERE l.id = v.id AND l.status = %s AND l.owner_id IS NULL "
        "RETURNING l.id"
    )
    params = [
        Status.ASSIGNED,
        now,
        now,
        [d.lead_id for d in decisions],
        [d.team_id for d in decisions],
        [d.owner_id for d in decisions],
        [clocks[d.lead_id].due_at if d.lead_id in clocks else None for d in decisions],
        Status.QUEUED,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _write_history(rows: list[tuple[int, history.Entry]], *, now: datetime.datetime, actor_id: int | None) -> None:
    """One history row per (lead_id, entry), in one statement.

    No model instance per row: at ten thousand leads that would be most of the cost.
    """
    if not rows:
        return
    built = [entry.row(lead_id=lead_id, at=now, actor_id=actor_id) for lead_id, entry in rows]
    insert_set(
        LeadHistory,
        template=LeadHistory(actor_id=actor_id, created_at=now),
        varying={
            name: [getattr(row, name) for row in built]
            for name in ("lead_id", "action", "field", "old_value", "new_value", "note", "data")
        },
        now=now,
    )


# --- Reassignment on breach (the first-contact sweep) ------------------------------------


@dataclass(frozen=True)
class BreachMove:
    """Where the sweep sent a lead whose rep let its clock lapse."""

    lead_id: int
    old_owner_id: int
    owner_id: int | None  # None: back in the team's unassigned queue, for the manager
    team_id: int
    clock: FirstContactClock | None  # the new rep's fresh clock


def leads_reassign_on_breach(*, clocks: Sequence[FirstContactClock], now: datetime.datetime) -> list[BreachMove]:
    """Move the leads of these just-breached clocks (their policy reassigns on breach), in the caller's transaction.

    Each goes to the next eligible rep of its team (active, in office, not paused,
    under capacity; round robin) who has not let it lapse in this cycle, with a
    fresh clock numbered one more; after the policy's last reassignment, or when
    nobody is eligible, to the team's unassigned queue (no owner, no deadline).
    The breached clock ends here, still breached. A lead no longer with the rep
    who lapsed (or closed, or without a team) stays where it is. Set-based: a
    fixed number of queries whatever the number of clocks. The caller (the
    sweep) holds the leads' row locks; the lock order is routing's (leads, then reps).
    """
    by_lead = {c.lead_id: c for c in clocks}
    if not by_lead:
        return []
    leads = {
        row["id"]: row
        for row in Lead.objects.filter(id__in=by_lead)
        .order_by("id")
        .select_for_update(of=("self",))
        .values("id", "owner_id", "team_id", "status", lapsed=_lapsed_reps())
    }
    movable = [
        c
        for c in clocks
        if (lead := leads.get(c.lead_id))
        and lead["owner_id"] == c.rep_id
        and lead["team_id"] is not None
        and lead["status"] in OPEN_STATUSES
    ]
    if not movable:
        return []
    team_ids = sorted({leads[c.lead_id]["team_id"] for c in movable})
    profiles, reps_by_team, stamp = _reps_locked(team_ids, now=now)

    decided: list[tuple[FirstContactClock, int, _Rep | None, str]] = []
    for c in sorted(movable, key=lambda c: c.lead_id):
        lead = leads[c.lead_id]
        team_id = lead["team_id"]
        if c.reassignment >= c.max_reassignments:
            why = f"reassigned {c.reassignment} time(s) on breach, the most the policy allows"
            decided.append((c, team_id, None, why))
            continue
        lapsed = {*(lead["lapsed"] or ()), c.rep_id}
        eligible = [
            r for r in reps_by_team[team_id] if r.user_id not in lapsed and not r.refusal(now=now, skip_off_hours=False)
        ]
        if not eligible:
            decided.append((c, team_id, None, "no other rep of the team is available"))
            continue
        rep = pick_rep(eligible, DEFAULT_STRATEGY)
        rep.load += 1
        rep.profile.last_assigned_at = stamp
        rep.changed = True
        stamp += _TICK
        decided.append((c, team_id, rep, "round robin"))

    # The breached clocks end first: one open clock per lead.
    clocks_end(lead_ids=[c.lead_id for c, *_ in decided], outcome=ClockOutcome.BREACHED, now=now)
    fresh = clocks_plan(
        assignments=[(c.lead_id, rep.user_id, team_id) for c, team_id, rep, _ in decided if rep],
        now=now,
        reassignment={c.lead_id: c.reassignment + 1 for c, _, rep, _ in decided if rep},
        profiles=profiles,
    )
    FirstContactClock.objects.bulk_create(fresh.values())
    table = connection.ops.quote_name(Lead._meta.db_table)
    sql = (
        f"UPDATE {table} AS l SET owner_id = v.owner_id, "  # noqa: S608 - names are ours
        "status = CASE WHEN v.owner_id IS NULL THEN %s WHEN l.status IN (%s, %s) THEN %s ELSE l.status END, "
        "assigned_at = CASE WHEN v.owner_id IS NULL THEN l.assigned_at ELSE %s END, "
        "sla_due_at = v.due_at, updated_at = %s "
        "FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[]) AS v(id, owner_id, due_at) WHERE l.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                Status.QUEUED,
                Status.QUEUED,
                Status.ASSIGNED,
                Status.ASSIGNED,
                now,
                now,
                [c.lead_id for c, *_ in decided],
                [rep.user_id if rep else None for _, _, rep, _ in decided],
                [fresh[c.lead_id].due_at if rep else None for c, _, rep, _ in decided],
            ],
        )
    users = {p.user_id: p.user for p in profiles}
    missing = {c.rep_id for c, *_ in decided} - set(users)
    if missing:
        users.update(User.objects.in_bulk(missing))
    teams = dict(Team.objects.filter(id__in=team_ids).values_list("id", "name"))
    rows = []
    for c, team_id, rep, why in decided:
        clock = fresh.get(c.lead_id) if rep else None
        rows.append(
            (
                c.lead_id,
                history.sla_reassigned(
                    old_owner=users[c.rep_id],
                    owner=rep.profile.user if rep else None,
                    team=teams[team_id],
                    reassignment=c.reassignment + 1 if rep else c.reassignment,
                    note=why,
                    team_id=team_id,
                    breached_clock_id=c.pk,
                    sla_due_at=clock.due_at.isoformat() if clock else None,
                ),
            )
        )
    history.entries_write(rows, at=now)
    changed = [rep.profile for reps in reps_by_team.values() for rep in reps if rep.changed]
    if changed:
        RepProfile.objects.bulk_update(changed, ["last_assigned_at"])
    return [
        BreachMove(c.lead_id, c.rep_id, rep.user_id if rep else None, team_id, fresh.get(c.lead_id) if rep else None)
        for c, team_id, rep, _ in decided
    ]


def leads_route_waiting(*, now: datetime.datetime, team_ids: list[int] | None = None) -> int:
    """Retry every lead waiting in an unassigned queue, one transaction per batch.

    Safe to run twice or on two workers at once: leads_route skips leads another
    router holds and only touches leads still queued without an owner.
    """
    qs = Lead.objects.filter(status=Status.QUEUED, owner__isnull=True)
    if team_ids is not None:
        qs = qs.filter(team_id__in=team_ids)
    assigned = 0
    last_id = 0
    while True:
        batch = list(qs.filter(id__gt=last_id).order_by("id").values_list("id", flat=True)[:WAITING_BATCH])
        if not batch:
            return assigned
        last_id = batch[-1]
        try:
            assigned += leads_route(lead_ids=batch, now=now)
        except Exception:  # one bad batch must not stall the sweep; the next run retries it
            logger.exception("Routing waiting leads %s..%s failed", batch[0], batch[-1])


# --- Managers' actions ------------------------------------------------------------
#
# Manager actions on routing: reassign leads with a reason, pause and unpause reps,
# and keep the ordered list of routing rules.
#
# Reassignment is guarded twice: the caller states the owner it saw for every lead
# and the leads are locked before the comparison, so two managers acting at the
# same moment cannot both win, and nobody moves a lead that is no longer where
# they saw it (ConflictError, HTTP 409).


REASON_MAX_LENGTH = 500
# Statuses in which the first-contact clock (re)starts on a new owner.
NOT_YET_CONTACTED = (Status.QUEUED, Status.ASSIGNED)


def _label(user: User | None) -> str:
    return user.username if user else "nobody"


@transaction.atomic
def leads_reassign(
    *,
    actor: User,
    lead_ids: list[int],
    to_rep_id: int,
    reason: str,
    expected_owners: dict[int, int | None],
    now: datetime.datetime,
) -> list[Lead]:
    """Give leads to another rep; all of them or none.

    `expected_owners` maps every lead id to the owner id the actor saw (None for a
    lead in an unassigned queue). A lead whose owner changed since, or that left
    the actor's teams, is a conflict and nothing is changed. A lead not yet
    contacted gets a fresh first-contact clock. Returns the leads that moved.
    """
    reason = (reason or "").strip()
    lead_ids = list(dict.fromkeys(int(i) for i in lead_ids))
    errors: dict[str, list[str]] = {}
    if not lead_ids:
        errors["leads"] = ["Choose at least one lead."]
    if not reason:
        errors["reason"] = ["Say why the leads are reassigned; the reason goes into each lead's history."]
    elif len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = [f"Keep the reason under {REASON_MAX_LENGTH} characters."]
    missing = [i for i in lead_ids if i not in expected_owners]
    if missing:
        errors["expected_owners"] = [f"Give the owner you saw for lead(s) {', '.join(map(str, missing))}."]
    if errors:
        raise ApplicationError("The reassignment was not made.", fields=errors)

    to_rep = rep_get_for_user(user=actor, rep_id=to_rep_id)  # 404: not a rep of the actor's teams
    if not to_rep.user.is_active:
        raise ApplicationError("The reassignment was not made.", fields={"to_rep": [f"{to_rep.user} is deactivated."]})

    # 404 for leads the actor may not see at all (before any lock: no hint that they exist).
    visible_before = set(leads_visible_to(user=actor).filter(id__in=lead_ids).values_list("id", flat=True))
    if len(visible_before) != len(lead_ids):
        raise Http404("No such lead.")

    # Lock in id order (the order every writer uses), then compare with what the actor saw.
    leads = list(
        Lead.objects.filter(id__in=lead_ids).select_related("owner").order_by("id").select_for_update(of=("self",))
    )
    still_visible = set(leads_visible_to(user=actor).filter(id__in=lead_ids).values_list("id", flat=True))
    conflicts = []
    changed = [lead for lead in leads if lead.owner_id != expected_owners[lead.id] or lead.id not in still_visible]
    if changed:
        seen_ids = {expected_owners[lead.id] for lead in changed} - {None}
        seen_names = dict(User.objects.filter(id__in=seen_ids).values_list("id", "username"))
        for lead in changed:
            seen = expected_owners[lead.id]
            where = "" if lead.id in still_visible else " on another team"
            was = "unassigned" if seen is None else f"with {seen_names.get(seen, 'another owner')}"
            conflicts.append(
                f"{lead} (lead {lead.id}) now belongs to {_label(lead.owner)}{where}; "
                f"it was {was} when you loaded the page."
            )
    if conflicts:
        raise ConflictError(
            "Someone changed these leads after you loaded them; nothing was reassigned. Reload and try again.",
            fields={"leads": conflicts},
        )
    refused = [
        f"{lead} (lead {lead.id}) is {lead.get_status_display().lower()} and cannot be reassigned."
        for lead in leads
        if lead.status not in OPEN_STATUSES
    ]
    if refused:
        raise ApplicationError("The reassignment was not made.", fields={"leads": refused})

    moved, rows = [], []
    new_owner = to_rep.user
    for lead in leads:
        if lead.owner_id == new_owner.id:
            continue  # already theirs: nothing to do, no history
        old_owner, old_team_id = lead.owner, lead.team_id
        restart = lead.status in NOT_YET_CONTACTED and lead.first_contact_at is None
        lead.owner = new_owner
        lead.team_id = to_rep.team_id
        lead.updated_at = now
        # The old rep's clock ends here: a late contact is charged to whoever let it lapse.
        clocks_end(lead_ids=[lead.id], outcome=ClockOutcome.REASSIGNED, now=now)
        lead.sla_due_at = None
        if restart:
            lead.status = Status.ASSIGNED
            lead.assigned_at = now
            clock = clock_start(lead_id=lead.id, rep_id=new_owner.id, team_id=to_rep.team_id, now=now)
            lead.sla_due_at = clock.due_at
        moved.append(lead)
        rows.append(
            history.reassigned(
                old_owner=old_owner,
                owner=new_owner,
                note=reason,
                by=actor.username,
                old_team_id=old_team_id,
                team_id=to_rep.team_id,
                clock_restarted=restart,
                sla_due_at=lead.sla_due_at.isoformat() if lead.sla_due_at else None,
            ).row(lead_id=lead.id, at=now, actor_id=actor.id)
        )
    Lead.objects.bulk_update(moved, ["owner", "team", "status", "assigned_at", "sla_due_at", "updated_at"])
    LeadHistory.objects.bulk_create(rows)
    logger.info("%s reassigned %d lead(s) to %s: %s", actor.username, len(moved), new_owner.username, reason)
    return moved


@transaction.atomic
def rep_set_paused(*, actor: User, rep_id: int, paused: bool) -> RepProfile:
    """Pause (no new leads routed; existing ones stay) or unpause a rep of the actor's teams."""
    profile = rep_get_for_user(user=actor, rep_id=rep_id, write=True)
    if profile.paused != paused:
        profile.paused = paused
        profile.save(update_fields=["paused"])
        logger.info("%s %s rep %s", actor.username, "paused" if paused else "unpaused", profile.user.username)
        if not paused:
            team_id = profile.team_id
            # Leads that waited for this rep get a chance now rather than at the next sweep.
            transaction.on_commit(lambda: _enqueue_route_waiting(team_id))
    return profile


def _enqueue_route_waiting(team_id: int) -> None:
    from leads import tasks  # tasks import this module

    tasks.route_waiting_leads.delay(team_ids=[team_id])


# --- Routing rules ---------------------------------------------------------------------


def _check_team(actor: User, team: Team) -> None:
    if not (actor.is_admin_role or team.manager_id == actor.id):
        raise ApplicationError(
            "Choose one of your teams.", fields={"team": ["You may only route leads to your own teams."]}
        )


@transaction.atomic
def rule_create(
    *,
    actor: User,
    name: str,
    team: Team,
    conditions: dict,
    strategy: str,
    enabled: bool = True,
    skip_outside_working_hours: bool = False,
) -> AssignmentRule:
    """A new rule goes to the end of the list (it applies when no earlier rule matches)."""
    _check_team(actor, team)
    conditions = conditions_clean(conditions)
    # Serialise writers of the list so two new rules never share a position.
    list(AssignmentRule.objects.select_for_update().values_list("id", flat=True))
    last = AssignmentRule.objects.aggregate(m=Max("position"))["m"]
    return AssignmentRule.objects.create(
        name=name,
        team=team,
        conditions=conditions,
        strategy=strategy,
        enabled=enabled,
        skip_outside_working_hours=skip_outside_working_hours,
        position=0 if last is None else last + 1,
    )


@transaction.atomic
def rule_update(*, actor: User, rule_id: int, **values) -> AssignmentRule:
    rule = rule_get_for_user(user=actor, rule_id=rule_id, write=True)
    if "team" in values:
        _check_team(actor, values["team"])
    if "conditions" in values:
        values["conditions"] = conditions_clean(values["conditions"])
    for key, value in values.items():
        setattr(rule, key, value)
    rule.save()
    return rule


@transaction.atomic
def rule_delete(*, actor: User, rule_id: int) -> None:
    rule_get_for_user(user=actor, rule_id=rule_id, write=True).delete()


@transaction.atomic
def rule_move(*, actor: User, rule_id: int, direction: str) -> AssignmentRule:
    """Swap a rule with its neighbour above ("up") or below ("down"); renumber the list 0..n-1."""
    if direction not in ("up", "down"):
        raise ApplicationError("Move a rule up or down.", fields={"direction": ["Choose up or down."]})
    rule = rule_get_for_user(user=actor, rule_id=rule_id)
    ordered = list(rules_ordered().select_for_update(of=("self",)))
    index = next(i for i, r in enumerate(ordered) if r.id == rule.id)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    changed = []
    for position, r in enumerate(ordered):
        if r.position != position:
            r.position = position
            changed.append(r)
    AssignmentRule.objects.bulk_update(changed, ["position"])
    return next(r for r in ordered if r.id == rule.id)


@transaction.atomic
def rule_set_enabled(*, actor: User, rule_id: int, enabled: bool) -> AssignmentRule:
    rule = rule_get_for_user(user=actor, rule_id=rule_id, write=True)
    rule.enabled = enabled
    rule.save(update_fields=["enabled", "updated_at"])
    return rule
