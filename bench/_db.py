"""A fresh PostgreSQL database for one benchmark run, created and dropped by the run.

Every benchmark measures against its own database so it never reads or damages
anyone's data and starts from the same empty, migrated schema each time. Reuse it:

    from bench._db import benchmark_database

    def main() -> None:
        with benchmark_database("intake") as db:  # before importing any Django model
            from leads.models import Lead  # Django is set up and migrated here
            ...
            with db.connection() as conn:  # a raw psycopg2 connection, e.g. for COPY
                ...
        # the database is dropped here, also after an exception or Ctrl-C

What it does, in order:

1. Reads the server address from ``BENCH_DATABASE_URL``, else ``DATABASE_URL``, else
   ``postgres://postgres@127.0.0.1:5432/postgres`` (only host, port, user and password
   are used: the database name is always our own).
2. Creates ``bench_<name>_<pid>`` (the pid keeps two concurrent runs apart), dropping a
   leftover of the same name first.
3. Sets ``DJANGO_SETTINGS_MODULE=leadhandoff.settings.test`` and ``DATABASE_URL`` to the
   new database *before* ``django.setup()``, then runs ``migrate`` quietly.
   Log handlers writing to stdout are pointed at stderr.
4. On exit closes Django's connections and drops the database (``WITH (FORCE)``).

Django can be configured only once per process, so one process gets one benchmark
database. Progress goes to stderr; the benchmark prints its JSON figures to stdout.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"
SETTINGS_MODULE = "leadhandoff.settings.test"


def log(message: str) -> None:
    """One progress line to stderr (stdout is kept for the final JSON line)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def server_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_SERVER_URL


def url_for_database(url: str, dbname: str) -> str:
    """The same server address with another database name."""
    parts = urlsplit(url)
    scheme = "postgres" if parts.scheme in ("postgres", "postgresql", "pgsql") else parts.scheme
    if scheme != "postgres":
        raise SystemExit(f"benchmarks need PostgreSQL; DATABASE_URL scheme is {parts.scheme!r}")
    return urlunsplit((scheme, parts.netloc, "/" + dbname, parts.query, ""))


def _admin_connection(url: str):
    conn = psycopg2.connect(url_for_database(url, "postgres"))
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run inside a transaction
    return conn


def create_database(dbname: str, *, url: str | None = None) -> str:
    """Create (or re-create) an empty database; return its URL."""
    url = url or server_url()
    conn = _admin_connection(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    finally:
        conn.close()
    return url_for_database(url, dbname)


def drop_database(dbname: str, *, url: str | None = None) -> None:
    """Drop the database, ending any session still connected to it."""
    conn = _admin_connection(url or server_url())
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
    finally:
        conn.close()


def configure_django(database_url: str, *, migrate: bool = True) -> None:
    """Point Django at ``database_url`` (test settings), set it up and migrate."""
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    os.environ["DATABASE_URL"] = database_url
    import django
    from django.conf import settings

    if settings.configured and "default" in getattr(settings, "DATABASES", {}):
        configured = settings.DATABASES["default"].get("NAME")
        wanted = urlsplit(database_url).path.lstrip("/")
        if configured != wanted:
            raise RuntimeError(f"Django is already configured for database {configured!r}; one benchmark per process")
    django.setup()
    _log_to_stderr()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


def _log_to_stderr() -> None:
    """The project logs to stdout; a benchmark keeps stdout for its figures."""
    import logging

    for logger in (logging.getLogger(), *[logging.getLogger(n) for n in logging.root.manager.loggerDict]):
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
                handler.setStream(sys.stderr)


@dataclass(frozen=True)
class BenchmarkDatabase:
    name: str
    url: str

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg2.extensions.connection]:
        """A raw psycopg2 connection of its own (not Django's), closed afterwards."""
        conn = psycopg2.connect(self.url)
        try:
            yield conn
        finally:
            conn.close()


@contextlib.contextmanager
def benchmark_database(name: str, *, migrate: bool = True, keep: bool = False) -> Iterator[BenchmarkDatabase]:
    """Create ``bench_<name>_<pid>``, configure Django for it, yield, then drop it.

    ``keep=True`` (or ``BENCH_KEEP_DB=1``) leaves the database for inspection.
    """
    dbname = f"bench_{name}_{os.getpid()}"
    url = server_url()
    log(f"creating database {dbname}")
    db_url = create_database(dbname, url=url)
    try:
        configure_django(db_url, migrate=migrate)
        log(f"database {dbname} migrated")
        yield BenchmarkDatabase(name=dbname, url=db_url)
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if keep or os.environ.get("BENCH_KEEP_DB") == "1":
            log(f"keeping database {dbname}")
        else:
            drop_database(dbname, url=url)
            log(f"dropped database {dbname}")


def lead_defaults(connection, generated: tuple[str, ...]) -> tuple[list[str], list]:
    """Columns of Lead a generator's SELECT does not set (`generated`), with their model
    defaults, so a benchmark's set-based insert stays valid as fields are added."""
    from leads.models import Lead

    columns, params = [], []
    for f in Lead._meta.concrete_fields:
        if f.column in generated or f.primary_key:
            continue
        columns.append(f.column)
        params.append(f.get_db_prep_save(f.get_default(), connection) if f.has_default() or not f.null else None)
    return columns, params
