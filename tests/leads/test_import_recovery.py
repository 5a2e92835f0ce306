"""An import whose worker is killed (SIGKILL) mid-run is resumed by the recovery beat task, every row once."""

import signal
import time

import pytest
from django.db import connection
from django.db.models import Count

from leadhandoff.celery import app
from leads.imports.services import import_job_create, import_job_start
from leads.models import ImportJob, Lead, LeadHistory
from tests.conftest import running_worker

ROWS = 60_000  # twelve chunks: long enough to catch the run mid-way


def poll(condition, timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def lock_held(job_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s",
            [ImportJob.lock_namespace, job_id],
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_import_whose_worker_is_killed_is_resumed_by_the_recovery_task_with_every_row_once(cast, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    data = ("email,name,stage\n" + "".join(f"lead{i}@example.com,Lead {i},Won\n" for i in range(ROWS))).encode()
    job = import_job_create(name="big.csv", data=data, actor=cast.marketer)
    job.mapping_snapshot = {"columns": {"email": "email", "name": "full_name", "stage": "stage"}}
    job.save()

    def mid_way() -> bool:
        job.refresh_from_db()
        return job.state == ImportJob.State.RUNNING and 0 < job.progress < 100

    with running_worker(settings, log=tmp_path / "first.log", MEDIA_ROOT=settings.MEDIA_ROOT) as first:
        assert import_job_start(job=job, actor=cast.marketer)
        assert poll(mid_way), (tmp_path / "first.log").read_text()
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(10)
    job.refresh_from_db()
    assert job.state == ImportJob.State.RUNNING  # left "running" by the dead worker
    assert 0 < Lead.objects.count() < ROWS
    # PostgreSQL releases the dead worker's lock once it notices the closed connection.
    assert poll(lambda: not lock_held(job.pk), timeout=30)

    with running_worker(
        settings, log=tmp_path / "second.log", MEDIA_ROOT=settings.MEDIA_ROOT, JOB_STALE_AFTER_SECONDS="0"
    ) as second:
        app.send_task("leadhandoff.jobs.jobs_recover")

        def finished() -> bool:
            return ImportJob.objects.filter(pk=job.pk, state__in=["done", "failed"]).exists()

        assert second.wait_for(finished, timeout=180), (tmp_path / "second.log").read_text()

    job.refresh_from_db()
    assert (job.state, job.error, job.attempts, job.progress) == (ImportJob.State.DONE, "", 2, 100)
    assert (job.processed_rows, job.rejected_count) == (ROWS, 0)
    assert Lead.objects.count() == ROWS
    assert Lead.objects.values("email").distinct().count() == ROWS
    per_lead = LeadHistory.objects.filter(data__import_job=job.pk).values("lead_id").annotate(n=Count("id")).order_by()
    assert len(per_lead) == ROWS
    assert {row["n"] for row in per_lead} == {1}
