"""Benchmark the cherry-pick index: building a snapshot over a large assignment history.

    python -m bench.cherry_pick --clocks 300000 --reps 200

On a database of its own (bench._db): `--reps` reps on `--teams` teams, `--clocks` marketing
leads each assigned once (a first-contact clock over the last year) with every outcome (met,
late, never, rejected with a reason) and their first touches, and `--prospects` rep-sourced
leads with a touch. Then:

1. build_s: one snapshot built by the product's job (reports.analyses.services.analysis_build),
   everyone, the last 90 days: outcomes, SLA compliance, Kendall pairs, sourced-while-waiting,
   weekly trend. Best of `--repeat` runs.
2. sql_baseline_s, same run: hand-written SQL computing the outcome counts and the discordant
   pairs per rep straight from the clock, touch and history tables on psycopg2 (the floor).
   ratio = build_s / sql_baseline_s. The two must agree on every count they share.

Prints progress to stderr and, as the last stdout line, one JSON object.
"""

from __future__ import annotations

import argparse
import datetime
import json
import time

from bench._db import benchmark_database, lead_defaults, log
from bench.reports import make_cast

GENERATED = ("email", "origin", "status", "owner_id", "team_id", "created_at", "updated_at", "assigned_at")

# The floor: outcomes per rep (met, late, rejected, never) and discordant pairs, by hand.
BASELINE_SQL = """
WITH c AS (
  SELECT c.rep_id, c.started_at, c.outcome, c.contacted_at,
    (SELECT min(t.occurred_at) FROM leads_touch t WHERE t.lead_id = c.lead_id AND t.rep_id = c.rep_id) AS touched,
    (SELECT min(h.created_at) FROM leads_leadhistory h
      WHERE h.lead_id = c.lead_id AND h.action = 'rejected' AND h.actor_id = c.rep_id) AS rejected
  FROM leads_firstcontactclock c WHERE c.started_at >= %(start)s AND c.started_at < %(end)s
), o AS (
  SELECT rep_id, started_at, coalesce(least(touched, rejected), 'infinity') AS handled FROM c
)
SELECT k.rep_id, k.met, k.late, k.rejected, k.never, coalesce(p.discordant, 0) FROM (
  SELECT rep_id, count(*) FILTER (WHERE outcome = 'met') AS met,
    count(*) FILTER (WHERE outcome <> 'met' AND contacted_at IS NOT NULL) AS late,
    count(*) FILTER (WHERE contacted_at IS NULL AND rejected IS NOT NULL) AS rejected,
    count(*) FILTER (WHERE contacted_at IS NULL AND rejected IS NULL AND outcome <> 'met') AS never
  FROM c GROUP BY rep_id
) k LEFT JOIN (
  SELECT a.rep_id, count(*) AS discordant FROM o a JOIN o b ON b.rep_id = a.rep_id AND b.started_at > a.started_at
  WHERE a.handled > b.handled GROUP BY a.rep_id
) p ON p.rep_id = k.rep_id
"""


