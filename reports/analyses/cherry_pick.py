"""The cherry-pick index per rep: which marketing-qualified leads each rep skipped or worked out of order.

Every assignment of an MQL to a rep starts a first-contact clock (leads.FirstContactClock),
so the rep's MQLs of a period are the clocks that *started* in it. Each clock gets one
outcome, in this order (README, "The cherry-pick index"):

- on_time: the clock was met (first contact the policy counts, by the deadline);
- late: contacted after the deadline (the clock breached, then a counted touch);
- rejected: the rep sent it back to marketing before contacting it (by reason);
- reassigned: taken away from the rep untouched (a later clock of the lead has another rep);
- waiting: still open and not due yet (neither skipped nor on time, yet);
- never: none of these, the lead went uncontacted: skipped.

The SLA share is the SLA's own figure (leads.clock.selectors.compliance_by over the
same clocks). Out of order is the normalised Kendall-tau distance between the order
the rep's MQLs were assigned and the order they were first handled (the rep's first
touch, or the rejection): of the pairs assigned one after the other, the share handled
the other way round; a lead never handled counts as handled at the end of time, so a
skipped lead behind which later leads were touched makes every such pair discordant.
Reassigned and waiting leads are left out of the ordering (the rep had no say, or no
chance yet). A pair is charged to the week of its earlier assignment, so the weeks add
up to the period. Sourced while waiting: first touches on the rep's own (rep-sourced)
prospects while an earlier MQL assigned to them waited unhandled.
"""

from __future__ import annotations

import datetime
import json

from django.db import connection

from accounts.models import User
from leads.clock.selectors import compliance_by
from leads.models import FirstContactClock

OUTCOMES = ("on_time", "late", "rejected", "reassigned", "waiting", "never")

# Each clock of the period with its first handling by its rep and its outcome. Parameters:
# now, start, end, team_id, team_id.
CLOCKS_SQL = """
    SELECT c.id, c.lead_id, c.rep_id, c.team_id, c.started_at,
      date_trunc('week', c.started_at AT TIME ZONE 'UTC')::date AS week,
      ft.at AS first_touch_at, rj.at AS rejected_at, rj.reason,
      CASE
        WHEN c.outcome = 'met' THEN 'on_time'
        WHEN c.contacted_at IS NOT NULL THEN 'late'
        WHEN rj.at IS NOT NULL THEN 'rejected'
        WHEN c.outcome = 'reassigned' OR EXISTS (
          SELECT 1 FROM leads_firstcontactclock c2
          WHERE c2.lead_id = c.lead_id AND c2.started_at > c.started_at AND c2.rep_id <> c.rep_id
        ) THEN 'reassigned'
        WHEN c.ended_at IS NULL AND c.due_at > %s THEN 'waiting'
        ELSE 'never'
      END AS outcome
    FROM leads_firstcontactclock c
    LEFT JOIN LATERAL (
      SELECT min(t.occurred_at) AS at FROM leads_touch t
      WHERE t.lead_id = c.lead_id AND t.rep_id = c.rep_id AND t.occurred_at >= c.started_at
        AND (c.ended_at IS NULL OR t.occurred_at <= c.ended_at)
    ) ft ON true
    LEFT JOIN LATERAL (
      SELECT h.created_at AS at, h.data->>'reason' AS reason FROM leads_leadhistory h
      WHERE h.lead_id = c.lead_id AND h.action = 'rejected' AND h.actor_id = c.rep_id
        AND h.created_at >= c.started_at AND (c.ended_at IS NULL OR h.created_at <= c.ended_at)
      ORDER BY h.created_at LIMIT 1
    ) rj ON true
    WHERE c.started_at >= %s AND c.started_at < %s AND (%s::bigint IS NULL OR c.team_id = %s)
"""

