"""The shared job model (leadhandoff.jobs), through its first user, the import job.

Claimed once however often or wherever it runs; a run whose worker died is
queued again by the recovery beat task once its heartbeat stopped, and failed
with a message after three runs; the import page offers "Run again".
"""

import datetime
import threading

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from leadhandoff.jobs import MAX_ATTEMPTS, job_claim, job_lock, jobs_recover
from leads.imports.services import import_job_create, import_job_run
from leads.models import EventImportJob, ImportJob, Lead

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def queued_job(cast) -> ImportJob:
    job = import_job_create(name="list.csv", data=b"email\na@x.com\nb@x.com\n", actor=cast.marketer)
    job.mapping_snapshot = {"columns": {"email": "email"}}
    job.state = ImportJob.State.QUEUED
    job.save()
    return job


def dead_run(job: ImportJob, *, attempts: int = 1) -> None:
    """What a worker killed mid-run leaves: "running", a heartbeat, and no lock held."""
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.RUNNING, started_at=T0, heartbeat_at=T0, attempts=attempts, progress=40
    )


def test_a_claim_succeeds_once(cast):
    job = queued_job(cast)
    with job_lock(ImportJob, job.pk) as got:
        assert got
        assert job_claim(ImportJob, job.pk, now=T0)
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.DONE)
    with job_lock(ImportJob, job.pk):
        assert not job_claim(ImportJob, job.pk, now=T0)  # done: nothing to claim
    job.refresh_from_db()
    assert (job.attempts, job.started_at, job.heartbeat_at) == (1, T0, T0)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_import_once(cast):
    job = queued_job(cast)
    start = threading.Barrier(2)
    results = []

    def worker():
        start.wait(10)
        try:
            results.append(import_job_run(job_id=job.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) in (["busy", "done"], ["done", "skipped"])
    job.refresh_from_db()
    assert (job.state, job.attempts, job.created_count) == (ImportJob.State.DONE, 1, 2)
    assert Lead.objects.count() == 2


def test_recovery_waits_for_the_heartbeat_to_go_stale_then_queues_the_dead_run_again(
    cast, settings, django_capture_on_commit_callbacks
):
    settings.JOB_STALE_AFTER_SECONDS = 120
    job = queued_job(cast)
    dead_run(job)
    with (
        time_machine.travel(T0 + datetime.timedelta(seconds=119), tick=False),
        django_capture_on_commit_callbacks(execute=False) as callbacks,
    ):
        assert jobs_recover(now=timezone.now()) == {"requeued": 0, "failed": 0}
    assert callbacks == []
    with (
        time_machine.travel(T0 + datetime.timedelta(seconds=121), tick=False),
        django_capture_on_commit_callbacks(execute=False) as callbacks,
    ):
        assert jobs_recover(now=timezone.now()) == {"requeued": 1, "failed": 0}
    assert len(callbacks) == 1  # its task, sent again
    job.refresh_from_db()
    assert job.state == ImportJob.State.QUEUED

    assert import_job_run(job_id=job.pk) == "done"  # the resent task finishes it
    job.refresh_from_db()
    assert (job.state, job.attempts, job.progress, job.created_count) == (ImportJob.State.DONE, 2, 100, 2)


def test_recovery_leaves_a_slow_run_alone_while_its_worker_holds_the_lock(cast, settings):
    settings.JOB_STALE_AFTER_SECONDS = 120
    job = queued_job(cast)
    dead_run(job)
    held, release = threading.Event(), threading.Event()

    def live_worker():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [ImportJob.lock_namespace, job.pk])
            held.set()
            release.wait(10)
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ImportJob.lock_namespace, job.pk])
        connection.close()

    thread = threading.Thread(target=live_worker)
    thread.start()
    try:
        held.wait(10)
        assert jobs_recover(now=T0 + datetime.timedelta(hours=1)) == {"requeued": 0, "failed": 0}
    finally:
        release.set()
        thread.join()
    job.refresh_from_db()
    assert job.state == ImportJob.State.RUNNING


def test_a_run_that_died_three_times_is_failed_with_a_message(cast, settings):
    settings.JOB_STALE_AFTER_SECONDS = 120
    job = queued_job(cast)
    dead_run(job, attempts=MAX_ATTEMPTS)
    with time_machine.travel(T0 + datetime.timedelta(minutes=5), tick=False):
        assert jobs_recover(now=timezone.now()) == {"requeued": 0, "failed": 1}
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED
    assert job.finished_at == T0 + datetime.timedelta(minutes=5)
    assert "stopped 3 times" in job.error


def test_a_failed_import_shows_its_error_and_run_again_queues_it_with_fresh_attempts(
    client, cast, settings, django_capture_on_commit_callbacks
):
    job = queued_job(cast)
    dead_run(job, attempts=MAX_ATTEMPTS)
    jobs_recover(now=T0 + datetime.timedelta(hours=1))
    client.force_login(cast.marketer)
    page = client.get(reverse("leads:import_detail", args=[job.pk])).content.decode()
    assert 'data-testid="job-error"' in page and "stopped 3 times" in page
    assert 'data-testid="run-again"' in page and ">Run again<" in page

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("leads:import_start", args=[job.pk]))
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert (job.state, job.attempts, job.error, job.progress) == (ImportJob.State.QUEUED, 0, "", 0)
    assert import_job_run(job_id=job.pk) == "done"


def test_recovery_covers_every_job_that_has_a_task():
    from leadhandoff.jobs import job_models
    from reports.models import Analysis, ComparisonReport
    from scoring.models import PoolRescore, Preview

    assert {m: m.task_name for m in job_models()} == {
        ImportJob: "leads.tasks.import_run",
        Preview: "scoring.tasks.definition_preview_build",
        PoolRescore: "scoring.tasks.rescore_pool",
        ComparisonReport: "reports.tasks.comparison_report_build",
        EventImportJob: "leads.tasks.event_import_run",
        Analysis: "reports.tasks.analysis_build",
    }
    assert len({m.lock_namespace for m in job_models()}) == 6  # no two jobs share a lock
