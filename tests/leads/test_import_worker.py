"""A browser import run by a real Celery worker (a subprocess) through Redis."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leads.models import ImportJob, Lead, LeadHistory, Status
from tests.conftest import running_worker


def wait_for(condition, timeout=60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def import_worker(settings, media, tmp_path):
    """The real worker, reading uploads from the same media folder as this test."""
    with running_worker(settings, log=tmp_path / "worker.log", MEDIA_ROOT=str(media)) as worker:
        yield worker.proc


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_started_import_is_run_by_the_worker_and_the_page_shows_it_done(cast, client, import_worker, tmp_path):
    client.force_login(cast.marketer)
    rows = "".join(f"lead{i}@example.com,Lead {i},Won\n" for i in range(250))
    data = ("email,name,stage\n" + rows + "broken,Nobody,Won\n").encode()
    response = client.post(
        reverse("leads:import_upload"), {"file": SimpleUploadedFile("history.csv", data, "text/csv")}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    client.post(
        reverse("leads:import_mapping", args=[job.pk]),
        {"col_0": "email", "col_1": "full_name", "col_2": "stage", "values": ""},
    )
    response = client.post(reverse("leads:import_start", args=[job.pk]))
    assert response.status_code == 302

    def finished():
        return ImportJob.objects.filter(pk=job.pk, state__in=["done", "failed"]).exists()

    assert wait_for(finished), (tmp_path / "worker.log").read_text()
    job.refresh_from_db()
    assert (job.state, job.error) == (ImportJob.State.DONE, "")
    assert (job.processed_rows, job.created_count, job.rejected_count) == (251, 250, 1)
    assert job.rejections == [{"line": 252, "reason": "column “email”: “broken” is not an email address", "key": ""}]
    assert Lead.objects.filter(status=Status.WON).count() == 250
    assert LeadHistory.objects.filter(data__import_job=job.pk).count() == 250

    response = client.get(reverse("leads:import_detail", args=[job.pk]))
    assert b"100%" in response.content
    assert b"Created 250" in response.content
