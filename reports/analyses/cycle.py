"""The cycle-length dashboard: how long won deals take, their distribution, its monthly trend by
origin, team and rep, and the time spent in each stage, from the lead history.

Which deals: won in the period (closed_at, UTC days), in the team if one is chosen. The cycle is
the comparison's (leads.figures): calendar days in UTC from the cycle's start (assignment for
marketing leads, creation for rep-sourced ones) to the win; a deal without a start, or won
before it, is counted as a data error and left out of every figure. Medians are percentile_cont
(linear interpolation). The histogram has one bar per week of cycle (0–6 days, 7–13, …), the
last bar open ("N days or more"). Time in stage: each deal's stage entries — assignment (or
creation, for a lead never assigned) and every stage change in its history — in time order; a
stage lasts until the next entry; medians in hours per stage over the deals that passed it.
"""

from __future__ import annotations

import datetime

from django.db import connection

from accounts.models import Team, User
from leads.figures import DEFAULT_CYCLE_START

BIN_DAYS = 7
LAST_BIN = 26  # the open bar: half a year or more
STAGES = ("assigned", "contacted", "working", "opportunity")
ORIGINS = {"mql": "Marketing-qualified", "rep_sourced": "Rep-sourced"}
SIDE_SQL = "CASE WHEN l.origin = 'rep_sourced' THEN 'rep_sourced' ELSE 'mql' END"

# The deals of the period with their cycle. Parameters: start, end, team_id, team_id.
DEALS_SQL = f"""
    SELECT l.id, l.team_id, l.owner_id, {SIDE_SQL} AS origin,
      to_char(l.closed_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month,
      ((l.closed_at AT TIME ZONE 'UTC')::date - (({DEFAULT_CYCLE_START}) AT TIME ZONE 'UTC')::date) AS cycle,
      ({DEFAULT_CYCLE_START}) IS NULL OR l.closed_at < ({DEFAULT_CYCLE_START}) AS bad
    FROM leads_lead l
    WHERE l.status = 'won' AND l.closed_at >= %s AND l.closed_at < %s AND (%s::bigint IS NULL OR l.team_id = %s)
"""  # noqa: S608 - the module's constant fragments; values are parameters

HISTOGRAM_SQL = f"""
    SELECT least(d.cycle / {BIN_DAYS}, {LAST_BIN}) AS bin, count(*) FROM ({DEALS_SQL}) d
    WHERE NOT d.bad GROUP BY 1 ORDER BY 1
"""  # noqa: S608

TREND_SQL = f"""
    SELECT GROUPING(d.origin), GROUPING(d.team_id), GROUPING(d.owner_id), d.month, d.origin, d.team_id, d.owner_id,
      count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY d.cycle)
    FROM ({DEALS_SQL}) d WHERE NOT d.bad
    GROUP BY GROUPING SETS ((d.month), (d.month, d.origin), (d.month, d.team_id), (d.month, d.owner_id))
"""  # noqa: S608

STAGES_SQL = f"""
    WITH d AS ({DEALS_SQL}),
    e AS (
      SELECT l.id, 'assigned' AS stage, coalesce(l.assigned_at, l.created_at) AS at, 0 AS ord
      FROM d JOIN leads_lead l ON l.id = d.id WHERE NOT d.bad
      UNION ALL
      SELECT h.lead_id, h.new_value, h.created_at, h.id FROM leads_leadhistory h JOIN d ON d.id = h.lead_id
      WHERE NOT d.bad AND h.action = 'status_changed'
    ),
    s AS (SELECT stage, at, lead(at) OVER (PARTITION BY id ORDER BY at, ord) AS next_at FROM e)
    SELECT stage, count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM next_at - at) / 3600)
    FROM s WHERE next_at IS NOT NULL AND stage IN ({", ".join(f"'{s}'" for s in STAGES)})
    GROUP BY stage
"""  # noqa: S608

COUNTS_SQL = f"SELECT count(*) FILTER (WHERE NOT d.bad), count(*) FILTER (WHERE d.bad) FROM ({DEALS_SQL}) d"  # noqa: S608


