"""First-contact sweep benchmark: its cost follows the due clocks, not the open ones.

    python -m bench.sla --open 1000000

In its own PostgreSQL database (bench._db), with leads and clocks generated in
SQL (generate_series), it measures:

  sweep_ms_10k, sweep_ms_1m   one sweep (sla.sweep.services.sla_sweep) with the
                              same 100 clocks due (a breach each) among 10,000 and
                              among `--open` open clocks; median of `--repeat` runs,
                              the 100 reset before each
  sweep_ratio                 sweep_ms_1m / sweep_ms_10k (target at most 1.5)
  transitions_per_s           one sweep with `--transitions` clocks due at once:
                              breaches per second, all its writes included (clock,
                              event, history, notifications for the rep and the manager)
  sql_baseline_per_s          the same transitions by one hand-written statement
                              (UPDATE ... RETURNING feeding the event, history and
                              notification inserts), same run, same rows reset
  baseline_ratio              sql_baseline_per_s / transitions_per_s (target at most 2)
  breach_lag_p99_s            deadline to breach row, through a real celery beat
                              (`--beat-seconds`, 60 as in production) and a real
                              worker on Redis: `--lag-samples` deadlines spread over
                              two beat periods, each breach row seen by polling

    python -m bench.sla --open 20000 --transitions 5000 --beat-seconds 5   # a quick check

Progress goes to stderr; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._db import benchmark_database, log

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime.datetime.now(tz=datetime.UTC).replace(microsecond=0)
REPS = 20
DUE = 100
MINUTE = datetime.timedelta(minutes=1)


def _timed(label: str, fn):
    started = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - started
    log(f"{label}: {elapsed:.3f}s")
    return result, elapsed


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


# --- Data ---------------------------------------------------------------------------


def create_people():
    """One team (its manager, REPS reps with room for every lead) and an admin: ORM, small."""
    from accounts.models import RepProfile, Role, Team, User

    manager = User.objects.create(username="manager", role=Role.MANAGER)
    User.objects.create(username="admin", role=Role.ADMIN)
    team = Team.objects.create(name="Bench", manager=manager, is_fallback=True)
    reps = User.objects.bulk_create([User(username=f"rep{i}", role=Role.REP) for i in range(REPS)])
    RepProfile.objects.bulk_create([RepProfile(user=rep, team=team, capacity=10_000_000) for rep in reps])
    return team, [rep.pk for rep in reps]


def _defaults(model, skip: set[str]) -> tuple[list[str], list]:
    """Columns of `model` the generator does not set, with their model defaults (robust to new fields)."""
    from django.db import connection

    columns, params = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.column in skip:
            continue
        columns.append(f.column)
        params.append(f.get_db_prep_save(f.get_default(), connection) if f.has_default() or not f.null else None)
    return columns, params


# The open clocks' state: 24-hour windows, warnings at 50% and 90%, escalation 4 h after the
# deadline; next step 1 to 23 hours ahead (nothing due). `a` is the lead's age in hours.
CLOCK_COLUMNS = {
    "lead_id": "l.id",
    "rep_id": "l.owner_id",
    "team_id": "l.team_id",
    "policy_id": "NULL",
    "business_time": "false",
    "holiday_country": "''",
    "holiday_subdivision": "''",
    "stop_on": "'attempt'",
    "window_minutes": "1440",
    "reassign_on_breach": "false",
    "max_reassignments": "2",
    "reassignment": "0",
    "started_at": "l.assigned_at",
    "due_at": "l.assigned_at + interval '24 hours'",
    "warn_at": "ARRAY[l.assigned_at + interval '12 hours', l.assigned_at + interval '21.6 hours']",
    "warnings_sent": "0",
    "escalate_at": "l.assigned_at + interval '28 hours'",
    "next_action": "'warning'",
    "next_action_at": "l.assigned_at + interval '12 hours'",
    "outcome": "''",
    "contacted_at": "NULL",
    "seconds_to_contact": "NULL",
    "business_seconds_to_contact": "NULL",
    "breached_at": "NULL",
    "escalated_at": "NULL",
    "ended_at": "NULL",
}


def add_open_clocks(cursor, *, n: int, team_id: int, rep_ids: list[int]) -> None:
    """`n` assigned leads, each with its open clock, none due: two INSERT ... SELECT."""
    from leads.models import FirstContactClock, Lead

    clock_fields = {f.column for f in FirstContactClock._meta.concrete_fields if not f.primary_key}
    assert clock_fields == set(CLOCK_COLUMNS), clock_fields ^ set(CLOCK_COLUMNS)
    set_here = {"email", "first_name", "last_name", "company", "status", "owner_id", "team_id", "created_at"}
    set_here |= {"updated_at", "promoted_at", "assigned_at", "sla_due_at", "last_activity_at"}
    columns, params = _defaults(Lead, set_here)
    cursor.execute("SELECT coalesce(max(id), 0) FROM leads_lead")
    first = cursor.fetchone()[0] + 1
    cursor.execute(
        _lead_insert_sql(columns),
        {"reps": rep_ids, "n_reps": len(rep_ids), "team": team_id, "first": first, "last": first + n - 1,
         "now": NOW, **{f"d{i}": p for i, p in enumerate(params)}},
    )  # fmt: skip
    cursor.execute(
        f"INSERT INTO leads_firstcontactclock ({', '.join(CLOCK_COLUMNS)})"
        f" SELECT {', '.join(CLOCK_COLUMNS.values())} FROM leads_lead l WHERE l.id >= %s",
        [first],
    )


def _lead_insert_sql(columns: list[str]) -> str:
    """Leads assigned 1 to 11 hours ago (the first warning, at 12 h, is 1 to 11 hours ahead)."""
    defaults = ", ".join(f"%(d{i})s" for i in range(len(columns)))
    return f"""
        INSERT INTO leads_lead (email, first_name, last_name, company, status, owner_id, team_id, created_at,
          updated_at, promoted_at, assigned_at, sla_due_at, last_activity_at, {", ".join(columns)})
        SELECT 'lead' || g || '@bench.example', 'Lead', g::text, 'Company ' || (g %% 5000), 'assigned',
          (%(reps)s::bigint[])[1 + g %% %(n_reps)s], %(team)s, a - interval '3 days', a, a, a,
          a + interval '24 hours', a, {defaults}
        FROM generate_series(%(first)s, %(last)s) AS g,
          LATERAL (SELECT %(now)s::timestamptz - (1 + random() * 10 + 0 * g) * interval '1 hour' AS a) t
    """  # noqa: S608 - fixed text and model column names


def make_due(cursor, *, clock_ids_sql: str, params: list) -> int:
    """Put these clocks (and their leads) back to "the deadline passed a minute ago, warnings sent":
    one breach each is due. Their earlier events, notifications and history go."""
    cursor.execute(f"CREATE TEMP TABLE due_ids AS {clock_ids_sql}", params)  # noqa: S608 - fixed text
    cursor.execute("SELECT count(*) FROM due_ids")
    n = cursor.fetchone()[0]
    cursor.execute(
        "DELETE FROM sla_notification n USING sla_clockevent e, due_ids d WHERE n.event_id = e.id AND e.clock_id = d.id"
    )
    cursor.execute("DELETE FROM sla_clockevent e USING due_ids d WHERE e.clock_id = d.id")
    cursor.execute(
        "DELETE FROM leads_leadhistory h USING leads_firstcontactclock c, due_ids d"
        " WHERE c.id = d.id AND h.lead_id = c.lead_id AND h.action LIKE 'sla_%%'"
    )
    cursor.execute(
        """
        UPDATE leads_firstcontactclock c SET started_at = %(now)s - interval '1441 minutes',
          due_at = %(now)s - interval '1 minute', warn_at = ARRAY[%(now)s - interval '721 minutes'],
          warnings_sent = 1, escalate_at = %(now)s + interval '4 hours', outcome = '', breached_at = NULL,
          escalated_at = NULL, ended_at = NULL, next_action = 'breach', next_action_at = %(now)s - interval '1 minute'
        FROM due_ids d WHERE c.id = d.id
        """,
        {"now": NOW},
    )
    cursor.execute("DROP TABLE due_ids")
    return n


BASELINE_SQL = """
WITH due AS (
  UPDATE leads_firstcontactclock c SET outcome = 'breached', breached_at = c.due_at,
    next_action = CASE WHEN c.escalate_at IS NULL THEN '' ELSE 'escalation' END, next_action_at = c.escalate_at
  WHERE c.next_action_at <= %(now)s AND c.ended_at IS NULL AND c.next_action = 'breach'
  RETURNING c.id, c.lead_id, c.rep_id, c.team_id, c.due_at
), ev AS (
  INSERT INTO sla_clockevent (clock_id, lead_id, rep_id, kind, seq, due_at, created_at)
  SELECT id, lead_id, rep_id, 'breach', 1, due_at, %(now)s FROM due
  ON CONFLICT DO NOTHING RETURNING id, lead_id, rep_id, clock_id
), hist AS (
  INSERT INTO leads_leadhistory (lead_id, actor_id, action, field, old_value, new_value, note, data, created_at)
  SELECT ev.lead_id, NULL, 'sla_breached', 'sla_due_at', '', to_char(due.due_at AT TIME ZONE 'UTC',
    'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), '', jsonb_build_object('clock_id', ev.clock_id, 'rep_id', ev.rep_id,
    'event_id', ev.id), %(now)s
  FROM ev JOIN due ON due.id = ev.clock_id
)
INSERT INTO sla_notification (recipient_id, kind, event_id, lead_id, message, channel, created_at)
SELECT r.user_id, 'breach', ev.id, ev.lead_id,
  'First-contact deadline missed on ' || l.first_name || ' ' || l.last_name, 'in_app', %(now)s
