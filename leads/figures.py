"""The outcome figures of a group of leads: one definition for every page that shows them.

The comparison report (reports.services) and the definition preview's backtest
(scoring.preview) both count through `group_figures`: one set-based statement
over the lead table counting leads into a histogram (group, status, day, touch
count: a parallel hash aggregate), one more for the hours to first contact, then
pure functions here on the histograms (percentile_cont's ranks and
interpolation, Wilson interval, Kaplan–Meier median, the verdict's tests from
scipy). It lives in leads, below scoring and reports, so both can import it.

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

import contextlib
import datetime
import functools
import math
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

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


# A won deal's cycle counts unless it closed before it started (a data error); an
# open deal is censored at its age unless it has not started yet.
_WON_CYCLE = "closed_at >= start_at"
# Status classes in the histogram's key: 1 won, 2 lost, 3 open, 0 neither (recycled back to the pool).
_CLASS = (
    f"CASE WHEN status = '{_WON}' THEN 1 WHEN status = '{_LOST}' THEN 2 WHEN status = ANY({_OPEN}) THEN 3 ELSE 0 END"
)
WON, LOST, OPEN = 1, 2, 3


def _histogram_sql(lead_set: LeadSet, *, start_sql: str, group_sql: str) -> str:
    # Every lead counted once into a cell (group, status class, day, touches): the won
    # deal's cycle or the open deal's age in days, the closed deal's touch count. Days and
    # touches are whole numbers, so the cells are few (thousands for a million leads) and
    # every percentile, total and side is exact from them in Python (histogram_*). Plain
    # count/sum aggregates: PostgreSQL runs this as a parallel hash aggregate, where
    # percentile_cont and array_agg (no combine function before PostgreSQL 16) run on one
    # core after a sort.
    return f"""
        WITH b AS ({_base_sql(lead_set, start_sql=start_sql, group_sql=group_sql)})
        SELECT grp, {_CLASS} AS k,
          CASE WHEN status = '{_WON}' THEN CASE WHEN {_WON_CYCLE} THEN cycle END
               WHEN status = ANY({_OPEN}) THEN age END AS d,
          CASE WHEN status IN ('{_WON}', '{_LOST}') THEN touch_count END AS t,
          count(*),
          count(first_contact_at),
          count(*) FILTER (WHERE closed_at < start_at),
          count(*) FILTER (WHERE start_at IS NULL),
          sum(deal_value),
          count(deal_value)
        FROM b GROUP BY 1, 2, 3, 4
    """  # noqa: S608 - fragments are the module's own constants; values are parameters


def _hours_sql(lead_set: LeadSet, *, group_sql: str, buckets: bool) -> str:
    # Hours from assignment to first contact are continuous: counted per whole hour with
    # the bucket's least and greatest value (a median falling on a bucket whose values are
    # all equal, or on its first or last, is known from these); `buckets=False` reads the
    # values of the few buckets still needed. The bucket is only a partition (float
    # date_part: cheap, and monotone like the figure); each value is the figure's own
    # expression (numeric extract), taken on the interval's least and greatest only.
    hours = "extract(epoch FROM {}) / 3600.0"
    span = "l.first_contact_at - l.assigned_at"
    bucket = f"floor(date_part('epoch', {span}) / 3600)::bigint"
    where = f"{lead_set.where_sql} AND l.first_contact_at >= l.assigned_at"
    if buckets:
        return f"""
            SELECT {group_sql}, {bucket}, count(*),
                   {hours.format(f"min({span})")}, {hours.format(f"max({span})")}
            FROM {lead_set.from_sql} WHERE {where} GROUP BY 1, 2
        """  # noqa: S608 - fragments are the module's own constants; values are parameters
    return f"""
        SELECT {group_sql}, {bucket}, {hours.format(span)}
        FROM {lead_set.from_sql} WHERE {where} AND {bucket} = ANY(%s)
    """  # noqa: S608


_COUNTS = ("leads", "contacted", "won", "lost", "open", "closed_before_start", "closed_without_start", "won_with_value")
_HISTOGRAMS = ("won_cycle_counts", "open_age_counts", "touches_won_counts", "touches_lost_counts")


def _params(lead_set: LeadSet, group_params: Sequence[Any], now: datetime.datetime) -> list:
    return [*group_params, now, *lead_set.from_params, *lead_set.where_params]


@contextlib.contextmanager
def _aggregating():
    """A cursor in a transaction whose work_mem fits the histograms' hash aggregates.

    The histogram has a few thousand cells, but PostgreSQL cannot estimate that from the
    expressions (it guesses 100,000) and at the default 4 MB plans a sort instead of the
    hash aggregate; the cells take about 5 MB. Transaction-local (set_config's `true`).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', '32MB', true)")
        yield cursor


