"""A marketer's CSV import in a real browser: upload, map, preview, run on a real Celery worker.

The file is what spreadsheets export in much of Europe: UTF-8 with a byte-order
mark, separated by semicolons, with "Select" left in an untouched picklist
column and one broken email. The journey checks what the marketer sees at each
step (guessed columns, the preview's row error, the progress bar reaching 100%
through htmx polling, the rejected rows file) and what was stored.
"""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from leads.models import ImportJob, Lead, Status
from tests.conftest import running_worker

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROWS = 30
BROKEN_LINE = 5


@pytest.fixture
def import_worker(settings, tmp_path):
    """The real worker, reading uploads from the same media folder as the live server."""
    settings.MEDIA_ROOT = tmp_path / "media"
    with running_worker(settings, log=tmp_path / "worker.log", MEDIA_ROOT=str(settings.MEDIA_ROOT)) as worker:
        yield worker


@pytest.fixture
def fair_export(tmp_path) -> Path:
    lines = ["E-mail;Company;Country;Industry"]
    lines += [f"visitor{i}@example.com;Acme {i};DE;{'Select' if i % 2 else 'Software'}" for i in range(ROWS)]
    lines.insert(BROKEN_LINE - 1, "not-an-email;Nobody;FR;Retail")  # within the preview's first rows
    path = tmp_path / "fair-2026.csv"
    path.write_text("\ufeff" + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def test_a_marketer_imports_a_semicolon_export_and_watches_it_finish(
    page: Page, login_as, cast, import_worker, fair_export, tmp_path
):
    login_as(page, "marketer")
    page.goto("/leads/imports/upload/")
    page.get_by_label("CSV file").set_input_files(fair_export)
    page.get_by_role("button", name="Upload and map columns").click()

    # Columns are guessed from the headers; "Select" is declared a placeholder for every column.
    expect(page.get_by_test_id("page-title")).to_have_text("Map the columns of fair-2026.csv")
    expect(page.get_by_label("E-mail", exact=True)).to_have_value("email")
    expect(page.get_by_label("Country", exact=True)).to_have_value("country")
    page.get_by_label("Value mapping").fill("*: Select -> ")
    page.get_by_role("button", name="Save mapping and preview").click()

    # The preview shows the broken row with its reason before anything is written.
    expect(page.get_by_test_id("page-title")).to_have_text("Preview of fair-2026.csv")
    expect(page.get_by_test_id("row-errors")).to_contain_text("“not-an-email” is not an email address")
    assert Lead.objects.count() == 0
    page.get_by_test_id("start-import").click()

    # The worker runs it; the page follows its progress without a reload by hand.
    progress = page.get_by_test_id("import-progress")
    expect(progress).to_contain_text("100%", timeout=60_000)
    expect(progress).to_contain_text(f"Created {ROWS} · updated 0 · rejected 1")
    rejected_row = page.get_by_test_id("rejections").get_by_role("row").nth(1).get_by_role("cell")
    expect(rejected_row).to_have_text([str(BROKEN_LINE), "", "column “E-mail”: “not-an-email” is not an email address"])

    with page.expect_download() as download:
        page.get_by_test_id("download-rejections").click()
    rejected = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "not-an-email" in rejected and "is not an email address" in rejected

    job = ImportJob.objects.get()
    assert (job.state, job.created_count, job.rejected_count) == (ImportJob.State.DONE, ROWS, 1)
    assert Lead.objects.filter(status=Status.NURTURE, country="DE").count() == ROWS
    assert not Lead.objects.filter(industry="Select").exists()
    assert Lead.objects.filter(industry="Software").count() == ROWS // 2
