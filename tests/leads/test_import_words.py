"""Issue 15's words on the import pages: the start button counts the rows that will import,
and a finished import links to the leads it wrote (the pool filtered by the import)."""

import pytest
from django.urls import reverse

from leads.imports.services import import_job_run
from leads.models import ImportJob, Lead, Status
from tests.factories import LeadFactory
from tests.leads.test_import_views import WEBINAR, mapping_post, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_the_button_counts_the_rows_that_import_and_the_finished_job_links_to_its_leads(
    client, cast, django_capture_on_commit_callbacks
):
    LeadFactory(email="Ann@Acme.com", status=Status.NURTURE)
    LeadFactory(email="someone@else.io", status=Status.NURTURE)  # in the pool, not in this import
    client.force_login(cast.marketer)
    upload(client, WEBINAR)
    job = ImportJob.objects.get()
    client.post(reverse("leads:import_mapping", args=[job.pk]), mapping_post(job))
    preview = client.get(reverse("leads:import_preview", args=[job.pk]))
    rows = [row for row, _cells in preview.context["rows"]]
    valid = sum(1 for row in rows if not row.errors)
    html = preview.content.decode()
    assert (job.total_rows, valid) == (4, 2)
    assert ">Import 2 rows<" in html and "Import 4 rows" not in html
    assert "2 rows with errors are skipped." in html

    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("leads:import_start", args=[job.pk]))
    assert import_job_run(job_id=job.pk) == "done"
    detail = client.get(reverse("leads:import_detail", args=[job.pk])).content.decode()
    link = f"{reverse('leads:pool')}?import_job={job.pk}"
    assert f'href="{link}"' in detail and "See the 2 imported leads" in detail

    pool = client.get(link)
    expected = set(Lead.objects.filter(email__in=["Ann@Acme.com", "bob@beta.io"]).values_list("pk", flat=True))
    assert {lead.pk for lead in pool.context["leads"]} == expected
    assert "Showing the leads written by import" in pool.content.decode()
    assert {lead.pk for lead in client.get(f"{reverse('leads:pool')}?import_job=999999").context["leads"]} == set()
