"""Benchmark the comparison report: building it over a large history, and reading it.

    python -m bench.reports --leads 1000000 --touches 10000000

What it does, on a database of its own (bench._db):

1. Creates `--teams` teams (each with a region and a manager) and `--reps` reps,
   then generates `--leads` leads with SQL generate_series: marketing-qualified
   leads of three definition versions (short cycles, about 5 touches), rep-sourced
   leads of four channels (long cycles, about 25 touches), recycled MQLs, imported
   history without a version, and a nurture pool that never reached sales; won,
   lost and open outcomes over two years. Then `--touches` touch rows spread
   over the leads that reached sales. Indexes are dropped during the load and
   rebuilt after; ANALYZE before measuring.
2. build_s: one comparison snapshot built by the product's job
   (reports.services.comparison_build): cohort mode over all history, grouped by
   origin, every figure (counts, Wilson intervals, percentiles, Kaplan–Meier,
   the verdict's tests, first-contact compliance). Best of `--repeat` runs.
3. sql_baseline_s, same run: one hand-written SQL aggregate computing the same
   counts (leads, won, lost, open) and medians (cycle of won deals, touches to
   close) per group, straight on psycopg2: the floor the build cannot beat.
   ratio = build_s / sql_baseline_s (target at most 1.5).
4. page_p95_ms: the built report's page read `--requests` times by a marketer
   through Django's test client (the stored snapshot, not the history).

Prints progress to stderr and, as the last stdout line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from bench._db import benchmark_database, lead_defaults, log

REGIONS = ["Central", "East", "West", "North"]
CHANNELS = ["cold_call", "social", "referral", "event"]

# Columns set by the generator's SELECT, in its order.
GENERATED_COLUMNS = (
    "email",
    "company",
    "source",
    "campaign",
    "origin",
    "rep_source_channel",
    "status",
    "owner_id",
    "team_id",
    "created_at",
    "updated_at",
    "promoted_at",
    "assigned_at",
    "first_contact_at",
    "closed_at",
    "deal_value",
    "touch_count",
    "promoted_version",
    "recycled_count",
)


def make_cast(*, teams: int, reps: int) -> tuple[list[int], list[int]]:
    from accounts.models import RepProfile, Role, Team, User

    managers = User.objects.bulk_create(
        [User(username=f"manager{i}", role=Role.MANAGER, email=f"manager{i}@bench.example") for i in range(teams)]
    )
    team_rows = Team.objects.bulk_create(
        [Team(name=f"Team {i}", region=REGIONS[i % len(REGIONS)], manager=managers[i]) for i in range(teams)]
    )
    rep_rows = User.objects.bulk_create(
        [User(username=f"rep{i}", role=Role.REP, email=f"rep{i}@bench.example") for i in range(reps)]
    )
    RepProfile.objects.bulk_create([RepProfile(user=rep, team=team_rows[i % teams]) for i, rep in enumerate(rep_rows)])
    User.objects.create(username="marketer", role=Role.MARKETING, email="marketer@bench.example")
    return [r.pk for r in rep_rows], [team_rows[i % teams].pk for i in range(reps)]


def generate(db, *, leads: int, touches: int, rep_ids: list[int], team_ids: list[int]) -> None:
    from django.db import connection

    from bench.queue import indexes_dropped

    extra_columns, extra_params = lead_defaults(connection, GENERATED_COLUMNS)
    params = {
        "n": leads,
        "reps": rep_ids,
        "teams": team_ids,
        "n_reps": len(rep_ids),
        "channels": CHANNELS,
    }
    # k = g % 20 decides the kind: 0-10 MQL, 11-15 rep-sourced, 16 recycled MQL, 17 imported, 18-19 pool.
    # o = (g / 20) % 20 decides the outcome: 0-7 won, 8-14 lost, 15-19 open.
    select = f"""
        SELECT
            'lead' || g || '@bench.example',
            'Company ' || (g %% 50000),
            (ARRAY['webinar','ebook','paid search','partner'])[1 + g %% 4],
            'Campaign ' || (g %% 30),
            CASE WHEN k BETWEEN 11 AND 15 THEN 'rep_sourced' ELSE 'marketing' END,
            CASE WHEN k BETWEEN 11 AND 15 THEN (%(channels)s::text[])[1 + g %% 4] ELSE '' END,
            CASE
                WHEN k >= 18 OR k = 16 AND o >= 10 THEN 'nurture'
                WHEN o < 8 THEN 'won'
                WHEN o < 15 THEN 'lost'
                ELSE (ARRAY['assigned','working','opportunity','contacted','working'])[1 + o - 15]
            END,
            CASE WHEN k < 18 AND NOT (k = 16 AND o >= 10) THEN (%(reps)s::bigint[])[1 + g %% %(n_reps)s] END,
            CASE WHEN k < 18 AND NOT (k = 16 AND o >= 10) THEN (%(teams)s::bigint[])[1 + g %% %(n_reps)s] END,
            start - make_interval(days => CASE WHEN k BETWEEN 11 AND 15 THEN 0 ELSE 3 END),
            start,
            CASE WHEN k <= 10 OR k = 16 THEN start END,
            CASE WHEN k < 18 AND NOT (k = 16 AND o >= 10) THEN start END,
            CASE WHEN k < 18 AND o <> 15 AND NOT (k = 16 AND o >= 10)
                 THEN start + make_interval(hours => 1 + g %% 30) END,
            CASE WHEN k < 18 AND o < 15 AND NOT (k = 16 AND o >= 10) THEN start + make_interval(days =>
                CASE WHEN k BETWEEN 11 AND 15 THEN 20 + (g * 7) %% 140 ELSE 3 + (g * 7) %% 50 END
                - CASE WHEN g %% 5000 = 0 THEN 400 ELSE 0 END) END,
            CASE WHEN o < 8 AND k < 18 THEN 500 + (g * 13) %% 50000 END,
            CASE WHEN k BETWEEN 11 AND 15 THEN 15 + (g * 3) %% 21 ELSE 2 + (g * 3) %% 7 END,
            CASE WHEN k <= 10 OR k = 16 THEN 1 + g %% 3 END,
            CASE WHEN k = 16 THEN 1 + g %% 2 ELSE 0 END
            {"".join(f", %(extra{i})s" for i in range(len(extra_columns)))}
        FROM generate_series(1, %(n)s) AS g,
             LATERAL (SELECT g %% 20 AS k, (g / 20) %% 20 AS o,
                      now() - make_interval(days => 1 + (g * 11) %% 730, hours => g %% 24) AS start) AS x
    """
    params.update({f"extra{i}": value for i, value in enumerate(extra_params)})
    columns = [*GENERATED_COLUMNS, *extra_columns]
    with db.connection() as conn:
        with conn.cursor() as cur:
            cur.execute("SET session_replication_role = replica")
        with indexes_dropped(conn, ["leads_lead", "leads_touch"]), conn.cursor() as cur:
            started = time.perf_counter()
            cur.execute(f"INSERT INTO leads_lead ({', '.join(columns)}) {select}", params)  # noqa: S608
            conn.commit()
            log(f"inserted {leads:,} leads in {time.perf_counter() - started:.1f}s")
            started = time.perf_counter()
            cur.execute("SELECT min(id), max(id) FROM leads_lead")
            low, high = cur.fetchone()
            cur.execute(
                """
                INSERT INTO leads_touch (lead_id, rep_id, kind, outcome, occurred_at, notes, created_at)
                SELECT %(low)s + (s::bigint * 7919) %% (%(high)s - %(low)s + 1), NULL,
                       (ARRAY['call','email','meeting'])[1 + s %% 3], 'connected',
                       now() - make_interval(hours => s %% 17000), '', now()
                FROM generate_series(1, %(touches)s) AS s
                """,
                {"low": low, "high": high, "touches": touches},
            )
            conn.commit()
            log(f"inserted {touches:,} touches in {time.perf_counter() - started:.1f}s")
        with conn.cursor() as cur:
            cur.execute("SET session_replication_role = DEFAULT")
        conn.commit()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE leads_lead")
            cur.execute("ANALYZE leads_touch")


# The same counts and medians as the report, written by hand: the floor.
BASELINE_SQL = """
SELECT grp, count(*),
       count(*) FILTER (WHERE status = 'won'),
       count(*) FILTER (WHERE status = 'lost'),
       count(*) FILTER (WHERE status IN ('queued','assigned','contacted','working','opportunity')),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY cycle) FILTER (WHERE status = 'won' AND cycle >= 0),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY touch_count) FILTER (WHERE status = 'won'),
       sum(deal_value) FILTER (WHERE status = 'won')
