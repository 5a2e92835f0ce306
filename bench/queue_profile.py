"""Where a queue page and a brief spend their server CPU: one process, no network.

    python -m bench.queue_profile --leads 200000 --users 50 --requests 300

Builds the same data as bench.queue (its own database), then serves the same
mix of queue pages and briefs straight through Django's WSGI handler, as a
gunicorn worker would (sessions in the cache, persistent connection), and
prints the CPU per request of each page and cProfile's top functions by
cumulative time to stderr. The last stdout line is one JSON object:
queue_cpu_ms, brief_cpu_ms (process CPU per request, warm) and, beside it,
sql_ms_per_request (wall time spent waiting on PostgreSQL), so a change can
be judged on the CPU it saves, not on a noisy wall clock.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import pstats
import random
import sys
import time

from bench._db import benchmark_database, configure_django, log, server_url, url_for_database


@contextlib.contextmanager
def _database(reuse: str | None):
    if not reuse:
        with benchmark_database("queue_profile") as db:
            yield db
        return
    configure_django(url_for_database(server_url(), reuse), migrate=False)
    yield None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--requests", type=int, default=300, help="of each page, measured")
    parser.add_argument("--top", type=int, default=40, help="functions printed per page")
    parser.add_argument(
        "--reuse", metavar="DBNAME", help="profile a database an earlier run kept (BENCH_KEEP_DB=1) as it is"
    )
    args = parser.parse_args(argv)

    with _database(args.reuse) as db:
        from accounts.models import Role, User
        from bench.queue import QUEUE_VARIANTS, create_people, generate_leads, make_sessions, rep_leads

        if not args.reuse:
            reps, _teams = create_people(users=args.users)
            generate_leads(db, leads=args.leads, reps=reps, queued=1000)
        reps = list(User.objects.filter(role=Role.REP).order_by("id"))
        cookies = make_sessions(reps)
        leads_by_rep = rep_leads(reps)

        from django.conf import settings
        from django.core.handlers.wsgi import WSGIHandler
        from django.db import connection, connections

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        connections["default"].settings_dict["CONN_MAX_AGE"] = 60
        handler = WSGIHandler()
        rng = random.Random(7)
        sql_time = [0.0]

        def timed_execute(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                sql_time[0] += time.perf_counter() - started

        def request(path: str, rep) -> None:
            path, _, query = path.partition("?")
            environ = {
                "REQUEST_METHOD": "GET",
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "SERVER_NAME": "testserver",
                "SERVER_PORT": "80",
                "HTTP_HOST": "testserver",
                "HTTP_COOKIE": f"{settings.SESSION_COOKIE_NAME}={cookies[rep.pk]}",
                "wsgi.input": io.BytesIO(b""),
                "wsgi.errors": sys.stderr,
                "wsgi.url_scheme": "http",
            }
            status = []
            body = b"".join(handler(environ, lambda s, h, *a: status.append(s)))
            assert status[0].startswith("200"), (path, status, body[:300])

        def pages(kind: str, n: int):
            for _ in range(n):
                rep = rng.choice(reps)
                if kind == "queue":
                    yield rng.choice(QUEUE_VARIANTS), rep
                else:
                    yield f"/leads/{rng.choice(leads_by_rep[rep.pk])}/brief/", rep

        result = {}
        for kind in ("queue", "brief"):
            for path, rep in pages(kind, 30):  # warm: templates compiled, caches filled
                request(path, rep)
            work = list(pages(kind, args.requests))
            sql_time[0] = 0.0
            with connection.execute_wrapper(timed_execute):
                cpu = time.process_time()
                for path, rep in work:
                    request(path, rep)
                cpu = time.process_time() - cpu
                sql = sql_time[0]
                profile = cProfile.Profile()
                profile.enable()
                for path, rep in work[:100]:
                    request(path, rep)
                profile.disable()
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.top)
            log(f"{kind}: {1000 * cpu / len(work):.2f} ms CPU per request\n{out.getvalue()}")
            result[f"{kind}_cpu_ms"] = round(1000 * cpu / len(work), 2)
            result[f"{kind}_sql_ms_per_request"] = round(1000 * sql / len(work), 2)
        print(json.dumps({"leads": args.leads, "users": args.users, "requests": args.requests, **result}))


if __name__ == "__main__":
    main()