def _empty_row() -> dict:
    return dict.fromkeys(_COUNTS, 0) | {"won_value": None} | {name: {} for name in _HISTOGRAMS}


def _add(counts: dict, key, n: int) -> None:
    counts[key] = counts.get(key, 0) + n


def _histogram_rows(lead_set: LeadSet, *, now, cycle_from, group_sql: str, group_params) -> dict[Any, dict]:
    """Per group: the counts, won value and the four histograms ({value: count})."""
    sql = _histogram_sql(lead_set, start_sql=cycle_start_sql(cycle_from), group_sql=group_sql)
    with _aggregating() as cursor:
        cursor.execute(sql, _params(lead_set, group_params, now))
        cells = cursor.fetchall()
    rows: dict[Any, dict] = {}
    for grp, k, d, t, n, contacted, before_start, without_start, value, with_value in cells:
        row = rows.get(grp) or rows.setdefault(grp, _empty_row())
        row["leads"] += n
        row["contacted"] += contacted
        if k in (WON, LOST):
            row["closed_before_start"] += before_start
            row["closed_without_start"] += without_start
            if t is not None:
                _add(row["touches_won_counts" if k == WON else "touches_lost_counts"], t, n)
        if k == WON:
            row["won"] += n
            row["won_with_value"] += with_value
            if value is not None:
                row["won_value"] = value if row["won_value"] is None else row["won_value"] + value
            if d is not None:
                _add(row["won_cycle_counts"], d, n)
        elif k == LOST:
            row["lost"] += n
        elif k == OPEN:
            row["open"] += n
            if d is not None and d >= 0:
                _add(row["open_age_counts"], d, n)
    return rows


def merge_rows(rows) -> dict:
    """One row of several groups' rows: counts and money add up, histograms merge."""
    out = _empty_row()
    for row in rows:
        for key in _COUNTS:
            out[key] += row[key]
        if row["won_value"] is not None:
            out["won_value"] = row["won_value"] if out["won_value"] is None else out["won_value"] + row["won_value"]
        for name in _HISTOGRAMS:
            for value, n in row[name].items():
                _add(out[name], value, n)
    return out


class _Row(dict):
    """A group's aggregates. Its won cycles and open ages as vectors (`won_cycles`,
    `open_ages`) are expanded from the histograms when first read: the figures and the
    verdict work on the histograms and the sides' vectors. Its median hours to first
    contact, when still being counted on a second connection (group_rows), is waited for
    when first read."""

    hours_later: tuple[Future, Any] | None = None  # (the hours medians being counted, this row's key)

    def __missing__(self, key):
        if key == "median_hours_to_first_contact" and self.hours_later is not None:
            pending, name = self.hours_later
            self[key] = pending.result().get(name)
            return self[key]
        if key not in ("won_cycles", "open_ages"):
            raise KeyError(key)
        self[key] = histogram_values(self["won_cycle_counts" if key == "won_cycles" else "open_age_counts"])
        return self[key]


def _with_figures(row: dict) -> dict:
    # The percentiles (percentile_cont) from the histograms.
    row = _Row(row)
    row["median_cycle_days_won"] = histogram_percentile(row["won_cycle_counts"], 0.5)
    row["p75_cycle_days_won"] = histogram_percentile(row["won_cycle_counts"], 0.75)
    row["median_touches_won"] = histogram_percentile(row["touches_won_counts"], 0.5)
    row["median_touches_lost"] = histogram_percentile(row["touches_lost_counts"], 0.5)
    return row


_TOTAL = ("total",)  # the key of all leads (a group's own key may be None)


