"""The outcome figures of a group of leads: one definition for every page that shows them.

The comparison report (reports.services) and the definition preview's backtest
(scoring.preview) both count through `group_figures`: one set-based statement
(GROUP BY with FILTER clauses and percentile_cont) over the lead table, then a
few pure functions here (Wilson interval, Kaplan–Meier median, the verdict's
tests from scipy) on the aggregated rows. It lives in leads, below scoring and
reports, so both can import it.

Definitions (README, "The comparison report"):
- a lead is won or lost by its status; open is every status between queued and
  opportunity; a lead recycled back to the nurture pool is neither (`returned`);
- win rate = won / (won + lost); conversion = won / leads of the cohort, shown
  in cohort mode only; both with a 95% Wilson interval;
- a cycle is counted in calendar days (UTC): the UTC date of closing minus the
  UTC date of the cycle's start. Its start is selectable (CYCLE_STARTS); by
  default assignment for marketing leads and creation for rep-sourced ones.
  A deal closed before its cycle started is a data error: counted in
  `closed_before_start`, left out of every cycle figure, never a negative cycle;
- medians and the 75th percentile are percentile_cont (linear interpolation),
  over won deals only; the Kaplan–Meier median counts won deals as events and
  open deals as censored at their age today (lost deals are neither: they can
  no longer be won);
- touches: a NULL touch count is unknown and left out; a group with no known
  count shows None, never 0.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection

from .models import OPEN_STATUSES, Status

# 95%: the normal quantile of 0.975.
Z95 = 1.959963984540054
# The verdict says "too few closed deals to tell" below this many closed deals in either group.
MIN_CLOSED_FOR_VERDICT = 20

# Where a cycle starts: SQL over the lead row `l`. "promoted" is when the lead
# entered the sales queue: promotion for an MQL, creation for a lead that was
# never promoted (rep-sourced, imported history).
CYCLE_STARTS = {
    "created": "l.created_at",
    "promoted": "coalesce(l.promoted_at, l.created_at)",
    "assigned": "l.assigned_at",
    "first_contact": "l.first_contact_at",
}
DEFAULT_CYCLE_START = "CASE WHEN l.origin = 'rep_sourced' THEN l.created_at ELSE l.assigned_at END"
# When a lead entered the queue: the cohort a lead belongs to.
QUEUED_AT_SQL = "coalesce(l.promoted_at, l.created_at)"
# Leads that reached sales: anything out of the nurture pool, and recycled MQLs (back in it).
# The comparison and the preview's backtest count these, never the pool's never-promoted leads.
REACHED_SALES_SQL = "(l.status <> 'nurture' OR l.recycled_count > 0)"


def cycle_start_sql(cycle_from: str | None) -> str:
    if cycle_from in (None, "", "default"):
        return DEFAULT_CYCLE_START
    try:
        return CYCLE_STARTS[cycle_from]
    except KeyError:
        raise ValueError(f"cycle start must be one of {', '.join(CYCLE_STARTS)}") from None


@dataclass(frozen=True)
class LeadSet:
    """Which leads to count and how to group them: SQL fragments over `leads_lead l`.

    `from_sql` may join more tables (a team, a list of ids); `group_sql` names
    each lead's group; `where_sql` picks the leads. Parameters in order of
    appearance: group, from, where.
    """

    group_sql: str
    from_sql: str = "leads_lead l"
    # A coarser grouping rolled up in the same statement (GROUPING SETS), e.g. the
    # origin side of a group: marketing-qualified against rep-sourced.
    side_sql: str = "''"
    where_sql: str = "true"
    group_params: Sequence[Any] = ()
    from_params: Sequence[Any] = ()
    where_params: Sequence[Any] = ()


_WON, _LOST = Status.WON.value, Status.LOST.value
_OPEN = "ARRAY[" + ", ".join(f"'{s}'" for s in OPEN_STATUSES) + "]::varchar[]"


def _base_sql(lead_set: LeadSet, *, start_sql: str, group_sql: str) -> str:
    # Each lead's group, cycle (days between UTC dates) and age today (for censoring).
    # start_sql takes no parameters; `now` is the one parameter after the group's own.
    return f"""
        SELECT {group_sql} AS grp, l.status, l.deal_value, l.touch_count,
               l.first_contact_at, l.assigned_at,
               ({start_sql}) AS start_at, l.closed_at,
               ((l.closed_at AT TIME ZONE 'UTC')::date - (({start_sql}) AT TIME ZONE 'UTC')::date) AS cycle,
               (((%s::timestamptz) AT TIME ZONE 'UTC')::date - (({start_sql}) AT TIME ZONE 'UTC')::date) AS age
        FROM {lead_set.from_sql} WHERE {lead_set.where_sql}
    """  # noqa: S608 - fragments are the module's own constants; values are parameters


_WON_CYCLE = f"status = '{_WON}' AND closed_at >= start_at"
_OPEN_AGE = f"status = ANY({_OPEN}) AND age >= 0"


def _figures_sql(lead_set: LeadSet, *, start_sql: str) -> str:
    # Every count and percentile of every group and of all leads in one statement
    # (GROUPING SETS). Both percentiles of the won cycles come from one sort.
    return f"""
        WITH b AS ({_base_sql(lead_set, start_sql=start_sql, group_sql=lead_set.group_sql)})
        SELECT GROUPING(grp) = 1, grp,
          count(*),
          count(*) FILTER (WHERE first_contact_at IS NOT NULL),
          count(*) FILTER (WHERE status = '{_WON}'),
          count(*) FILTER (WHERE status = '{_LOST}'),
          count(*) FILTER (WHERE status = ANY({_OPEN})),
          count(*) FILTER (WHERE closed_at < start_at AND status IN ('{_WON}', '{_LOST}')),
          count(*) FILTER (WHERE status IN ('{_WON}', '{_LOST}') AND start_at IS NULL),
          percentile_cont(ARRAY[0.5, 0.75]) WITHIN GROUP (ORDER BY cycle) FILTER (WHERE {_WON_CYCLE}),
          percentile_cont(0.5) WITHIN GROUP (ORDER BY touch_count) FILTER (WHERE status = '{_WON}'),
          percentile_cont(0.5) WITHIN GROUP (ORDER BY touch_count) FILTER (WHERE status = '{_LOST}'),
          sum(deal_value) FILTER (WHERE status = '{_WON}'),
          count(deal_value) FILTER (WHERE status = '{_WON}'),
          percentile_cont(0.5) WITHIN GROUP (
            ORDER BY extract(epoch FROM first_contact_at - assigned_at) / 3600.0
          ) FILTER (WHERE first_contact_at >= assigned_at),
          array_agg(cycle) FILTER (WHERE {_WON_CYCLE}),
          array_agg(age) FILTER (WHERE {_OPEN_AGE})
        FROM b GROUP BY GROUPING SETS ((grp), ())
    """  # noqa: S608


def _sides_sql(lead_set: LeadSet, *, start_sql: str) -> str:
    # What the verdict needs per side: counts and the vectors of its tests; no sorting.
    return f"""
        WITH b AS ({_base_sql(lead_set, start_sql=start_sql, group_sql=lead_set.side_sql)})
        SELECT grp, count(*),
          count(*) FILTER (WHERE status = '{_WON}'),
          count(*) FILTER (WHERE status = '{_LOST}'),
          count(*) FILTER (WHERE status = ANY({_OPEN})),
          array_agg(cycle) FILTER (WHERE {_WON_CYCLE}),
          array_agg(age) FILTER (WHERE {_OPEN_AGE})
        FROM b GROUP BY grp
    """  # noqa: S608


FIELDS = (
    "leads",
    "contacted",
    "won",
    "lost",
    "open",
    "closed_before_start",
    "closed_without_start",
    "cycle_percentiles_won",
    "median_touches_won",
    "median_touches_lost",
    "won_value",
    "won_with_value",
    "median_hours_to_first_contact",
    "won_cycles",
    "open_ages",
)
SIDE_FIELDS = ("leads", "won", "lost", "open", "won_cycles", "open_ages")


def _params(lead_set: LeadSet, group_params: Sequence[Any], now: datetime.datetime) -> list:
    return [*group_params, now, *lead_set.from_params, *lead_set.where_params]


def group_rows(lead_set: LeadSet, *, now: datetime.datetime, cycle_from: str | None = None) -> dict[str, Any]:
    """The raw aggregates per group and in total: counts, percentiles, and the won cycles
    and open ages (arrays, for the Kaplan–Meier median and the verdict's tests).

    {"groups": {name: row}, "total": row or None}; a group whose expression is NULL
    is named "(none)".
    """
    sql = _figures_sql(lead_set, start_sql=cycle_start_sql(cycle_from))
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(lead_set, lead_set.group_params, now))
        rows = cursor.fetchall()
    out: dict[str, Any] = {"groups": {}, "total": None}
    for is_total, name, *values in rows:
        row = dict(zip(FIELDS, values, strict=True))
        cycles = row.pop("cycle_percentiles_won") or [None, None]
        row["median_cycle_days_won"], row["p75_cycle_days_won"] = cycles
        if is_total:
            out["total"] = row
        else:
            out["groups"]["(none)" if name is None else name] = row
    return out


def side_rows(lead_set: LeadSet, *, now: datetime.datetime, cycle_from: str | None = None) -> dict[str, dict]:
    """Per side (lead_set.side_sql): counts, won cycles and open ages, for the verdict."""
    sql = _sides_sql(lead_set, start_sql=cycle_start_sql(cycle_from))
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(lead_set, (), now))
        return {name: dict(zip(SIDE_FIELDS, values, strict=True)) for name, *values in cursor.fetchall()}


def sides_from_groups(groups: dict[str, dict], side_of) -> dict[str, dict]:
    """The sides' rows from groups that partition them (`side_of(group)` names its side):
    counts add up and vectors join, so no second pass over the leads is needed."""
    sides: dict[str, dict] = {}
    for name, row in groups.items():
        side = sides.setdefault(side_of(name), dict.fromkeys(SIDE_FIELDS[:4], 0) | {"won_cycles": [], "open_ages": []})
        for key in SIDE_FIELDS[:4]:
            side[key] += row[key]
        side["won_cycles"] += row["won_cycles"] or []
        side["open_ages"] += row["open_ages"] or []
    return sides


def group_figures(
    lead_set: LeadSet, *, now: datetime.datetime, cohort: bool, cycle_from: str | None = None
) -> dict[str, dict]:
    """Every figure of every group (see figures_from_row), keyed by group."""
    rows = group_rows(lead_set, now=now, cycle_from=cycle_from)
    return {grp: figures_from_row(row, cohort=cohort) for grp, row in rows["groups"].items()}


# --- pure figures -------------------------------------------------------------------


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of k successes in n trials (None when n is 0)."""
    if n <= 0:
        return None
    p = k / n
    denom = 1 + z * z / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, (centre - spread) / denom), min(1.0, (centre + spread) / denom))