FROM (
    SELECT CASE WHEN origin = 'rep_sourced' THEN 'rep_sourced:' || rep_source_channel
                WHEN recycled_count > 0 THEN 'recycled_mql'
                WHEN promoted_version IS NOT NULL THEN 'mql:v' || promoted_version
                ELSE 'imported' END AS grp,
           status, touch_count, deal_value,
           (closed_at AT TIME ZONE 'UTC')::date
             - ((CASE WHEN origin = 'rep_sourced' THEN created_at ELSE assigned_at END) AT TIME ZONE 'UTC')::date
             AS cycle
    FROM leads_lead WHERE status <> 'nurture' OR recycled_count > 0
) x GROUP BY grp
"""


def measure_baseline(db, repeat: int) -> tuple[float, list]:
    best, rows = float("inf"), []
    with db.connection() as conn, conn.cursor() as cur:
        for _ in range(repeat):
            started = time.perf_counter()
            cur.execute(BASELINE_SQL)
            rows = cur.fetchall()
            best = min(best, time.perf_counter() - started)
    return best, rows


def measure_build(repeat: int) -> tuple[float, object]:
    from django.db import transaction
    from django.utils import timezone

    from reports.models import ComparisonReport
    from reports.selectors import ComparisonParams
    from reports.services import comparison_build

    best, report = float("inf"), None
    for _ in range(repeat):
        with transaction.atomic():
            report = ComparisonReport.objects.create(params=ComparisonParams(cohort=True).as_json())
        started = time.perf_counter()
        report = comparison_build(report_id=report.pk, now=timezone.now())
        best = min(best, time.perf_counter() - started)
        assert report.state == "done", report.error
    return best, report


def measure_page(report, requests: int) -> list[float]:
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the test client's host
    client = Client()
    client.force_login(User.objects.get(username="marketer"))
    url = reverse("reports:report_detail", args=[report.pk])
    first = client.get(url)
    assert first.status_code == 200, (first.status_code, first.content[:300])  # warm-up
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--touches", type=int, default=10_000_000)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    with benchmark_database("reports") as db:
        rep_ids, team_ids = make_cast(teams=args.teams, reps=args.reps)
        generate(db, leads=args.leads, touches=args.touches, rep_ids=rep_ids, team_ids=team_ids)
        # Warm the cache for both sides alike, then measure each `repeat` times (best run).
        measure_baseline(db, 1)
        baseline_s, baseline_rows = measure_baseline(db, args.repeat)
        log(f"hand-written SQL aggregate: {baseline_s:.2f}s")
        build_s, report = measure_build(args.repeat)
        log(f"report build: {build_s:.2f}s")
        # The build and the baseline agree on the counts and medians they share.
        groups = report.data["groups"]
        for grp, n, won, lost, open_, median_cycle, median_touches, _value in baseline_rows:
            g = groups[grp]
            assert (g["leads"], g["won"], g["lost"], g["open"]) == (n, won, lost, open_), grp
            assert g["median_cycle_days_won"] == median_cycle and g["median_touches_won"] == median_touches, grp
        times = measure_page(report, args.requests)
        page_p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
        log(f"page p95 {page_p95:.1f} ms; verdict: {report.data['verdict']['text']}")
        print(
            json.dumps(
                {
                    "leads": args.leads,
                    "touches": args.touches,
                    "groups": len(groups),
                    "build_s": round(build_s, 3),
                    "sql_baseline_s": round(baseline_s, 3),
                    "ratio": round(build_s / baseline_s, 2) if baseline_s else None,
                    "page_p95_ms": round(page_p95, 1),
                    "page_median_ms": round(statistics.median(times), 1),
                }
            )
        )


if __name__ == "__main__":
    main()