FROM ev JOIN leads_lead l ON l.id = ev.lead_id JOIN due ON due.id = ev.clock_id
  LEFT JOIN accounts_team t ON t.id = due.team_id,
  LATERAL (SELECT ev.rep_id AS user_id UNION SELECT t.manager_id WHERE t.manager_id IS NOT NULL) r
ON CONFLICT DO NOTHING
"""


# --- Phases ---------------------------------------------------------------------------


def sweep_ms(*, repeat: int) -> float:
    """Median wall time of one product sweep with the same DUE clocks due."""
    from django.db import connection

    from sla.sweep.services import sla_sweep

    times = []
    for _ in range(repeat):
        with connection.cursor() as cursor:
            make_due(cursor, clock_ids_sql="SELECT id FROM leads_firstcontactclock ORDER BY id LIMIT %s", params=[DUE])
        started = time.perf_counter()
        counts = sla_sweep(now=NOW)
        times.append((time.perf_counter() - started) * 1000)
        assert counts["breaches"] == DUE, counts
    log(f"sweep of {DUE} due: {', '.join(f'{t:.1f}' for t in times)} ms")
    return statistics.median(times)


def transitions(*, n: int) -> tuple[float, float]:
    """(product, baseline) transitions per second, `n` breaches due at once."""
    from django.db import connection

    from sla.sweep.services import sla_sweep

    pick = "SELECT id FROM leads_firstcontactclock ORDER BY id DESC LIMIT %s"
    with connection.cursor() as cursor:
        make_due(cursor, clock_ids_sql=pick, params=[n])
        cursor.execute("VACUUM ANALYZE leads_firstcontactclock")
        cursor.execute("CHECKPOINT")
    counts, product_s = _timed(f"product sweep, {n:,} due", lambda: sla_sweep(now=NOW))
    assert counts["breaches"] == n, counts
    with connection.cursor() as cursor:
        make_due(cursor, clock_ids_sql=pick, params=[n])
        cursor.execute("CHECKPOINT")
        _, baseline_s = _timed(f"hand-written SQL, {n:,} due", lambda: cursor.execute(BASELINE_SQL, {"now": NOW}))
        cursor.execute("SELECT count(*) FROM sla_clockevent WHERE kind = 'breach' AND created_at = %s", [NOW])
        assert cursor.fetchone()[0] >= n
    return n / product_s, n / baseline_s


def breach_lag(*, db_url: str, broker: str, beat_seconds: float, samples: int, team_id: int, rep_ids: list[int]):
    """Deadline to breach row through a real beat and worker: seconds per sample."""
    from django.db import connection

    from leads.models import FirstContactClock

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leadhandoff.settings.test", "DATABASE_URL": db_url,
           "TEST_CELERY_BROKER_URL": broker, "BENCH_SLA_BEAT_SECONDS": str(beat_seconds)}  # fmt: skip
    with connection.cursor() as cursor:
        add_open_clocks(cursor, n=samples, team_id=team_id, rep_ids=rep_ids)
        cursor.execute("SELECT max(id) - %s FROM leads_firstcontactclock", [samples])
        after = cursor.fetchone()[0]
    ids = list(FirstContactClock.objects.filter(id__gt=after).order_by("id").values_list("id", flat=True))
    # Deadlines from 5 s ahead, spread over two beat periods (and at least 20 s).
    start = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=5)
    span = max(2 * beat_seconds, 20.0)
    due = {cid: start + datetime.timedelta(seconds=span * i / max(1, samples - 1)) for i, cid in enumerate(ids)}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE leads_firstcontactclock c SET started_at = v.due - interval '1 day', due_at = v.due,
              warn_at = '{}', escalate_at = NULL, next_action = 'breach', next_action_at = v.due
            FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, due) WHERE c.id = v.id
            """,
            [list(due), list(due.values())],
        )
    seen: dict[int, datetime.datetime] = {}
    with tempfile.TemporaryDirectory() as tmp:
        common = ["--loglevel=WARNING"]
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "leadhandoff", "worker", "--pool=solo", "-Q", "celery",
             "--without-heartbeat", "--without-gossip", "--without-mingle", *common],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=sys.stderr,
        )  # fmt: skip
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "bench.sla_beat", "beat", "-s", f"{tmp}/schedule",
             "-S", "celery.beat:PersistentScheduler", *common],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=sys.stderr,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + span + 5 + 3 * beat_seconds + 60
            while len(seen) < len(ids) and time.monotonic() < deadline:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT clock_id FROM sla_clockevent WHERE kind = 'breach' AND clock_id = ANY(%s)", [ids]
                    )
                    now = datetime.datetime.now(tz=datetime.UTC)
                    for (cid,) in cursor.fetchall():
                        seen.setdefault(cid, now)
                time.sleep(0.2)
        finally:
            for proc in (beat, worker):
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
    if len(seen) < len(ids):
        log(f"only {len(seen)} of {len(ids)} breaches seen in time")
    return [(seen[cid] - due[cid]).total_seconds() for cid in seen], len(ids) - len(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--open", type=int, default=1_000_000, help="open clocks in the large sweep")
    parser.add_argument("--small", type=int, default=10_000, help="open clocks in the small sweep")
    parser.add_argument("--transitions", type=int, default=100_000, help="clocks due at once")
    parser.add_argument("--repeat", type=int, default=5, help="timed sweeps per size (median)")
    parser.add_argument("--beat-seconds", type=float, default=60.0, help="beat's sweep period (60 in production)")
    parser.add_argument("--lag-samples", type=int, default=40)
    parser.add_argument("--skip-lag", action="store_true", help="leave out the beat and worker phase")
    parser.add_argument(
        "--broker",
        default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/3"),
        help="Redis URL of the Celery broker for the worker and beat (a database of its own)",
    )
    args = parser.parse_args()
    os.environ["TEST_CELERY_BROKER_URL"] = args.broker

    with benchmark_database("sla") as db:
        from django.db import connection

        connection.ensure_connection()
        connection.set_autocommit(True)
        team, reps = create_people()
        with connection.cursor() as cursor:
            _timed(
                f"{args.small:,} open clocks",
                lambda: add_open_clocks(cursor, n=args.small, team_id=team.pk, rep_ids=reps),
            )
            cursor.execute("VACUUM ANALYZE")
        small_ms = sweep_ms(repeat=args.repeat)
        with connection.cursor() as cursor:
            rest = max(0, args.open - args.small)
            _timed(f"{rest:,} more open clocks", lambda: add_open_clocks(cursor, n=rest, team_id=team.pk, rep_ids=reps))
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("SELECT count(*) FROM leads_firstcontactclock WHERE ended_at IS NULL")
            open_clocks = cursor.fetchone()[0]
        large_ms = sweep_ms(repeat=args.repeat)
        n = min(args.transitions, open_clocks)
        product_per_s, baseline_per_s = transitions(n=n)
        figures = {
            "open": open_clocks,
            "due": DUE,
            "sweep_ms_10k": round(small_ms, 2),
            "sweep_ms_1m": round(large_ms, 2),
            "sweep_ratio": round(large_ms / small_ms, 3),
            "transitions": n,
            "transitions_per_s": round(product_per_s, 1),
            "sql_baseline_per_s": round(baseline_per_s, 1),
            "baseline_ratio": round(baseline_per_s / product_per_s, 3),
        }
        if not args.skip_lag:
            lags, missed = breach_lag(
                db_url=db.url,
                broker=args.broker,
                beat_seconds=args.beat_seconds,
                samples=args.lag_samples,
                team_id=team.pk,
                rep_ids=reps,
            )
            figures.update(
                beat_seconds=args.beat_seconds,
                breach_lag_samples=len(lags),
                breach_lag_missed=missed,
                breach_lag_p50_s=round(percentile(lags, 50), 2) if lags else None,
                breach_lag_p99_s=round(percentile(lags, 99), 2) if lags else None,
            )
        from bench.sla_dashboard import dashboard_under_load  # 50 managers on the SLA dashboard, 1M leads

        figures.update(dashboard_under_load())
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
