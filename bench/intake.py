"""Intake benchmark: the CSV import against a raw COPY of the same file, and the events API.

    python -m bench.intake --rows 100000 [--api-batches 20] [--seed 7] [--chunk-size 2000]

Runs in a PostgreSQL database of its own, created and dropped here (bench._db).

1. Generates a CSV of --rows leads (deterministic: the same seed gives the same bytes).
2. copy_baseline_s: COPY of that file into a staging table of text columns.
3. insert_floor_s: for reference, the least any import writing these tables must do:
   the same rows INSERT ... SELECT from a COPY table into leads_lead (with all its
   indexes) plus one history row each, in one statement; the tables are emptied after.
   insert_keys_only_s: the leads alone into leads_lead stripped of every index but
   the primary key and the two key indexes (rolled back): what the indexes the
   pool, queue, routing and SLA pages read cost an insert. With --index-costs, what
   each index adds to that insert, one at a time (index_cost_s).
4. import_s: the product's import of the same file (leads.imports: read and check
   the file, parse and validate every row in Python, then per chunk COPY into a
   temporary staging table and INSERT ... ON CONFLICT DO UPDATE, with the history
   rows INSERT ... SELECT), into an empty lead table. reimport_s: the same file
   again, so every row is an update.
5. api_events_per_s: batches of 1,000 engagement events POSTed to /api/v1/events/
   in this process (DRF's APIClient with a marketer's token), naming imported leads.

Targets: ratio (import_s / copy_baseline_s) at most 5; 5,000 events/s or more.
Progress goes to stderr; the last line of stdout is one JSON object of figures.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import random
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

from bench._db import benchmark_database, log

IMPORT_RATIO_TARGET = 5.0
API_EVENTS_PER_S_TARGET = 5000
EVENTS_PER_BATCH = 1000

HEADER = [
    "email",
    "first_name",
    "last_name",
    "title",
    "company",
    "industry",
    "company_size",
    "country",
    "city",
    "source",
    "campaign",
    "created_at",
    "phone",
]
FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Eva", "Femi", "Grace", "Hiro", "Inés", "Jon", "Kira", "Liam", "Mei", "Noor"]
LAST = ["Ng", "Okafor", "Silva", "Müller", "Smith", "Kowalski", "Rossi", "Tanaka", "Haddad", "Jensen", "O'Brien"]
TITLES = ["CTO", "VP Marketing", "Head of Sales", "Engineer", "Analyst", "Founder", "Operations Manager", ""]
INDUSTRIES = ["Software", "Retail", "Finance", "Healthcare", "Manufacturing", "Education", "Media"]
COUNTRIES = [("US", "Austin"), ("US", "Boston"), ("DE", "Berlin"), ("FR", "Lyon"), ("GB", "Leeds"), ("IN", "Pune")]
SOURCES = ["webinar", "organic", "paid_search", "event", "referral", "content"]
CAMPAIGNS = ["spring-launch", "q3-webinar-series", "retargeting", "", "partner-week"]
COMPANY_WORDS = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Wonka", "Tyrell"]


def generate_csv(path: Path, *, rows: int, seed: int) -> None:
    """A realistic lead list: unique emails, some blank optional cells, a few quoted commas."""
    rng = random.Random(seed)
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for i in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            local = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode().lower()
            company = f"{rng.choice(COMPANY_WORDS)} {rng.choice(['Inc.', 'GmbH', 'Ltd', 'Labs', 'Group, LLC'])}"
            domain = company.split()[0].lower() + str(i % 997)
            country, city = rng.choice(COUNTRIES)
            created = start + datetime.timedelta(minutes=rng.randrange(0, 60 * 24 * 365))
            writer.writerow(
                [
                    f"{local.replace(chr(39), '')}{i}@{domain}.example.com",
                    first,
                    last,
                    rng.choice(TITLES),
                    company,
                    rng.choice(INDUSTRIES),
                    rng.choice(["", str(rng.randrange(1, 5000))]),
                    country,
                    city,
                    rng.choice(SOURCES),
                    rng.choice(CAMPAIGNS),
                    created.isoformat(),
                    f"+1-555-{rng.randrange(1000, 9999)}",
                ]
            )


def copy_baseline(db, path: Path) -> float:
    """Seconds to COPY the file into a staging table of text columns (one transaction)."""
    columns = ", ".join(f"{name} text" for name in HEADER)
    with db.connection() as conn:
        with conn.cursor() as cur:
            cur.execute(f"CREATE TABLE copy_baseline ({columns})")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur, open(path, encoding="utf-8") as fh:
            cur.copy_expert("COPY copy_baseline FROM STDIN WITH (FORMAT csv, HEADER true)", fh)
        conn.commit()
        elapsed = time.perf_counter() - started
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM copy_baseline")
            copied = cur.fetchone()[0]
            cur.execute("DROP TABLE copy_baseline")
        conn.commit()
    log(f"COPY baseline: {copied} rows in {elapsed:.2f}s")
    return elapsed


def insert_floor(db, path: Path, *, rows: int) -> tuple[float, float]:
    """Seconds for the least any import must do: the COPY table's rows, typed, into leads_lead
    (with its indexes) plus one history row each, set-based in one transaction. Emptied afterwards.

    Also, for scale, the same leads alone into leads_lead stripped of every index but
    its primary key and the two key indexes an upsert needs (dropped in a transaction
    that is rolled back): what the insert would cost with no index for the pool's
    pages, the queue, routing or the SLA sweeps.
    """
    with db.connection() as conn:
        with conn.cursor() as cur:
            cur.execute(f"CREATE TABLE floor_stage ({', '.join(f'{n} text' for n in HEADER)})")
        conn.commit()
        with conn.cursor() as cur, open(path, encoding="utf-8") as fh:
            cur.copy_expert("COPY floor_stage FROM STDIN WITH (FORMAT csv, HEADER true)", fh)
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur:
            cur.execute(FLOOR_SQL)
        conn.commit()
        elapsed = time.perf_counter() - started
        with conn.cursor() as cur:
            cur.execute("TRUNCATE leads_lead CASCADE")
        conn.commit()
        with conn.cursor() as cur:
            cur.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'leads_lead'"
                " AND indexname NOT IN ('leads_lead_pkey', 'lead_email_ci_unique', 'lead_external_id_unique')"
            )
            for (name,) in cur.fetchall():
                cur.execute(f'DROP INDEX "{name}"')
            started = time.perf_counter()
            cur.execute(FLOOR_LEADS_SQL)
            keys_only = time.perf_counter() - started
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("DROP TABLE floor_stage")
        conn.commit()
    log(f"insert floor: {rows} leads and history rows in {elapsed:.2f}s; leads alone, keys only {keys_only:.2f}s")
    return elapsed, keys_only


FLOOR_LEADS_SQL = """
  INSERT INTO leads_lead (
    email, first_name, last_name, title, company, industry, company_size, country, city, source, campaign,
    created_at, phone, external_id, annual_revenue, region, website, origin, rep_source_channel, status, team_id,
    owner_id, updated_at, lost_reason, touch_count, promotion_explanation, reject_reason,
    reject_note, recycled_count, attributes, needs_rescore)
  SELECT email, first_name, last_name, coalesce(title, ''), company, industry, nullif(company_size, '')::int,
    country, city, source, coalesce(campaign, ''), created_at::timestamptz, phone, NULL, NULL, '', '', 'marketing',
    '', 'nurture', NULL, NULL, now(), '', 0, '{}', '', '', 0, '{}', true
  FROM floor_stage
