"""The intake benchmark's pieces that can run inside the test suite (bench.intake, bench._db)."""

import contextlib
import hashlib
import os

import psycopg2
from django.db import connection
from django.utils import timezone

from bench import _db
from bench.intake import HEADER, generate_csv, index_costs
from leads.imports import CsvFile, Importer
from leads.models import Lead


def test_the_benchmark_file_is_the_same_for_the_same_seed_and_imports_without_rejections(db, tmp_path):
    first, second, other = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    generate_csv(first, rows=300, seed=7)
    generate_csv(second, rows=300, seed=7)
    generate_csv(other, rows=300, seed=8)
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (first, second, other)]
    assert digest[0] == digest[1] != digest[2]

    mapping = {"columns": {name: name for name in HEADER}, "options": {"key": "email"}}
    result = Importer(csv_file=CsvFile.from_path(first), mapping=mapping, actor=None, now=timezone.now()).run()
    assert (result.created, result.rejected) == (300, 0)
    assert Lead.objects.count() == 300


def test_the_benchmark_database_helper_creates_and_drops_a_database_of_its_own():
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/postgres"
    name = f"bench_helper_test_{os.getpid()}"
    db_url = _db.create_database(name, url=url)
    assert db_url.endswith(f"/{name}")
    try:
        with psycopg2.connect(db_url) as conn, conn.cursor() as cur:
            cur.execute("SELECT current_database()")
            assert cur.fetchone()[0] == name
        conn.close()
    finally:
        _db.drop_database(name, url=url)
    admin = psycopg2.connect(_db.url_for_database(url, "postgres"))
    with admin.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name])
        assert cur.fetchone()[0] == 0
    admin.close()


class _BenchDb:
    """bench._db's handle on this test database: raw psycopg2 connections."""

    def __init__(self, url: str):
        self.url = url

    def connection(self):
        return contextlib.closing(psycopg2.connect(self.url))


def test_index_costs_names_every_index_of_the_lead_table_and_leaves_nothing_behind(db, tmp_path):
    settings = connection.settings_dict
    bench_db = _BenchDb(f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}")
    path = tmp_path / "leads.csv"
    generate_csv(path, rows=200, seed=7)

    costs = index_costs(bench_db, path)

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'leads_lead'")
        indexes = {name for (name,) in cursor.fetchall()} - {"leads_lead_pkey"}
        cursor.execute("SELECT to_regclass('index_cost')")
        assert cursor.fetchone()[0] is None  # rolled back
    assert set(costs) == indexes | {"pk_only"}
    assert all(seconds >= 0 for seconds in costs.values()) and costs["pk_only"] > 0