# Per rep and week: counts per outcome, rejections per reason, and the Kendall pairs.
INDEX_SQL = f"""
    WITH c AS ({CLOCKS_SQL}),
    o AS (  -- the ordered ones: handled at the first touch or rejection, never = infinity
      SELECT rep_id, week, started_at, coalesce(least(first_touch_at, rejected_at), 'infinity') AS handled
      FROM c WHERE outcome IN ('on_time', 'late', 'rejected', 'never')
    ),
    pairs AS (
      SELECT a.rep_id, a.week, count(*) AS pairs, count(*) FILTER (WHERE a.handled > b.handled) AS discordant
      FROM o a JOIN o b ON b.rep_id = a.rep_id AND b.started_at > a.started_at
      GROUP BY a.rep_id, a.week
    ),
    counts AS (
      SELECT rep_id, week, count(*) AS assigned,
        {", ".join(f"count(*) FILTER (WHERE outcome = '{o}') AS {o}" for o in OUTCOMES)}
      FROM c GROUP BY rep_id, week
    ),
    reasons AS (
      SELECT rep_id, week, jsonb_object_agg(reason, n) AS by_reason FROM (
        SELECT rep_id, week, coalesce(nullif(reason, ''), 'other') AS reason, count(*) AS n
        FROM c WHERE outcome = 'rejected' GROUP BY 1, 2, 3
      ) r GROUP BY rep_id, week
    )
    SELECT k.rep_id, k.week, k.assigned, {", ".join(f"k.{o}" for o in OUTCOMES)},
      coalesce(p.pairs, 0), coalesce(p.discordant, 0), coalesce(r.by_reason, '{{}}'::jsonb)
    FROM counts k
    LEFT JOIN pairs p ON p.rep_id = k.rep_id AND p.week = k.week
    LEFT JOIN reasons r ON r.rep_id = k.rep_id AND r.week = k.week
"""  # noqa: S608 - the module's constant fragments; values are parameters

# Rep-sourced prospects: created in the period (and how many while not free to cold-call), and
# first touches on them in the period while an earlier MQL of the same rep waited unhandled. A
# clock waits from its start until the first of its end, its rep's first touch on it and its
# rep's rejection (`h`). Whether any clock waited at a prospect's first touch T is a sweep per
# rep over one ordered stream of events: a running count of waits begun before T (+1) and ended
# by T (-1), read at T (ends sort before a probe at the same moment, starts after it). One pass,
# where a per-prospect search over the rep's clocks took 40 s at 100,000 clocks (bench.cherry_pick).
# Parameters: team_id, team_id, end, end, start, end, start, end, start, end.
SOURCED_SQL = """
    WITH p AS (
      SELECT l.id, l.owner_id AS rep_id, l.created_at, l.created_while_not_free,
        (SELECT min(t.occurred_at) FROM leads_touch t
         WHERE t.lead_id = l.id AND t.rep_id = l.owner_id) AS first_touch_at
      FROM leads_lead l
      WHERE l.origin = 'rep_sourced' AND l.owner_id IS NOT NULL
        AND (%s::bigint IS NULL OR l.team_id = %s) AND l.created_at < %s
    ),
    h AS (
      SELECT c.rep_id, c.started_at, least(
        coalesce(c.ended_at, 'infinity'),
        coalesce((SELECT min(t.occurred_at) FROM leads_touch t
                  WHERE t.lead_id = c.lead_id AND t.rep_id = c.rep_id AND t.occurred_at >= c.started_at), 'infinity'),
        coalesce((SELECT min(r.created_at) FROM leads_leadhistory r
                  WHERE r.lead_id = c.lead_id AND r.action = 'rejected' AND r.actor_id = c.rep_id
                    AND r.created_at >= c.started_at), 'infinity')
      ) AS waited_until
      FROM leads_firstcontactclock c
      WHERE c.started_at < %s AND c.rep_id IN (SELECT DISTINCT rep_id FROM p)
    ),
    ev AS (
      SELECT rep_id, started_at AS at, 2 AS rank, 1 AS delta, NULL::bigint AS prospect FROM h
      UNION ALL
      SELECT rep_id, waited_until, 0, -1, NULL FROM h WHERE waited_until < 'infinity'
      UNION ALL
      SELECT rep_id, first_touch_at, 1, 0, id FROM p WHERE first_touch_at >= %s AND first_touch_at < %s
    ),
    w AS (
      SELECT prospect, sum(delta) OVER (PARTITION BY rep_id ORDER BY at, rank ROWS UNBOUNDED PRECEDING) AS waiting
      FROM ev
    )
    SELECT p.rep_id,
      count(*) FILTER (WHERE p.created_at >= %s AND p.created_at < %s) AS sourced,
      count(*) FILTER (WHERE p.created_at >= %s AND p.created_at < %s AND p.created_while_not_free) AS not_free,
      count(*) FILTER (WHERE w.waiting > 0) AS while_waiting
    FROM p LEFT JOIN w ON w.prospect = p.id
    GROUP BY p.rep_id
"""