def _hours_medians(lead_set: LeadSet, *, group_sql: str, group_params) -> dict[Any, float | None]:
    """The median hours from assignment to first contact per group and in total (key _TOTAL):
    percentile_cont over the leads contacted at or after assignment, exact, without a sort of
    every lead (see _hours_sql)."""
    params = [*group_params, *lead_set.from_params, *lead_set.where_params]
    with _aggregating() as cursor:
        cursor.execute(_hours_sql(lead_set, group_sql=group_sql, buckets=True), params)
        cells = cursor.fetchall()
    buckets: dict[Any, dict[int, list]] = {}
    for grp, bucket, n, low, high in cells:
        for key in (grp, _TOTAL):
            cell = buckets.setdefault(key, {}).setdefault(bucket, [0, low, high])
            if cell[0]:
                cell[1], cell[2] = min(cell[1], low), max(cell[2], high)
            cell[0] += n
    # Which rank of which bucket each median needs; known at once when the bucket's
    # values are equal or the rank is its first or last.
    wanted: dict[Any, list] = {}
    missing: set[int] = set()
    for key, by_bucket in buckets.items():
        ranks = []
        for rank in _median_ranks(sum(c[0] for c in by_bucket.values())):
            before = 0
            for bucket in sorted(by_bucket):
                n, low, high = by_bucket[bucket]
                if rank < before + n:
                    offset = rank - before
                    if low == high or offset == 0:
                        ranks.append(low)
                    elif offset == n - 1:
                        ranks.append(high)
                    else:
                        ranks.append((bucket, offset))
                        missing.add(bucket)
                    break
                before += n
        wanted[key] = ranks
    if missing:
        with connection.cursor() as cursor:
            sql = _hours_sql(lead_set, group_sql=group_sql, buckets=False)
            cursor.execute(sql, [*params, sorted(missing)])
            values: dict[Any, list] = {}
            for grp, bucket, h in cursor.fetchall():
                if bucket in missing:
                    values.setdefault((grp, bucket), []).append(h)
                    values.setdefault((_TOTAL, bucket), []).append(h)
        for vector in values.values():
            vector.sort()
        for key, ranks in wanted.items():
            wanted[key] = [values[(key, r[0])][r[1]] if isinstance(r, tuple) else r for r in ranks]
    out: dict[Any, float | None] = {}
    for key, ranks in wanted.items():
        n = sum(c[0] for c in buckets[key].values())
        low, high = (float(v) for v in ranks) if len(ranks) == 2 else (float(ranks[0]),) * 2
        pos = (n - 1) * 0.5
        out[key] = low + (high - low) * (pos - int(pos))
    return out


def _median_ranks(n: int) -> list[int]:
    # The 0-based ranks percentile_cont(0.5) interpolates between (one when n is odd).
    low = (n - 1) // 2
    return [low] if (n - 1) % 2 == 0 else [low, low + 1]


@contextlib.contextmanager
def _shared_snapshot():
    """This connection's transaction at REPEATABLE READ with its snapshot exported: a second
    connection that imports it (_in_snapshot) reads exactly the rows this one reads."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT pg_export_snapshot(), current_setting('statement_timeout')")
        yield cursor.fetchone()


def _in_snapshot(snapshot: str, statement_timeout: str, work, imported: threading.Event):
    """work() on this thread's own connection, in the exported snapshot and under the same
    statement timeout (the job's); `imported` is set once the snapshot is held (the exporting
    transaction may end then). The connection is closed afterwards."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            try:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [statement_timeout])
            finally:
                imported.set()
            return work()
    finally:
        connection.close()


def group_rows(
    lead_set: LeadSet, *, now: datetime.datetime, cycle_from: str | None = None, concurrent: bool = False
) -> dict[str, Any]:
    """The aggregates per group and in total: counts, percentiles, histograms of the won
    cycles and open ages and those vectors themselves (for the Kaplan–Meier median and the
    verdict's tests).

    {"groups": {name: row}, "total": row}; a group whose expression is NULL is named "(none)".

    `concurrent` (the comparison's build, a job): the hours to first contact are counted on a
    second connection, in the same snapshot, while this one counts the histogram and the
    caller works on the rows (the verdict); a row's median hours is waited for when first
    read. Each statement alone leaves part of the two cores idle (its plan's serial start and
    finish, the Python after it): together they take about 0.2 s less at a million leads.
    Inside a transaction (a test, a request) they run one after the other: a second
    connection would not see its rows.
    """
    hours_of = functools.partial(
        _hours_medians, lead_set, group_sql=lead_set.group_sql, group_params=lead_set.group_params
    )
    histogram_of = functools.partial(
        _histogram_rows,
        lead_set,
        now=now,
        cycle_from=cycle_from,
        group_sql=lead_set.group_sql,
        group_params=lead_set.group_params,
    )
    pending = None
    if concurrent and not connection.in_atomic_block:
        pool = ThreadPoolExecutor(max_workers=1)
        try:
            with _shared_snapshot() as (snapshot, timeout):
                imported = threading.Event()
                pending = pool.submit(_in_snapshot, snapshot, timeout, hours_of, imported)
                by_group = histogram_of()
                imported.wait()  # the second connection holds the snapshot: this transaction may end
        finally:
            pool.shutdown(wait=False)
        hours = {}
    else:
        by_group = histogram_of()
        hours = hours_of()

    def finished(name, row: dict) -> _Row:
        row = _with_figures(row)
        if pending is None:
            row["median_hours_to_first_contact"] = hours.get(name)
        else:
            row.hours_later = (pending, name)
        return row

    groups = {("(none)" if name is None else name): finished(name, row) for name, row in by_group.items()}
    return {"groups": groups, "total": finished(_TOTAL, merge_rows(by_group.values()))}


