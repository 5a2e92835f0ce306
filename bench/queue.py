"""Benchmark the sales queue: a rep's queue page and lead briefs under concurrent reps,
plus bulk routing, with a million leads stored.

    python -m bench.queue --leads 1000000 --users 50

What it does, on a database of its own (bench._db):

1. Creates `--users` reps in teams of ten (each team has a manager and a routing
   rule on country) and generates `--leads` leads with SQL generate_series:
   per rep ~300 open leads (assigned, contacted, working, opportunity) and
   ~1,200 closed ones, `--queued` promoted leads waiting to be routed, the rest
   in the nurture pool; engagement events for every lead, touches and history
   for the reps' leads. Indexes are dropped during the load and rebuilt after.
2. Serves the app with gunicorn (gthread workers, persistent DB connections as
   in production) and drives it from this process with one thread per rep, each
   logged in (a real session row) and alternating its queue page (some pages
   with filters) and the brief of one of its leads, with think time between
   requests (a person reading a page), for `--duration` seconds.
3. Baseline, same run: the queue's hand-written SQL (count + first page) under
   the same concurrency and think time, straight on psycopg2 — the floor the
   page cannot beat; the JSON gives the page's p95 as a ratio to it.
4. Counts the queries of one queue page and one brief (Django test client).
5. Routes the queued leads in one call to leads.routing.services.leads_route: assign_per_s.

Prints progress to stderr and, as the last stdout line, one JSON object.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from bench._db import benchmark_database, lead_defaults, log

ROOT = Path(__file__).resolve().parent.parent
COUNTRIES = ["US", "UK", "DE", "FR", "CA", "AU", "NL", "SE", "ES", "IT"]
SOURCES = ["webinar", "ebook", "paid search", "organic", "partner", "event"]
INDUSTRIES = ["Software", "Finance", "Retail", "Manufacturing", "Healthcare", "Education"]
EVENT_KINDS = ["page_view", "pricing_page_view", "content_download", "webinar_attended", "email_click"]
OPEN_PER_REP = 300
CLOSED_PER_REP = 1200
TEAM_SIZE = 10
PASSWORD = "bench-password"  # noqa: S105 - throwaway users in a throwaway database
EXPLANATION = {
    "version": 1,
    "total": 74,
    "fit": 45,
    "behaviour": 29,
    "threshold": 60,
    "passes_gates": True,
    "qualifies": True,
    "gates": [{"id": "g1", "label": "Not a competitor", "passed": True}],
    "rules": [
        {"id": "f1", "label": "Director or above", "type": "fit", "points": 20},
        {"id": "f2", "label": "200+ employees", "type": "fit", "points": 15},
        {"id": "f3", "label": "Target industry", "type": "fit", "points": 10},
        {"id": "b1", "label": "Pricing page visits", "type": "behaviour", "points": 18},
        {"id": "b2", "label": "Webinar attended", "type": "behaviour", "points": 11},
    ],
}


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def ms(value: float) -> float | None:
    return None if value != value else round(value * 1000, 2)  # NaN (no samples) is not JSON


# --- Data ------------------------------------------------------------------------


def create_people(*, users: int):
    """Reps in teams of TEAM_SIZE, a manager per team, a routing rule per team (ORM: small)."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import RepProfile, Role, Team, User
    from leads.models import AssignmentRule

    password = make_password(PASSWORD)
    n_teams = max(1, (users + TEAM_SIZE - 1) // TEAM_SIZE)
    managers = User.objects.bulk_create(
        [User(username=f"manager{t}", role=Role.MANAGER, password=password) for t in range(n_teams)]
    )
    teams = Team.objects.bulk_create(
        [Team(name=f"Team {t}", manager=managers[t], is_fallback=t == 0) for t in range(n_teams)]
    )
    reps = User.objects.bulk_create(
        [
            User(username=f"rep{i}", role=Role.REP, password=password, first_name="Rep", last_name=str(i))
            for i in range(users)
        ]
    )
    RepProfile.objects.bulk_create(
        # Capacity is out of the way: the benchmark measures routing speed, not refusals.
        [RepProfile(user=rep, team=teams[i // TEAM_SIZE], capacity=1_000_000) for i, rep in enumerate(reps)]
    )
    AssignmentRule.objects.bulk_create(
        [
            AssignmentRule(
                name=f"Countries for team {t}",
                position=t,
                team=team,
                conditions={"country": [c for j, c in enumerate(COUNTRIES) if j % n_teams == t]},
            )
            for t, team in enumerate(teams)
        ]
    )
    return reps, teams


@contextmanager
def indexes_dropped(conn, tables: list[str]):
    """Drop the secondary indexes of `tables` for a bulk load and rebuild them after."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            (tables,),
        )
        saved = cur.fetchall()
        for name, _ in saved:
            cur.execute(f'DROP INDEX "{name}"')
    conn.commit()
    yield
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in saved:
            cur.execute(definition)
    conn.commit()
    log(f"rebuilt {len(saved)} indexes in {time.perf_counter() - started:.1f}s")


# Columns set by generate_leads' SELECT, in its order.
GENERATED_COLUMNS = (
    "email",
    "first_name",
    "last_name",
    "title",
    "company",
    "industry",
    "company_size",
    "country",
    "source",
    "campaign",
    "status",
    "owner_id",
    "team_id",
    "created_at",
    "updated_at",
    "promoted_at",
    "assigned_at",
    "sla_due_at",
    "first_contact_at",
    "closed_at",
    "last_activity_at",
    "deal_value",
    "touch_count",
    "promotion_explanation",
    "promoted_version",
)


def generate_leads(db, *, leads: int, reps: list, queued: int) -> dict:
    """One INSERT ... SELECT FROM generate_series; events, touches and history likewise."""
    from django.db import connection

    rep_ids = [r.pk for r in reps]
    team_of = {r.pk: r.rep_profile.team_id for r in reps}
    team_ids = [team_of[r] for r in rep_ids]
    n_reps = len(rep_ids)
    n_open = min(OPEN_PER_REP * n_reps, leads // 10)
    n_closed = min(CLOSED_PER_REP * n_reps, leads // 4)
    n_queued = min(queued, max(0, leads - n_open - n_closed))
    extra_columns, extra_params = lead_defaults(connection, GENERATED_COLUMNS)
    explanation = json.dumps(EXPLANATION)
    params = {
        "n": leads,
        "n_open": n_open,
        "n_owned": n_open + n_closed,
        "n_promoted": n_open + n_closed + n_queued,
        "reps": rep_ids,
        "teams": team_ids,
        "n_reps": n_reps,
        "countries": COUNTRIES,
        "sources": SOURCES,
        "industries": INDUSTRIES,
        "explanation": explanation,
    }
    # g numbers the leads: [1, n_open] open and owned, then closed and owned, then queued, then the pool.
    select = f"""
        SELECT
            'lead' || g || '@company' || (g %% 97331) || '.example',
            (ARRAY['Ada','Grace','Alan','Linus','Barbara','Ken','Margaret','Dennis'])[1 + g %% 8],
            'Person' || g,
            (ARRAY['CTO','VP Sales','Director of IT','Engineer','Head of Ops'])[1 + g %% 5],
            'Company ' || (g %% 97331),
            (%(industries)s::text[])[1 + g %% {len(INDUSTRIES)}],
            10 + (g * 37) %% 5000,
            (%(countries)s::text[])[1 + g %% {len(COUNTRIES)}],
            (%(sources)s::text[])[1 + g %% {len(SOURCES)}],
            'Campaign ' || (g %% 40),
            CASE
                WHEN g <= %(n_open)s THEN (ARRAY['assigned','assigned','assigned','assigned','contacted',
                    'contacted','contacted','working','working','opportunity'])[1 + (g / %(n_reps)s) %% 10]
                WHEN g <= %(n_owned)s THEN (ARRAY['won','lost','lost'])[1 + g %% 3]
                WHEN g <= %(n_promoted)s THEN 'queued'
                ELSE 'nurture'
            END AS status,
            CASE WHEN g <= %(n_owned)s THEN (%(reps)s::bigint[])[1 + g %% %(n_reps)s] END,
            CASE WHEN g <= %(n_owned)s THEN (%(teams)s::bigint[])[1 + g %% %(n_reps)s] END,
            now() - make_interval(days => 1 + g %% 400),
            now(),
            CASE WHEN g <= %(n_promoted)s THEN now() - make_interval(hours => g %% 2000) END,
            CASE WHEN g <= %(n_owned)s THEN now() - make_interval(hours => g %% 2000) END,
            CASE WHEN g <= %(n_open)s AND (g / %(n_reps)s) %% 10 < 4
                 THEN now() + make_interval(mins => (g * 7) %% 3000 - 600) END,
            CASE WHEN g <= %(n_owned)s AND NOT (g <= %(n_open)s AND (g / %(n_reps)s) %% 10 < 4)
                 THEN now() - make_interval(hours => g %% 1900) END,
            CASE WHEN g > %(n_open)s AND g <= %(n_owned)s THEN now() - make_interval(hours => g %% 1000) END,
            CASE WHEN g <= %(n_owned)s THEN now() - make_interval(mins => g %% 20000) END,
            CASE WHEN g <= %(n_owned)s AND g %% 3 = 1 THEN 1000 + (g %% 90000) END,
            CASE WHEN g <= %(n_owned)s THEN g %% 7 ELSE 0 END,
            CASE WHEN g <= %(n_promoted)s THEN %(explanation)s::jsonb ELSE '{{}}'::jsonb END,
            CASE WHEN g <= %(n_promoted)s THEN 1 END
            {"".join(f", %(extra{i})s" for i in range(len(extra_columns)))}
        FROM generate_series(1, %(n)s) AS g
    """
    params.update({f"extra{i}": value for i, value in enumerate(extra_params)})
    columns = [*GENERATED_COLUMNS, *extra_columns]
    tables = ["leads_lead", "leads_leadscore", "leads_engagementevent", "leads_touch", "leads_leadhistory"]
    with db.connection() as conn:
        with conn.cursor() as cur:
            # The generator writes consistent rows; skip per-row FK triggers during the load.
            cur.execute("SET session_replication_role = replica")
        with indexes_dropped(conn, tables), conn.cursor() as cur:
            started = time.perf_counter()
            cur.execute(f"INSERT INTO leads_lead ({', '.join(columns)}) {select}", params)
            conn.commit()
            log(f"inserted {leads:,} leads in {time.perf_counter() - started:.1f}s")
            # Every lead scored (leads.LeadScore), the explanation above in compact form.
            cur.execute(
                "INSERT INTO leads_scorelegend (version, threshold, gates, rules) VALUES (1, %s, %s, %s)",
                [
                    EXPLANATION["threshold"],
                    json.dumps([{"id": g["id"], "label": g["label"]} for g in EXPLANATION["gates"]]),
                    json.dumps([{k: r[k] for k in ("id", "label", "type")} for r in EXPLANATION["rules"]]),
                ],
            )
            cur.execute(
                "INSERT INTO leads_leadscore"
                " (lead_id, version, total, fit, behaviour, passes_gates, rule_points, gates_passed, scored_at)"
                " SELECT id, 1, 20 + id %% 80, %s, 20 + id %% 80 - %s, true, %s, %s, now() FROM leads_lead",
                [
                    EXPLANATION["fit"],
                    EXPLANATION["fit"],
                    json.dumps([r["points"] for r in EXPLANATION["rules"]]),
                    json.dumps([g["passed"] for g in EXPLANATION["gates"]]),
                ],
            )
            conn.commit()
            started = time.perf_counter()
            # One event for every lead, five more for the reps' leads (their briefs show them).
            cur.execute(
                """
                    INSERT INTO leads_engagementevent (lead_id, kind, occurred_at, properties, received_at)
                    SELECT l.id, (%(kinds)s::text[])[1 + (l.id + s) %% 5],
                           now() - make_interval(hours => ((l.id * 13 + s * 101) %% 2000)::int),
                           '{}'::jsonb, now()
                    FROM leads_lead l
                    CROSS JOIN LATERAL generate_series(1, CASE WHEN l.owner_id IS NULL THEN 1 ELSE 6 END) s
                    """,
                {"kinds": EVENT_KINDS},
            )
            events = cur.rowcount
            cur.execute(
                """
                    INSERT INTO leads_touch (lead_id, rep_id, kind, outcome, occurred_at, notes, created_at)
                    SELECT l.id, l.owner_id, (ARRAY['call','email','note'])[s], 'connected',
                           l.assigned_at + make_interval(hours => s), 'Bench touch ' || s, now()
                    FROM leads_lead l CROSS JOIN generate_series(1, 3) s
                    WHERE l.owner_id IS NOT NULL AND l.status <> 'assigned'
                    """
            )
            touches = cur.rowcount
            cur.execute(
                """
                    INSERT INTO leads_leadhistory (lead_id, actor_id, action, field, old_value, new_value,
                                                   note, data, created_at)
                    SELECT l.id, NULL, a.action, a.field, a.old, a.new, '', '{}'::jsonb,
                           l.assigned_at - make_interval(mins => a.ord)
                    FROM leads_lead l CROSS JOIN (VALUES
                        ('promoted', 'status', 'nurture', 'queued', 2),
                        ('assigned', 'owner', '', 'rep', 1),
                        ('status_changed', 'status', 'queued', 'assigned', 0)
                    ) AS a(action, field, old, new, ord)
                    WHERE l.owner_id IS NOT NULL
                    """
            )
            history = cur.rowcount
            conn.commit()
            log(
                f"inserted {events:,} events, {touches:,} touches, {history:,} history rows "
                f"in {time.perf_counter() - started:.1f}s"
            )
        with conn.cursor() as cur:
            cur.execute("SET session_replication_role = DEFAULT")
        conn.commit()
        conn.autocommit = True
        with conn.cursor() as cur:
            started = time.perf_counter()
            for table in tables:
                cur.execute(f"VACUUM ANALYZE {table}")
            log(f"vacuum analyze in {time.perf_counter() - started:.1f}s")
    return {"open": n_open, "closed": n_closed, "queued": n_queued, "events": events, "touches": touches}


def make_sessions(reps: list) -> dict[int, str]:
    """A logged-in session per rep (the same rows the login form writes)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    cookies = {}
    for rep in reps:
        session = SessionStore()
        session[SESSION_KEY] = str(rep.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
        session[HASH_SESSION_KEY] = rep.get_session_auth_hash()
        session.create()
        cookies[rep.pk] = session.session_key
    return cookies


def rep_leads(reps: list) -> dict[int, list[int]]:
    """Each rep's leads, open ones first (the briefs a rep opens)."""
    from leads.models import OPEN_STATUSES, Lead

    by_rep: dict[int, list[int]] = {rep.pk: [] for rep in reps}
    for owner_id, lead_id in (
        Lead.objects.filter(owner_id__in=by_rep, status__in=OPEN_STATUSES).values_list("owner_id", "id").iterator()
    ):
        by_rep[owner_id].append(lead_id)
    return by_rep


# --- Load ------------------------------------------------------------------------

QUEUE_VARIANTS = [
    "/leads/queue/",
    "/leads/queue/",
    "/leads/queue/?page=2",
    "/leads/queue/?overdue=on",
    "/leads/queue/?status=working",
    "/leads/queue/?source=webinar&origin=marketing",
    "/leads/queue/?q=grace",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(*, database_url: str, workers: int, threads: int, worker_class: str = "gthread"):
    port = free_port()
    # One cache for every worker, in Redis, as production (sessions, the SLA dashboard's
    # figures): keys under a prefix of this run's own, deleted when the server stops.
    cache_url = os.environ.get("BENCH_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    cache_prefix = f"bench-{os.getpid()}-{port}"
    env = {
        **os.environ,
        "TEST_SHARED_CACHE_URL": cache_url,
        "TEST_SHARED_CACHE_PREFIX": cache_prefix,
        "DJANGO_SETTINGS_MODULE": "leadhandoff.settings.test",
        # Persistent connections, as production (DATABASE_CONN_MAX_AGE=60).
        "DATABASE_URL": f"{database_url}?conn_max_age=60",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "leadhandoff.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--keep-alive",
        "30",
        "--backlog",
        "256",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=sys.stderr)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.2)
        log(f"gunicorn up on port {port}: {workers} workers x {threads} threads")
        yield port, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shared_cache_delete(cache_url, cache_prefix)


def shared_cache_delete(url: str, prefix: str) -> None:
    """Delete the keys the benchmark's server wrote under `prefix` (never the rest of the database)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
        log(f"deleted {len(keys)} cache keys of the server")
    except redis.RedisError as exc:
        log(f"could not delete the server's cache keys ({exc!r})")
    finally:
        client.close()


def workers_cpu_seconds(master_pid: int) -> float:
    """CPU time (user + system) used so far by the gunicorn workers of `master_pid`, from /proc."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:  # fields[1] is the parent pid
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {"queue": [], "brief": []}
        self.errors: list[str] = []
        self.served = 0

    def count(self) -> None:
        with self.lock:
            self.served += 1

    def add(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.times[kind].append(seconds)

    def error(self, message: str) -> None:
        with self.lock:
            if len(self.errors) < 20:
                self.errors.append(message)
            self.times.setdefault("errors", []).append(0.0)


def think(rng: random.Random, think_ms: float) -> float:
    # A person reading a page: uniformly half to one and a half times the mean.
    return rng.uniform(0.5, 1.5) * think_ms / 1000 if think_ms > 0 else 0.0


def rep_loop(*, port, cookie, lead_ids, deadline, warmup_until, think_ms, recorder, seed):
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": f"sessionid={cookie}", "Host": "127.0.0.1"}
    time.sleep(rng.uniform(0, max(think_ms, 1) / 1000))  # do not start in lockstep
    turn = 0
    while time.monotonic() < deadline:
        if turn % 2 == 0 or not lead_ids:
            kind, path = "queue", rng.choice(QUEUE_VARIANTS)
        else:
            kind, path = "brief", f"/leads/{rng.choice(lead_ids)}/brief/"
        turn += 1
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            recorder.error(f"{path}: {exc!r}")
            time.sleep(think(rng, think_ms) or 0.1)
            continue
        elapsed = time.perf_counter() - started
        recorder.count()
        if status != 200:
            recorder.error(f"{path}: HTTP {status}")
        elif time.monotonic() >= warmup_until:
            recorder.add(kind, elapsed)
        time.sleep(think(rng, think_ms))
    conn.close()


def run_threads(target, per_thread_kwargs: list[dict]) -> None:
    threads = [threading.Thread(target=target, kwargs=kw, daemon=True) for kw in per_thread_kwargs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def http_load(*, port, reps, cookies, leads_by_rep, duration, warmup, think_ms) -> Recorder:
    recorder = Recorder()
    now = time.monotonic()
    run_threads(
        rep_loop,
        [
            {
                "port": port,
                "cookie": cookies[rep.pk],
                "lead_ids": leads_by_rep[rep.pk],
                "deadline": now + warmup + duration,
                "warmup_until": now + warmup,
                "think_ms": think_ms,
                "recorder": recorder,
                "seed": i,
            }
            for i, rep in enumerate(reps)
        ],
    )
    return recorder


# The queue page's reads written by hand: the floor the page is compared with.
BASELINE_COUNT = "SELECT count(*) FROM leads_lead WHERE owner_id = %s AND status = ANY(%s)"
BASELINE_PAGE = """
    SELECT l.id, l.email, l.first_name, l.last_name, l.title, l.company, l.source, l.origin, l.rep_source_channel,
           l.status, s.total, l.sla_due_at, l.first_contact_at, l.last_activity_at, l.touch_count
    FROM leads_lead l LEFT JOIN leads_leadscore s ON s.lead_id = l.id WHERE l.owner_id = %s AND l.status = ANY(%s)
    ORDER BY l.sla_due_at ASC NULLS LAST, l.last_activity_at DESC NULLS LAST, l.id DESC LIMIT 25
"""


def sql_baseline(*, database_url, reps, connections, duration, warmup, think_ms) -> list[float]:
    from psycopg2.pool import ThreadedConnectionPool

    from leads.models import OPEN_STATUSES

    statuses = [str(s) for s in OPEN_STATUSES]
    pool = ThreadedConnectionPool(1, connections, database_url)
    gate = threading.BoundedSemaphore(connections)
    times: list[float] = []
    lock = threading.Lock()
    start = time.monotonic()

    def loop(rep_id, seed):
        rng = random.Random(seed)
        time.sleep(rng.uniform(0, max(think_ms, 1) / 1000))
        while time.monotonic() < start + warmup + duration:
            started = time.perf_counter()
            with gate:
                conn = pool.getconn()
                try:
                    with conn.cursor() as cur:
                        cur.execute(BASELINE_COUNT, (rep_id, statuses))
                        cur.fetchone()
                        cur.execute(BASELINE_PAGE, (rep_id, statuses))
                        cur.fetchall()
                    conn.rollback()
                finally:
                    pool.putconn(conn)
            elapsed = time.perf_counter() - started
            if time.monotonic() >= start + warmup:
                with lock:
                    times.append(elapsed)
            time.sleep(think(rng, think_ms) * 2)  # the queue is every other request of a rep

    run_threads(loop, [{"rep_id": rep.pk, "seed": i} for i, rep in enumerate(reps)])
    pool.closeall()
    return times


def count_queries(rep, lead_id: int) -> tuple[int, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(rep)
    client.get("/leads/queue/")
    with CaptureQueriesContext(connection) as queue_queries:
        response = client.get("/leads/queue/")
    assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as brief_queries:
        response = client.get(f"/leads/{lead_id}/brief/")
    assert response.status_code == 200, response.status_code
    return len(queue_queries), len(brief_queries)


def route_queued() -> tuple[int, int, float]:
    from django.utils import timezone

    from leads.models import Lead, Status
    from leads.routing.services import leads_route

    ids = list(Lead.objects.filter(status=Status.QUEUED).order_by("id").values_list("id", flat=True))
    started = time.perf_counter()
    assigned = leads_route(lead_ids=ids, now=timezone.now())
    return len(ids), assigned, time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=50, help="concurrent reps")
    parser.add_argument("--queued", type=int, default=20_000, help="promoted leads routed in bulk at the end")
    parser.add_argument("--duration", type=float, default=60, help="seconds of measured load")
    parser.add_argument("--warmup", type=float, default=10, help="seconds of load before measuring")
    parser.add_argument("--think-ms", type=float, default=1000, help="mean pause between a rep's requests")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=6, help="threads per gunicorn worker")
    args = parser.parse_args(argv)

    with benchmark_database("queue") as db:
        started = time.perf_counter()
        reps, _teams = create_people(users=args.users)
        from accounts.models import User

        reps = list(User.objects.filter(pk__in=[r.pk for r in reps]).select_related("rep_profile").order_by("id"))
        counts = generate_leads(db, leads=args.leads, reps=reps, queued=args.queued)
        log(f"data ready in {time.perf_counter() - started:.1f}s: {counts}")
        cookies = make_sessions(reps)
        leads_by_rep = rep_leads(reps)
        any_lead = next(ids[0] for ids in leads_by_rep.values() if ids)
        queue_queries, brief_queries = count_queries(
            reps[0], leads_by_rep[reps[0].pk][0] if leads_by_rep[reps[0].pk] else any_lead
        )
        log(f"queries: queue page {queue_queries}, brief {brief_queries}")
        from django.db import connections

        connections.close_all()

        log(
            f"HTTP load: {args.users} reps, {args.duration:.0f}s (+{args.warmup:.0f}s warm-up),"
            f" think {args.think_ms:.0f} ms"
        )
        load_avg_before = os.getloadavg()[0]
        with gunicorn(database_url=db.url, workers=args.workers, threads=args.threads) as (port, master_pid):
            cpu_before = workers_cpu_seconds(master_pid)
            client_before = resource.getrusage(resource.RUSAGE_SELF)
            wall_before = time.perf_counter()
            recorder = http_load(
                port=port,
                reps=reps,
                cookies=cookies,
                leads_by_rep=leads_by_rep,
                duration=args.duration,
                warmup=args.warmup,
                think_ms=args.think_ms,
            )
            # Includes the warm-up requests, so divide by every request served.
            server_cpu = workers_cpu_seconds(master_pid) - cpu_before
            wall = time.perf_counter() - wall_before
            client_after = resource.getrusage(resource.RUSAGE_SELF)
        # The load client (this process's threads) shares the machine with the server: its CPU.
        client_cpu = (client_after.ru_utime - client_before.ru_utime) + (client_after.ru_stime - client_before.ru_stime)
        load_avg_after = os.getloadavg()[0]
        queue_times, brief_times = recorder.times["queue"], recorder.times["brief"]
        served = recorder.served
        log(f"HTTP: {len(queue_times)} queue pages, {len(brief_times)} briefs, {len(recorder.errors)} errors")
        for message in recorder.errors[:5]:
            log(f"  error: {message}")

        log("baseline: the queue's SQL by hand under the same concurrency")
        baseline = sql_baseline(
            database_url=db.url,
            reps=reps,
            connections=args.workers * args.threads,
            duration=min(args.duration, 30),
            warmup=min(args.warmup, 5),
            think_ms=args.think_ms,
        )

        log(f"routing {counts['queued']:,} queued leads in one call")
        routed, assigned, route_seconds = route_queued()
        log(f"routed {routed:,} ({assigned:,} to a rep) in {route_seconds:.2f}s")

    queue_p95 = percentile(queue_times, 95)
    baseline_p95 = percentile(baseline, 95)
    result = {
        "benchmark": "queue",
        "leads": args.leads,
        "users": args.users,
        "open_leads_per_rep": counts["open"] // max(1, args.users),
        "duration_s": args.duration,
        "think_ms": args.think_ms,
        "gunicorn": f"{args.workers} workers x {args.threads} threads (gthread), one Redis cache",
        "requests": len(queue_times) + len(brief_times),
        "requests_per_s": round((len(queue_times) + len(brief_times)) / args.duration, 1),
        "errors": len(recorder.times.get("errors", [])),
        "queue_p50_ms": ms(percentile(queue_times, 50)),
        "queue_p95_ms": ms(queue_p95),
        "queue_p99_ms": ms(percentile(queue_times, 99)),
        "brief_p50_ms": ms(percentile(brief_times, 50)),
        "brief_p95_ms": ms(percentile(brief_times, 95)),
        "brief_p99_ms": ms(percentile(brief_times, 99)),
        "queries_per_queue_page": queue_queries,
        "queries_per_brief": brief_queries,
        "baseline_queue_sql_p50_ms": ms(percentile(baseline, 50)),
        "baseline_queue_sql_p95_ms": ms(baseline_p95),
        "queue_p95_to_sql_p95_ratio": round(queue_p95 / baseline_p95, 1) if baseline else None,
        "queued_routed": routed,
        "assigned_to_reps": assigned,
        "assign_seconds": round(route_seconds, 2),
        "assign_per_s": round(routed / route_seconds) if route_seconds else None,
        "target_p95_ms": 100,
        "target_met": queue_p95 * 1000 < 100 and percentile(brief_times, 95) * 1000 < 100,
        "cpu_count": os.cpu_count(),
        "server_cpu_ms_per_request": round(1000 * server_cpu / served, 1) if served else None,
        "client_cpu_s": round(client_cpu, 2),
        "server_cpu_s": round(server_cpu, 2),
        "client_cpu_ms_per_request": round(1000 * client_cpu / served, 1) if served else None,
        "client_cpu_share_of_machine": round(client_cpu / (wall * (os.cpu_count() or 1)), 3) if wall else None,
        "client_cpu_share_of_client_and_server": round(client_cpu / (client_cpu + server_cpu), 3)
        if client_cpu + server_cpu
        else None,
        "load_avg_at_start": round(load_avg_before, 2),
        "load_avg_after_load": round(load_avg_after, 2),
        "mean_queue_ms": ms(statistics.fmean(queue_times)) if queue_times else None,
        "note": "load client, gunicorn and PostgreSQL share one machine (2 cores, shared with other work)",
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