def _json(value) -> dict:
    # Django's PostgreSQL backend hands jsonb to a raw cursor as text.
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def _day(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


def _period(since: datetime.date, until: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    return _day(since), _day(until + datetime.timedelta(days=1))


def _empty() -> dict:
    return {"assigned": 0, **dict.fromkeys(OUTCOMES, 0), "pairs": 0, "discordant": 0, "rejected_by_reason": {}}


def _add(into: dict, cell: dict) -> None:
    for key in ("assigned", *OUTCOMES, "pairs", "discordant"):
        into[key] += cell[key]
    for reason, n in cell["rejected_by_reason"].items():
        into["rejected_by_reason"][reason] = into["rejected_by_reason"].get(reason, 0) + n


def _shares(row: dict) -> dict:
    """Shares of the assigned MQLs per outcome, and the out-of-order share of pairs."""
    n = row["assigned"]
    out = {f"{o}_share": (row[o] / n if n else None) for o in OUTCOMES}
    out["out_of_order"] = row["discordant"] / row["pairs"] if row["pairs"] else None
    return row | out


def cherry_pick_compute(
    *, since: datetime.date, until: datetime.date, team_id: int | None, now: datetime.datetime
) -> dict:
    """Every figure of the cherry-pick index, as stored in an Analysis snapshot's `data`."""
    start, end = _period(since, until)
    with connection.cursor() as cursor:
        cursor.execute(INDEX_SQL, [now, start, end, team_id, team_id])
        cells = cursor.fetchall()
        cursor.execute(SOURCED_SQL, [team_id, team_id, end, end, start, end, start, end, start, end])
        sourced = {row[0]: row[1:] for row in cursor.fetchall()}
    clocks = FirstContactClock.objects.filter(started_at__gte=start, started_at__lt=end)
    if team_id is not None:
        clocks = clocks.filter(team_id=team_id)
    sla = compliance_by(clocks=clocks, now=now, key="rep_id")

    reps: dict[int, dict] = {}
    weeks: dict[str, dict] = {}
    rep_weeks: dict[int, dict[str, dict]] = {}
    for rep_id, week, assigned, *rest in cells:
        outcomes, (pairs, discordant, by_reason) = rest[: len(OUTCOMES)], rest[len(OUTCOMES) :]
        cell = {"assigned": assigned, **dict(zip(OUTCOMES, outcomes, strict=True))}
        cell |= {"pairs": pairs, "discordant": discordant, "rejected_by_reason": _json(by_reason)}
        for into in (
            reps.setdefault(rep_id, _empty()),
            weeks.setdefault(week.isoformat(), _empty()),
            rep_weeks.setdefault(rep_id, {}).setdefault(week.isoformat(), _empty()),
        ):
            _add(into, cell)
    rep_ids = set(reps) | set(sourced)
    names = {u.pk: (u.username, u.get_full_name() or u.username) for u in User.objects.filter(pk__in=rep_ids)}
    total = _empty() | {"sourced": 0, "sourced_not_free": 0, "sourced_while_waiting": 0, "sla_met": 0}
    total["sla_came_due"] = 0
    rows = []
    for rep_id in rep_ids:
        row = reps.get(rep_id) or _empty()
        s = sourced.get(rep_id) or (0, 0, 0)
        c = sla.get(rep_id)
        row |= {"sourced": s[0], "sourced_not_free": s[1], "sourced_while_waiting": s[2]}
        row |= {"sla_met": c.met if c else 0, "sla_came_due": c.came_due if c else 0}
        _add(total, row)
        for key in ("sourced", "sourced_not_free", "sourced_while_waiting", "sla_met", "sla_came_due"):
            total[key] += row[key]
        row = _shares(row) | {"sla_compliance": c.rate if c else None}
        username, name = names.get(rep_id, (str(rep_id), str(rep_id)))
        trend = {w: _shares(cell) for w, cell in sorted((rep_weeks.get(rep_id) or {}).items())}
        rows.append({"rep_id": rep_id, "username": username, "name": name, **row, "weeks": trend})
    # The index: the most out of order first, then the most skipped.
    rows.sort(key=lambda r: (-(r["out_of_order"] or 0), -(r["never_share"] or 0), r["username"]))
    total = _shares(total)
    total["sla_compliance"] = total["sla_met"] / total["sla_came_due"] if total["sla_came_due"] else None
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "team_id": team_id,
        "as_of": now.isoformat(),
        "reps": rows,
        "total": total,
        "weeks": {w: _shares(cell) for w, cell in sorted(weeks.items())},
    }


def cherry_pick_lead_ids_sql(
    *, since: datetime.date, until: datetime.date, team_id: int | None, rep_id: int, outcome: str, now
) -> tuple[str, list]:
    """SQL for the drill-down: the ids of the rep's MQLs of the period with this outcome."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
    start, end = _period(since, until)
    sql = f"SELECT c.lead_id FROM ({CLOCKS_SQL}) c WHERE c.rep_id = %s AND c.outcome = %s"  # noqa: S608
    return sql, [now, start, end, team_id, team_id, rep_id, outcome]
