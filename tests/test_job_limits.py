"""Statistics after bulk writes and a time limit on every job query (leadhandoff.jobs,
leadhandoff.sql.tables_analyze): a bad plan fails its job with the reason instead
of holding a core for an hour, and a preview after a bulk write is planned on the
data just written."""

import datetime

import psycopg2
import pytest
from django.db import OperationalError, connection, transaction

from accounts.models import User
from demo.seed import demo_seed
from leadhandoff import sql as frame_sql
from leadhandoff.jobs import job_failure, job_lock, job_timed_out
from leads.imports.services import import_job_create, import_job_run
from leads.models import ImportJob, Lead
from scoring import services
from scoring.models import DefinitionVersion, Preview
from scoring.preview import preview_build
from tests.scoring.test_preview import NOW, versions  # noqa: F401 - the fixture

SEED_TODAY = datetime.date(2025, 6, 30)
SEED_NOW = datetime.datetime(2025, 6, 30, 15, 30, tzinfo=datetime.UTC)


def _statement_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


def _reltuples(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_job_runs_its_queries_under_the_statement_timeout_and_a_query_past_it_is_stopped(settings):
    settings.JOB_STATEMENT_TIMEOUT_SECONDS = 0.05
    before = _statement_timeout()
    with job_lock(Preview, 424242) as got:
        assert got
        assert _statement_timeout() == "50ms"
        with pytest.raises(OperationalError) as stopped, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(2)")
    assert job_timed_out(stopped.value)
    message, retry = job_failure(stopped.value, message="unused")
    assert not retry  # the same plan would run out of time again
    assert "longer than 0.05 s" in message and "JOB_STATEMENT_TIMEOUT_SECONDS" in message
    assert _statement_timeout() == before  # the web's own queries are not limited by a job's setting


def test_any_other_failure_keeps_its_message_and_is_retried():
    assert job_failure(RuntimeError("boom"), message="RuntimeError: boom") == ("RuntimeError: boom", True)


@pytest.mark.django_db(transaction=True)
def test_a_preview_whose_query_runs_out_of_time_fails_at_once_with_the_reason(versions, cast, settings):  # noqa: F811
    _, proposed = versions
    requested = services.preview_request(version=proposed, actor=cast.marketer, now=NOW)
    settings.JOB_STATEMENT_TIMEOUT_SECONDS = 0.5
    # Another session holds the lead table: the preview's scan waits, and the
    # statement timeout stops it (deterministic, unlike a slow plan).
    db = connection.settings_dict
    blocker = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"] or None, port=db["PORT"] or None, password=db["PASSWORD"]
    )
    try:
        with blocker.cursor() as cursor:
            cursor.execute("LOCK TABLE leads_lead IN ACCESS EXCLUSIVE MODE")
        preview = preview_build(preview_id=requested.pk, now=NOW)
    finally:
        blocker.rollback()
        blocker.close()
    assert preview.state == Preview.State.FAILED  # first run: not retried
    assert preview.attempts == 1
    assert "ran longer than 0.5 s" in preview.error


@pytest.mark.django_db
def test_the_demo_seed_analyzes_what_it_wrote_and_a_preview_on_it_finishes(settings):
    demo_seed(leads=300, seed=7, today=SEED_TODAY, now=SEED_NOW, log=lambda message: None)
    for table in ("leads_lead", "leads_leadhistory", "leads_engagementevent"):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
            count = cursor.fetchone()[0]
        # ANALYZE of a small table reads every row: the planner knows today's size.
        assert count > 0 and _reltuples(table) == count, table
    active = DefinitionVersion.objects.get(state=DefinitionVersion.State.ACTIVE)
    marketer = User.objects.get(username="marketer")
    draft = services.version_copy_as_draft(version=active, actor=marketer, now=SEED_NOW)
    settings.JOB_STATEMENT_TIMEOUT_SECONDS = 30
    requested = services.preview_request(version=draft, actor=marketer, now=SEED_NOW)
    assert preview_build(preview_id=requested.pk, now=SEED_NOW).state == Preview.State.DONE


@pytest.mark.django_db
def test_an_import_analyzes_the_lead_table_once_it_wrote_enough_rows(cast, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = str(tmp_path)
    monkeypatch.setattr(frame_sql, "ANALYZE_AFTER_ROWS", 3)
    rows = "".join(f"l{i}@x.com\n" for i in range(5))
    job = import_job_create(name="list.csv", data=("email\n" + rows).encode(), actor=cast.marketer)
    job.mapping_snapshot = {"columns": {"email": "email"}}
    job.state = ImportJob.State.QUEUED
    job.save()
    assert import_job_run(job_id=job.pk) == "done"
    assert _reltuples("leads_lead") == Lead.objects.count() == 5
