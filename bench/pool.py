"""Pool benchmark: marketing's nurture pool page at a million leads, against hand-written SQL.

    python -m bench.pool --leads 1000000 --events 1000000

In its own PostgreSQL database (bench._db) it generates the pool as bench.scoring
does (SQL generate_series), scores it with the product's full rescore, and then
renders the pool page (leads.pool.views.pool, through Django's test client as a
marketer) for each of a set of common requests: the default list, filters, a word
search (a rare and a common word), the sorts and a deep page; then the REST API's
lead list, by default and by score (api_*). Each is rendered
--repeat times after one warm-up; the figure is the median in milliseconds.

Baselines, same run: the default page and the rare-word search written by hand
(count + first page, straight on the database cursor), the floor each page
cannot beat; the JSON gives the page's median as a ratio to it.

Progress goes to stderr; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from bench._db import benchmark_database, log

CASES = {
    "default": {},
    "country": {"country": "US"},
    "score_band": {"score_band": "75plus"},
    "search_rare": {"q": "lead123457"},
    "search_common": {"q": "acme"},
    "sort_activity_desc": {"sort": "-activity"},
    "sort_activity_asc": {"sort": "activity"},
    "sort_score_desc": {"sort": "-score"},
    "deep_page": {"page": "200"},
}
# The REST API's lead list (/api/v1/leads/, 50 a page) for the same marketer: every lead, not only the pool.
API_CASES = {
    "api_default": {},
    "api_sort_score_desc": {"ordering": "-score"},
    # For scale: "-score,-id" is not read in two parts (leads.pool.selectors.LeadsInScoreOrder):
    # one ORDER BY over every lead joined to its score, as "-score" was read before.
    "api_sort_score_one_order_by": {"ordering": "-score,-id"},
}

# The pages' reads written by hand: count + first page of 50.
BASELINE_DEFAULT = (
    "SELECT count(*) FROM leads_lead WHERE status = 'nurture';"
    " SELECT l.id, l.email, l.first_name, l.last_name, l.company, s.total, s.passes_gates"
    " FROM leads_lead l LEFT JOIN leads_leadscore s ON s.lead_id = l.id WHERE l.status = 'nurture'"
    " ORDER BY l.created_at DESC, l.id DESC LIMIT 50"
)
_SEARCH = (
    "upper((l.first_name || ' ' || l.last_name || ' ' || coalesce(l.email, '') || ' ' || l.company"
    " || ' ' || coalesce(l.external_id, ''))::text) LIKE '%LEAD123457%'"
)
BASELINE_SEARCH = (
    f"SELECT count(*) FROM leads_lead l WHERE l.status = 'nurture' AND {_SEARCH};"  # noqa: S608 - fixed text
    " SELECT l.id, l.email, l.first_name, l.last_name, l.company, s.total, s.passes_gates"
    f" FROM leads_lead l LEFT JOIN leads_leadscore s ON s.lead_id = l.id WHERE l.status = 'nurture' AND {_SEARCH}"
    " ORDER BY l.created_at DESC, l.id DESC LIMIT 50"
)


def _median_ms(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="renders per case after a warm-up")
    args = parser.parse_args()

    with benchmark_database("pool"):
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext
        from django.urls import reverse

        from accounts.models import Role, User
        from accounts.services import user_set_role
        from bench.scoring import NOW, generate
        from scoring.scoring import rescore_and_promote

        started = time.perf_counter()
        generate(leads=args.leads, events=args.events)
        rescore_and_promote(now=NOW)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("SELECT count(*) FROM leads_lead WHERE status = 'nurture'")
            pool_size = cursor.fetchone()[0]
        elapsed = time.perf_counter() - started
        log(f"{args.leads:,} leads ({pool_size:,} in the pool) generated and scored in {elapsed:.1f}s")

        marketer = User.objects.create_user(username="bench-marketer", password="x", role=Role.MARKETING)  # noqa: S106
        user_set_role(user=marketer, role=Role.MARKETING)
        client = Client(SERVER_NAME="localhost")
        client.force_login(marketer)
        url = reverse("leads:pool")

        api_url = reverse("api-leads")

        figures: dict[str, object] = {"benchmark": "pool", "leads": args.leads, "pool_leads": pool_size}
        cases = [(name, url, params) for name, params in CASES.items()]
        cases += [(name, api_url, params) for name, params in API_CASES.items()]
        for name, case_url, params in cases:

            def render(case_url=case_url, params=params) -> None:
                response = client.get(case_url, params)
                if response.status_code != 200:
                    raise RuntimeError(f"{case_url} answered {response.status_code} for {params}")

            figures[f"{name}_ms"] = _median_ms(render, args.repeat)
            with CaptureQueriesContext(connection) as queries:
                render()
            figures[f"{name}_queries"] = len(queries)
            log(f"{name}: {figures[f'{name}_ms']} ms, {len(queries)} queries")

        def run_sql(sql: str) -> None:
            with connection.cursor() as cursor:
                for statement in sql.split(";"):
                    cursor.execute(statement)
                    cursor.fetchall()

        figures["sql_default_ms"] = _median_ms(lambda: run_sql(BASELINE_DEFAULT), args.repeat)
        figures["sql_search_rare_ms"] = _median_ms(lambda: run_sql(BASELINE_SEARCH), args.repeat)
        figures["default_to_sql_ratio"] = round(figures["default_ms"] / max(figures["sql_default_ms"], 0.1), 1)
        figures["search_rare_to_sql_ratio"] = round(
            figures["search_rare_ms"] / max(figures["sql_search_rare_ms"], 0.1), 1
        )
        figures["api_score_sort_speedup"] = round(
            figures["api_sort_score_one_order_by_ms"] / max(figures["api_sort_score_desc_ms"], 0.1), 1
        )
        log(f"hand-written SQL: default {figures['sql_default_ms']} ms, rare search {figures['sql_search_rare_ms']} ms")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