def _bounds(since: datetime.date, until: datetime.date) -> list:
    start = datetime.datetime.combine(since, datetime.time(), tzinfo=datetime.UTC)
    end = datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time(), tzinfo=datetime.UTC)
    return [start, end]


def bin_label(b: int) -> str:
    low = b * BIN_DAYS
    return f"{low} days or more" if b == LAST_BIN else f"{low}–{low + BIN_DAYS - 1} days"


def _num(value) -> float | None:
    return None if value is None else round(float(value), 3)


def cycle_compute(*, since: datetime.date, until: datetime.date, team_id: int | None, now: datetime.datetime) -> dict:
    """Every figure of the cycle-length dashboard, as stored in an Analysis snapshot's `data`."""
    params = [*_bounds(since, until), team_id, team_id]
    with connection.cursor() as cursor:
        cursor.execute(COUNTS_SQL, params)
        deals, bad = cursor.fetchone()
        cursor.execute(HISTOGRAM_SQL, params)
        histogram = [{"bin": b, "label": bin_label(b), "deals": n} for b, n in cursor.fetchall()]
        cursor.execute(TREND_SQL, params)
        trend_rows = cursor.fetchall()
        cursor.execute(STAGES_SQL, params)
        stages = {s: {"deals": n, "median_hours": _num(m)} for s, n, m in cursor.fetchall()}
    trend: dict[str, dict[str, dict]] = {"all": {}, "origin": {}, "team": {}, "rep": {}}
    team_ids, rep_ids = set(), set()
    for g_origin, g_team, g_rep, month, origin, t, rep, n, median in trend_rows:
        cell = {"deals": n, "median_days": _num(median)}
        if g_origin and g_team and g_rep:
            trend["all"].setdefault("all", {})[month] = cell
        elif not g_origin:
            trend["origin"].setdefault(origin, {})[month] = cell
        elif not g_team:
            trend["team"].setdefault(str(t), {})[month] = cell
            team_ids.add(t)
        else:
            trend["rep"].setdefault(str(rep), {})[month] = cell
            rep_ids.add(rep)
    teams = {str(t.pk): t.name for t in Team.objects.filter(pk__in=team_ids)}
    reps = {str(u.pk): u.get_full_name() or u.username for u in User.objects.filter(pk__in=rep_ids)}
    labels = {
        "all": {"all": "All won deals"},
        "origin": ORIGINS,
        "team": teams | {"None": "(no team)"},
        "rep": reps | {"None": "(unassigned)"},
    }
    months = sorted({m for groups in trend.values() for cells in groups.values() for m in cells})
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "team_id": team_id,
        "as_of": now.isoformat(),
        "deals": deals,
        "data_errors": bad,
        "histogram": histogram,
        "months": months,
        "trend": {
            by: {key: {"label": labels[by].get(key, key), "months": cells} for key, cells in sorted(groups.items())}
            for by, groups in trend.items()
        },
        "stages": {s: stages.get(s, {"deals": 0, "median_hours": None}) for s in STAGES},
    }


def cycle_lead_ids_sql(
    *,
    since: datetime.date,
    until: datetime.date,
    team_id: int | None,
    bin: int | None = None,
    month: str | None = None,
    by: str | None = None,
    key: str | None = None,
) -> tuple[str, list]:
    """SQL for the drill-down from a bar: a histogram bin, or a month of one trend line."""
    sql = f"SELECT d.id FROM ({DEALS_SQL}) d WHERE NOT d.bad"  # noqa: S608
    params = [*_bounds(since, until), team_id, team_id]
    if bin is not None:
        sql += f" AND least(d.cycle / {BIN_DAYS}, {LAST_BIN}) = %s"
        params.append(bin)
    if month:
        sql += " AND d.month = %s"
        params.append(month)
    column = {"origin": "d.origin", "team": "d.team_id::text", "rep": "d.owner_id::text"}.get(by or "")
    if column and key is not None:
        sql += f" AND {column} = %s"
        params.append(key)
    return sql, params