def generate(db, *, clocks: int, prospects: int, rep_ids: list[int], team_ids: list[int]) -> None:
    from django.db import connection

    extra_columns, extra_params = lead_defaults(connection, GENERATED)
    columns = [*GENERATED, *extra_columns]
    extras = "".join(f", %(extra{i})s" for i in range(len(extra_columns)))
    params = {"reps": rep_ids, "teams": team_ids, "n_reps": len(rep_ids), "n": clocks, "p": prospects}
    params |= {f"extra{i}": value for i, value in enumerate(extra_params)}
    with db.connection() as conn, conn.cursor() as cur:
        started = time.perf_counter()
        # Marketing leads, each assigned once; k = g % 10 decides the outcome:
        # 0-5 met, 6-7 late, 8 rejected, 9 never contacted.
        cur.execute(
            f"""
            INSERT INTO leads_lead ({", ".join(columns)})
            SELECT 'lead' || g || '@bench.example', 'marketing', 'assigned',
              (%(reps)s::bigint[])[1 + g %% %(n_reps)s], (%(teams)s::bigint[])[1 + g %% %(n_reps)s],
              s, s, s {extras}
            FROM generate_series(1, %(n)s) g,
              LATERAL (SELECT now() - make_interval(mins => ((g * 37) %% 525600)::int) AS s) x
            """,  # noqa: S608 - the generator's own columns
            params,
        )
        cur.execute(
            """
            INSERT INTO leads_firstcontactclock (lead_id, rep_id, team_id, business_time, stop_on, window_minutes,
              reassign_on_breach, max_reassignments, reassignment, started_at, due_at, warn_at, warnings_sent,
              next_action, outcome, contacted_at, ended_at)
            SELECT l.id, l.owner_id, l.team_id, false, 'attempt', 1440, false, 0, 0, l.assigned_at,
              l.assigned_at + interval '1 day', '{}', 0, '',
              CASE WHEN k < 6 THEN 'met' WHEN k < 8 OR k = 9 THEN 'breached' ELSE 'closed' END,
              CASE WHEN k < 6 THEN l.assigned_at + make_interval(hours => (1 + l.id % 20)::int)
                   WHEN k < 8 THEN l.assigned_at + make_interval(hours => (30 + l.id % 90)::int) END,
              CASE WHEN k < 6 THEN l.assigned_at + make_interval(hours => (1 + l.id % 20)::int)
                   WHEN k < 8 THEN l.assigned_at + make_interval(hours => (30 + l.id % 90)::int)
                   WHEN k = 8 THEN l.assigned_at + make_interval(hours => (2 + l.id % 40)::int) END
            FROM leads_lead l, LATERAL (SELECT (l.id * 7) % 10 AS k) x WHERE l.origin = 'marketing'
            """
        )
        cur.execute(
            """
            INSERT INTO leads_touch (lead_id, rep_id, kind, outcome, occurred_at, notes, created_at)
            SELECT lead_id, rep_id, 'call', 'connected', contacted_at, '', now()
            FROM leads_firstcontactclock WHERE contacted_at IS NOT NULL
            """
        )
        cur.execute(
            """
            INSERT INTO leads_leadhistory (lead_id, actor_id, action, field, old_value, new_value, note, data,
              created_at)
            SELECT lead_id, rep_id, 'rejected', 'status', 'assigned', 'nurture', '',
              jsonb_build_object('reason', (ARRAY['not_a_fit','too_early','no_budget'])[1 + lead_id % 3]), ended_at
            FROM leads_firstcontactclock WHERE outcome = 'closed'
            """
        )
        cur.execute(
            f"""
            INSERT INTO leads_lead ({", ".join(columns)})
            SELECT 'prospect' || g || '@bench.example', 'rep_sourced', 'contacted',
              (%(reps)s::bigint[])[1 + g %% %(n_reps)s], (%(teams)s::bigint[])[1 + g %% %(n_reps)s],
              s, s, s {extras}
            FROM generate_series(1, %(p)s) g,
              LATERAL (SELECT now() - make_interval(mins => ((g * 53) %% 525600)::int) AS s) x
            """,  # noqa: S608
            params,
        )
        cur.execute(
            """
            INSERT INTO leads_touch (lead_id, rep_id, kind, outcome, occurred_at, notes, created_at)
            SELECT id, owner_id, 'call', 'no_answer', created_at + interval '10 minutes', '', now()
            FROM leads_lead WHERE origin = 'rep_sourced'
            """
        )
        conn.commit()
        log(f"generated {clocks:,} assignments and {prospects:,} prospects in {time.perf_counter() - started:.1f}s")
        conn.autocommit = True
        for table in ("leads_lead", "leads_firstcontactclock", "leads_touch", "leads_leadhistory"):
            cur.execute(f"VACUUM ANALYZE {table}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clocks", type=int, default=300_000)
    parser.add_argument("--prospects", type=int, default=60_000)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with benchmark_database("cherry_pick") as db:
        from django.utils import timezone

        from reports.analyses.services import analysis_build, analysis_request
        from reports.models import Analysis

        rep_ids, team_ids = make_cast(teams=args.teams, reps=args.reps)
        generate(db, clocks=args.clocks, prospects=args.prospects, rep_ids=rep_ids, team_ids=team_ids)
        now = timezone.now()
        until = now.date()
        since = until - datetime.timedelta(days=89)
        start = datetime.datetime.combine(since, datetime.time(), tzinfo=datetime.UTC)
        end = datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time(), tzinfo=datetime.UTC)
        baseline_s, rows = float("inf"), []
        with db.connection() as conn, conn.cursor() as cur:
            for _ in range(args.repeat + 1):  # the first warms the cache
                started = time.perf_counter()
                cur.execute(BASELINE_SQL, {"start": start, "end": end})
                rows = cur.fetchall()
                baseline_s = min(baseline_s, time.perf_counter() - started)
        log(f"hand-written SQL: {baseline_s:.2f}s")
        build_s, analysis = float("inf"), None
        for _ in range(args.repeat):
            analysis = analysis_request(
                kind=Analysis.Kind.CHERRY_PICK, since=since, until=until, team_id=None, actor=None
            )
            started = time.perf_counter()
            analysis = analysis_build(analysis_id=analysis.pk, now=now)
            build_s = min(build_s, time.perf_counter() - started)
            assert analysis.state == "done", analysis.error
        log(f"snapshot build: {build_s:.2f}s")
        by_rep = {r["rep_id"]: r for r in analysis.data["reps"]}
        for rep_id, met, late, rejected, never, discordant in rows:
            r = by_rep[rep_id]
            assert (r["on_time"], r["late"], r["rejected"], r["never"] + r["waiting"], r["discordant"]) == (
                met,
                late,
                rejected,
                never,
                discordant,
            ), rep_id
        print(
            json.dumps(
                {
                    "clocks": args.clocks,
                    "prospects": args.prospects,
                    "reps": args.reps,
                    "period_assignments": analysis.data["total"]["assigned"],
                    "pairs": analysis.data["total"]["pairs"],
                    "build_s": round(build_s, 3),
                    "sql_baseline_s": round(baseline_s, 3),
                    "ratio": round(build_s / baseline_s, 2),
                }
            )
        )


if __name__ == "__main__":
    main()