def percentile_cont(values: Sequence[float], q: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the two nearest ranks.

    The SQL computes the groups' percentiles; this states the same figure for the
    vectors a verdict joins in Python (a side made of several groups). Tested to agree.
    """
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (pos - low))


def km_median(events: Sequence[float], censored: Sequence[float]) -> float | None:
    """Kaplan–Meier median: the first time the survival curve falls to 0.5 or below.

    `events` are the won deals' cycles, `censored` the open deals' ages (a deal
    censored at t is still at risk at t). None when the curve never reaches 0.5
    (too many deals still open to say). The product-limit estimate, vectorised
    with numpy over the distinct event times (scipy.stats.ecdf gives the same
    curve, at ten times the cost on a million deals; tests hold them equal).
    """
    if len(events) == 0:
        return None
    import numpy as np

    won = np.asarray(events, dtype=float)
    every = np.sort(np.concatenate([won, np.asarray(censored, dtype=float)]))
    times, died = np.unique(won, return_counts=True)
    at_risk = len(every) - np.searchsorted(every, times, side="left")
    survival = np.cumprod(1.0 - died / at_risk)
    below = np.nonzero(survival <= 0.5 + 1e-12)[0]
    return float(times[below[0]]) if len(below) else None


def _num(value: Any) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and value.is_integer():
        return value
    return value


def _rate(k: int, n: int) -> dict:
    interval = wilson(k, n)
    return {
        "rate": round(k / n, 6) if n else None,
        "low": round(interval[0], 6) if interval else None,
        "high": round(interval[1], 6) if interval else None,
    }


def figures_from_row(row: dict, *, cohort: bool) -> dict:
    """A group's figures from its aggregates: rates with intervals, KM median, money."""
    won, lost = row["won"], row["lost"]
    win = _rate(won, won + lost)
    conv = _rate(won, row["leads"]) if cohort else None
    won_cycles = [float(c) for c in row["won_cycles"] or []]
    open_ages = [float(a) for a in row["open_ages"] or []]
    won_value = row["won_value"]
    return {
        "leads": row["leads"],
        "contacted": row["contacted"],
        "won": won,
        "lost": lost,
        "open": row["open"],
        "closed": won + lost,
        "win_rate": win["rate"],
        "win_rate_low": win["low"],
        "win_rate_high": win["high"],
        "conversion": conv["rate"] if conv else None,
        "conversion_low": conv["low"] if conv else None,
        "conversion_high": conv["high"] if conv else None,
        "median_cycle_days_won": _num(row["median_cycle_days_won"]),
        "p75_cycle_days_won": _num(row["p75_cycle_days_won"]),
        "km_median_cycle_days": km_median(won_cycles, open_ages),
        "closed_before_start": row["closed_before_start"],
        "closed_without_start": row["closed_without_start"],
        "median_touches_won": _num(row["median_touches_won"]),
        "median_touches_lost": _num(row["median_touches_lost"]),
        "won_value": _num(won_value) if won_value is not None else (0 if won == 0 else None),
        "average_deal": _num(round(won_value / row["won_with_value"], 2)) if row["won_with_value"] else None,
        "median_hours_to_first_contact": _round(row["median_hours_to_first_contact"], 2),
    }


def _round(value: Any, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


# --- the verdict --------------------------------------------------------------------


@dataclass
class Side:
    """One side of the verdict: its name and the vectors its tests need."""

    label: str
    leads: int
    won: int
    lost: int
    won_cycles: list[float] = field(default_factory=list)
    open_ages: list[float] = field(default_factory=list)
    median_cycle: float | None = None


def side_from_row(label: str, row: dict | None) -> Side:
    if row is None:
        return Side(label, 0, 0, 0)
    won_cycles = [float(c) for c in row["won_cycles"] or []]
    return Side(
        label,
        row["leads"],
        row["won"],
        row["lost"],
        won_cycles,
        [float(a) for a in row["open_ages"] or []],
        _num(percentile_cont(won_cycles, 0.5)),
    )


def side_figures(row: dict, *, cohort: bool) -> dict:
    """A side's figures: counts, rates, the median and Kaplan–Meier median of its won cycles."""
    won, lost = row["won"], row["lost"]
    win, conv = _rate(won, won + lost), _rate(won, row["leads"]) if cohort else None
    cycles = [float(c) for c in row["won_cycles"] or []]
    return {
        "leads": row["leads"],
        "won": won,
        "lost": lost,
        "open": row["open"],
        "win_rate": win["rate"],
        "conversion": conv["rate"] if conv else None,
        "median_cycle_days_won": _num(percentile_cont(cycles, 0.5)),
        "km_median_cycle_days": km_median(cycles, [float(a) for a in row["open_ages"] or []]),
    }


def _p_words(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _days(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"{value:g}"


def verdict(a: Side, b: Side, *, cohort: bool) -> dict:
    """A plain-language verdict comparing side a with side b, naming its tests.

    Cycle: log-rank when open deals exist (they are censored), else Mann–Whitney.
    Rate: conversion (cohort mode) or win rate (close-date mode), Fisher's exact
    test when an expected cell is under 5, else chi-square. Below
    MIN_CLOSED_FOR_VERDICT closed deals in either side: too few to tell.
    """
    from scipy import stats

    closed_a, closed_b = a.won + a.lost, b.won + b.lost
    result: dict[str, Any] = {
        "a": a.label,
        "b": b.label,
        "cycle_test": None,
        "cycle_p": None,
        "rate_test": None,
        "rate_p": None,
    }
    if closed_a < MIN_CLOSED_FOR_VERDICT or closed_b < MIN_CLOSED_FOR_VERDICT:
        result["text"] = (
            f"Too few closed deals to tell ({closed_a} {a.label} vs {closed_b} {b.label}; "
            f"at least {MIN_CLOSED_FOR_VERDICT} in each are needed)."
        )
        return result
    sentences = []
    if a.won_cycles and b.won_cycles:
        if a.open_ages or b.open_ages:
            test = stats.logrank(
                x=stats.CensoredData(uncensored=a.won_cycles, right=a.open_ages),
                y=stats.CensoredData(uncensored=b.won_cycles, right=b.open_ages),
            )
            name = "log-rank"
        else:
            test = stats.mannwhitneyu(a.won_cycles, b.won_cycles, alternative="two-sided")
            name = "Mann–Whitney"
        p = float(test.pvalue)
        result |= {"cycle_test": name, "cycle_p": p}
        sentences.append(
            f"{a.label} closed in a median of {_days(a.median_cycle)} days against {_days(b.median_cycle)} "
            f"for {b.label.lower()} ({name} {_p_words(p)}; {a.won} vs {b.won} deals)."
        )
    if cohort:
        table = [[a.won, a.leads - a.won], [b.won, b.leads - b.won]]
        what = "converted"
    else:
        table = [[a.won, a.lost], [b.won, b.lost]]
        what = "won"
    expected = stats.contingency.expected_freq(table)
    if (expected < 5).any():
        p = float(stats.fisher_exact(table).pvalue)
        name = "Fisher's exact test"
    else:
        p = float(stats.chi2_contingency(table).pvalue)
        name = "chi-square"
    rate_a = table[0][0] / sum(table[0])
    rate_b = table[1][0] / sum(table[1])
    result |= {"rate_test": name, "rate_p": p}
    sentences.append(
        f"They {what} {rate_a:.1%} {'of leads' if cohort else 'of closed deals'} against {rate_b:.1%} "
        f"({name} {_p_words(p)})."
    )
    result["text"] = " ".join(sentences)
    return result