"""
FLOOR_SQL = f"""
WITH ins AS ({FLOOR_LEADS_SQL} RETURNING id, status)
INSERT INTO leads_leadhistory (lead_id, actor_id, action, field, old_value, new_value, note, data, created_at)
SELECT id, NULL, 'imported', 'status', '', status, 'Created by import', jsonb_build_object('line', id), now()
FROM ins
"""


def index_costs(db, path: Path) -> dict[str, float]:
    """Seconds each index of leads_lead adds to inserting the file's leads (best of 3).

    The leads go, as FLOOR_LEADS_SQL types them, into a copy of leads_lead holding its
    primary key and one of its indexes at a time (``pk_only`` holds no other); each
    figure is that insert's time less ``pk_only``'s. Everything runs in a transaction
    that is rolled back.
    """
    copy_sql = FLOOR_LEADS_SQL.replace("INSERT INTO leads_lead", "INSERT INTO index_cost")
    costs: dict[str, float] = {}
    with db.connection() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TEMPORARY TABLE floor_stage ({', '.join(f'{n} text' for n in HEADER)})")
        with open(path, encoding="utf-8") as fh:
            cur.copy_expert("COPY floor_stage FROM STDIN WITH (FORMAT csv, HEADER true)", fh)
        cur.execute("CREATE TABLE index_cost (LIKE leads_lead INCLUDING DEFAULTS INCLUDING IDENTITY)")
        cur.execute("ALTER TABLE index_cost ADD PRIMARY KEY (id)")
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'leads_lead'"
            " AND indexname <> 'leads_lead_pkey' ORDER BY indexname"
        )
        indexes = [("pk_only", None), *cur.fetchall()]

        def best_insert() -> float:
            times = []
            for _ in range(3):
                cur.execute("TRUNCATE index_cost")
                started = time.perf_counter()
                cur.execute(copy_sql)
                times.append(time.perf_counter() - started)
            return min(times)

        for name, definition in indexes:
            if definition:
                cur.execute(
                    definition.replace(f"INDEX {name} ON public.leads_lead", "INDEX index_cost_idx ON index_cost")
                    .replace(f"INDEX {name} ON leads_lead", "INDEX index_cost_idx ON index_cost")
                    .replace("leads_lead.", "index_cost.")
                )
            costs[name] = best_insert()
            if definition:
                cur.execute("DROP INDEX index_cost_idx")
        conn.rollback()
    base = costs.pop("pk_only")
    figures = {"pk_only": round(base, 3), **{name: round(max(t - base, 0.0), 3) for name, t in costs.items()}}
    log("index costs (s over pk_only): " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    return figures


def run_import(path: Path, *, chunk_size: int, label: str):
    from django.utils import timezone

    from leads.imports import CsvFile, Importer

    mapping = {"columns": {name: name for name in HEADER}, "values": {}, "options": {"key": "email"}}
    last_logged = [0.0]

    def progress(result) -> None:
        now = time.perf_counter()
        if now - last_logged[0] > 2 or result.processed == result.total:
            last_logged[0] = now
            log(f"{label}: {result.processed}/{result.total} rows")

    started = time.perf_counter()
    csv_file = CsvFile.from_path(path)
    result = Importer(
        csv_file=csv_file, mapping=mapping, actor=None, now=timezone.now(), chunk_size=chunk_size, on_chunk=progress
    ).run()
    elapsed = time.perf_counter() - started
    log(f"{label}: created {result.created}, updated {result.updated}, rejected {result.rejected} in {elapsed:.2f}s")
    return elapsed, result


def run_api(*, batches: int, seed: int) -> dict:
    from django.conf import settings
    from django.urls import reverse
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from accounts.models import Role
    from accounts.services import user_create
    from leads.models import EngagementEvent, EventKind, Lead

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    user = user_create(username="bench-marketer", password=None, role=Role.MARKETING)
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    url = reverse("api-events")

    rng = random.Random(seed + 1)
    emails = list(Lead.objects.order_by("id").values_list("email", flat=True)[:50000])
    kinds = list(EventKind.values)
    base = datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(days=1)
    payloads = []
    for b in range(batches):
        payloads.append(
            [
                {
                    "kind": rng.choice(kinds),
                    "occurred_at": (base + datetime.timedelta(seconds=rng.randrange(0, 80000))).isoformat(),
                    "email": rng.choice(emails),
                    "external_id": f"bench-{b}-{i}",
                    "properties": {"url": f"/page/{rng.randrange(50)}"},
                }
                for i in range(EVENTS_PER_BATCH)
            ]
        )
    # One warm-up batch outside the timing (first request imports and builds the API's serializers).
    warm = [dict(e, external_id=f"warm-{i}") for i, e in enumerate(payloads[0])]
    response = client.post(url, warm, format="json")
    if response.status_code not in (200, 201):
        raise SystemExit(f"POST {url} answered {response.status_code}: {response.content[:300]!r}")
    log(f"api warm-up: {json.dumps({k: v for k, v in response.json().items() if k != 'rejected'})}")

    started = time.perf_counter()
    stored = accepted = rejected = 0
    for n, batch in enumerate(payloads, start=1):
        response = client.post(url, batch, format="json")
        if response.status_code not in (200, 201):
            raise SystemExit(f"POST {url} answered {response.status_code}: {response.content[:300]!r}")
        body = response.json()
        stored += body["stored"]
        accepted += body["accepted"]
        rejected += len(body["rejected"])
        if n % 5 == 0 or n == len(payloads):
            log(f"api: {n}/{len(payloads)} batches")
    elapsed = time.perf_counter() - started
    events = batches * EVENTS_PER_BATCH
    log(f"api: {events} events in {elapsed:.2f}s ({events / elapsed:,.0f}/s)")
    in_table = EngagementEvent.objects.count()
    log(f"api: accepted {accepted}, stored {stored}, rejected {rejected}; in the table: {in_table}")
    return {
        "api_events": events,
        "api_accepted": accepted,
        "api_stored": stored,
        "api_rejected": rejected,
        "api_s": round(elapsed, 3),
        "api_events_per_s": events / elapsed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.intake", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--chunk-size", type=int, default=None, help="rows per import transaction")
    parser.add_argument("--api-batches", type=int, default=20, help=f"batches of {EVENTS_PER_BATCH} events")
    parser.add_argument("--keep-db", action="store_true", help="leave the benchmark database for inspection")
    parser.add_argument(
        "--index-costs", action="store_true", help="also measure what each index of leads_lead adds to the insert"
    )
    args = parser.parse_args(argv)

    # Scoring reacts to imported leads and events by enqueuing a rescore; no worker
    # consumes it here, so keep those messages in memory rather than in a shared Redis.
    os.environ.setdefault("TEST_CELERY_BROKER_URL", "memory://")

    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
        path = Path(tmp) / "leads.csv"
        started = time.perf_counter()
        generate_csv(path, rows=args.rows, seed=args.seed)
        log(f"generated {args.rows} rows ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f}s")

        with benchmark_database("intake", keep=args.keep_db) as db:
            from leads.imports.runner import CHUNK_SIZE

            chunk_size = args.chunk_size or CHUNK_SIZE
            baseline = copy_baseline(db, path)
            floor_s, keys_only_s = insert_floor(db, path, rows=args.rows)
            costs = index_costs(db, path) if args.index_costs else None
            import_s, first = run_import(path, chunk_size=chunk_size, label="import")
            reimport_s, second = run_import(path, chunk_size=chunk_size, label="re-import")
            api = run_api(batches=args.api_batches, seed=args.seed) if args.api_batches else {}

    figures = {
        "rows": args.rows,
        "import_s": round(import_s, 3),
        "copy_baseline_s": round(baseline, 3),
        "ratio": round(import_s / baseline, 2),
        "ratio_target": IMPORT_RATIO_TARGET,
        "insert_floor_s": round(floor_s, 3),
        "ratio_to_floor": round(import_s / floor_s, 2),
        # For scale: the leads alone into a lead table with only its key indexes.
        "insert_keys_only_s": round(keys_only_s, 3),
        "insert_keys_only_ratio_to_copy": round(keys_only_s / baseline, 2),
        "reimport_s": round(reimport_s, 3),
        "reimport_ratio": round(reimport_s / baseline, 2),
        "created": first.created,
        "updated": second.updated,
        "rejected": first.rejected + second.rejected,
        "chunk_size": chunk_size,
        "seed": args.seed,
        **{k: round(v) if k == "api_events_per_s" else v for k, v in api.items()},
        "api_events_per_s_target": API_EVENTS_PER_S_TARGET,
    }
    if costs is not None:
        figures["index_cost_s"] = costs
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