def side_rows(lead_set: LeadSet, *, now: datetime.datetime, cycle_from: str | None = None) -> dict[str, dict]:
    """Per side (lead_set.side_sql): counts and histograms, for the verdict."""
    rows = _histogram_rows(lead_set, now=now, cycle_from=cycle_from, group_sql=lead_set.side_sql, group_params=())
    return {name: _with_figures(row) for name, row in rows.items()}


def sides_from_groups(groups: dict[str, dict], side_of) -> dict[str, dict]:
    """The sides' rows from groups that partition them (`side_of(group)` names its side):
    counts add up and histograms merge, so no second pass over the leads is needed."""
    parts: dict[str, list] = {}
    for name, row in groups.items():
        parts.setdefault(side_of(name), []).append(row)
    return {side: _with_figures(merge_rows(rows)) for side, rows in parts.items()}


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


def histogram_percentile(counts: Mapping[float, int], q: float) -> float | None:
    """percentile_cont over the values a histogram ({value: how many}) stands for: the
    same ranks, the same interpolation as `percentile_cont` on the expanded values."""
    n = sum(counts.values())
    if n <= 0:
        return None
    pos = (n - 1) * q
    low = int(pos)
    high = min(low + 1, n - 1)
    at_low = at_high = None
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if at_low is None and low < seen:
            at_low = value
        if high < seen:
            at_high = value
            break
    return float(at_low + (at_high - at_low) * (pos - low))


def histogram_values(counts: Mapping[float, int], dtype=None) -> list:
    """The values a histogram stands for, ascending (what the verdict's scipy tests take)."""
    if not counts:
        return []
    import numpy as np

    values = sorted(counts)
    return np.repeat(np.array(values, dtype=dtype), [counts[v] for v in values]).tolist()


def histogram_km_median(events: Mapping[float, int], censored: Mapping[float, int]) -> float | None:
    """`km_median` from histograms of the event times and the censoring times: the same
    product-limit estimate, computed over the distinct values only."""
    import numpy as np

    times = np.array(sorted(t for t, n in events.items() if n), dtype=float)
    if not len(times):
        return None
    died = np.array([events[t] for t in sorted(t for t, n in events.items() if n)], dtype=np.int64)
    every = sorted(set(events) | set(censored))
    counts = np.array([events.get(v, 0) + censored.get(v, 0) for v in every], dtype=np.int64)
    # At risk at t: every deal whose time is t or later.
    later = np.cumsum(counts[::-1])[::-1]
    at_risk = later[np.searchsorted(np.array(every, dtype=float), times, side="left")]
    survival = np.cumprod(1.0 - died / at_risk)
    below = np.nonzero(survival <= 0.5 + 1e-12)[0]
    return float(times[below[0]]) if len(below) else None


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
        "km_median_cycle_days": histogram_km_median(_counts(row, "won_cycle"), _counts(row, "open_age")),
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


def _counts(row: dict, name: str) -> dict:
    # A row's histogram of won cycles or open ages ({value: how many}); a row made by
    # hand may give the values instead (`won_cycles`, `open_ages`).
    counts = row.get(f"{name}_counts")
    if counts is not None:
        return counts
    out: dict = {}
    for value in row.get(f"{name}s") or []:
        _add(out, value, 1)
    return out


def side_from_row(label: str, row: dict | None) -> Side:
    if row is None:
        return Side(label, 0, 0, 0)
    won_cycles, open_ages = _counts(row, "won_cycle"), _counts(row, "open_age")
    return Side(
        label,
        row["leads"],
        row["won"],
        row["lost"],
        histogram_values(won_cycles, dtype=float),
        histogram_values(open_ages, dtype=float),
        _num(histogram_percentile(won_cycles, 0.5)),
    )


def side_figures(row: dict, *, cohort: bool) -> dict:
    """A side's figures: counts, rates, the median and Kaplan–Meier median of its won cycles."""
    won, lost = row["won"], row["lost"]
    win, conv = _rate(won, won + lost), _rate(won, row["leads"]) if cohort else None
    cycles, ages = _counts(row, "won_cycle"), _counts(row, "open_age")
    return {
        "leads": row["leads"],
        "won": won,
        "lost": lost,
        "open": row["open"],
        "win_rate": win["rate"],
        "conversion": conv["rate"] if conv else None,
        "median_cycle_days_won": _num(histogram_percentile(cycles, 0.5)),
        "km_median_cycle_days": histogram_km_median(cycles, ages),
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
