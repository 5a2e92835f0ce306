"""The browser import through the Django test client: upload, map, preview, start, progress, rejections."""

import csv
import io
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from leads.imports.services import import_job_create, import_job_run
from leads.models import ImportJob, ImportMapping, Lead, Status
from tests.factories import LeadFactory

WEBINAR = (
    "\ufeffE-mail;First Name;Company;City;Lead Stage\r\n"
    "ann@acme.com;Ann;Acme;Select;Won\r\n"
    "bob@beta.io;Bob;Beta;Oslo;Prospect\r\n"
    "not-an-email;Cy;Gamma;Rome;Prospect\r\n"
    "ANN@acme.com;Annie;Acme 2;Paris;Prospect\r\n"
).encode()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def marketer_client(client, cast):
    client.force_login(cast.marketer)
    return client


def upload(client, data: bytes, name: str = "webinar.csv"):
    return client.post(reverse("leads:import_upload"), {"file": SimpleUploadedFile(name, data, "text/csv")})


def mapping_post(job, **overrides):
    data = {
        "col_0": "email",
        "col_1": "first_name",
        "col_2": "company",
        "col_3": "city",
        "col_4": "",
        "values": "*: Select ->",
        "key": "",
        "team": "",
        "date_format": "",
        "default_source": "Webinar",
        "save_as": "",
    }
    data.update(overrides)
    return data


def test_a_marketer_imports_a_file_from_upload_to_rejections_and_can_run_it_again(
    marketer_client, cast, django_capture_on_commit_callbacks
):
    existing = LeadFactory(email="Ann@Acme.com", first_name="Old", company="Acme Old", city="Berlin")

    # 1. Upload: the whole file is checked and kept as a job.
    response = upload(marketer_client, WEBINAR)
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:import_mapping", args=[job.pk])
    assert (job.total_rows, job.state, job.created_by) == (4, ImportJob.State.UPLOADED, cast.marketer)

    # 2. Mapping: guessed from the header, with a value map proposed for "Select".
    response = marketer_client.get(reverse("leads:import_mapping", args=[job.pk]))
    assert response.status_code == 200
    form = response.context["form"]
    assert [form[f"col_{i}"].value() for i in range(5)] == ["email", "first_name", "company", "city", "stage"]
    assert "*: Select ->" in form["values"].value()
    assert b"ann@acme.com, bob@beta.io" in response.content  # sample values beside each column

    response = marketer_client.post(
        reverse("leads:import_mapping", args=[job.pk]), mapping_post(job, save_as="Webinar list")
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.mapping_snapshot["columns"] == {
        "E-mail": "email",
        "First Name": "first_name",
        "Company": "company",
        "City": "city",
    }
    assert job.mapping == ImportMapping.objects.get(name="Webinar list")

    # 3. Preview: the first rows with their errors; nothing written yet.
    response = marketer_client.get(reverse("leads:import_preview", args=[job.pk]))
    assert response.status_code == 200
    rows = {row.line: row for row, _cells in response.context["rows"]}
    assert (rows[2].action, rows[3].action) == ("update", "create")
    assert "not an email address" in rows[4].errors[0]
    # The run's own words (runner.key_duplicate): the preview and the rejection report agree.
    assert rows[5].errors == ["duplicate: same email as line 2 (first row kept)"]
    assert Lead.objects.count() == 1

    # 4. Start: queued after commit, run by the worker (here: the task's service, directly).
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = marketer_client.post(reverse("leads:import_start", args=[job.pk]))
    assert response["Location"] == reverse("leads:import_detail", args=[job.pk])
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.state == ImportJob.State.QUEUED
    assert import_job_run(job_id=job.pk) == "done"

    job.refresh_from_db()
    assert (job.state, job.processed_rows, job.created_count, job.updated_count, job.rejected_count) == (
        ImportJob.State.DONE,
        4,
        1,
        1,
        2,
    )
    existing.refresh_from_db()
    assert (existing.first_name, existing.company, existing.city) == ("Ann", "Acme", "Berlin")  # Select = empty
    bob = Lead.objects.get(email="bob@beta.io")
    assert (bob.status, bob.source, bob.city) == (Status.NURTURE, "Webinar", "Oslo")

    # 5. The detail page and the finished progress bar (no more polling).
    response = marketer_client.get(reverse("leads:import_detail", args=[job.pk]))
    assert response.status_code == 200
    assert b"Download rejected rows" in response.content
    response = marketer_client.get(reverse("leads:import_progress", args=[job.pk]))
    assert b"100%" in response.content and b"hx-trigger" not in response.content

    # 6. Rejections as CSV: line, reason and the row as it was.
    response = marketer_client.get(reverse("leads:import_rejections", args=[job.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="import-' in response["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0] == ["line", "reason", "E-mail", "First Name", "Company", "City", "Lead Stage"]
    assert table[1][:3] == ["4", "column “E-mail”: “not-an-email” is not an email address", "not-an-email"]
    assert table[2][:2] == ["5", "duplicate: same email as line 2 (first row kept)"]

    # 7. Run again: the same leads are updated, nothing is duplicated.
    with django_capture_on_commit_callbacks(execute=False):
        marketer_client.post(reverse("leads:import_start", args=[job.pk]))
    assert import_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    assert (job.created_count, job.updated_count, job.rejected_count) == (0, 2, 2)
    assert Lead.objects.count() == 2


def test_a_saved_mapping_can_be_picked_for_the_next_file(marketer_client):
    saved = ImportMapping.objects.create(
        name="CRM", columns={"First Name": "first_name", "E-mail": "email"}, values={}, options={"key": "email"}
    )
    upload(marketer_client, WEBINAR)
    job = ImportJob.objects.get()
    response = marketer_client.get(reverse("leads:import_mapping", args=[job.pk]), {"mapping": saved.pk})
    form = response.context["form"]
    assert [form[f"col_{i}"].value() for i in range(5)] == ["email", "first_name", "", "", ""]
    assert form["key"].value() == "email"


def test_the_progress_bar_polls_while_the_job_runs_and_reloads_the_page_when_it_ends(marketer_client):
    upload(marketer_client, WEBINAR)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.RUNNING, processed_rows=2, progress=50)
    url = reverse("leads:import_progress", args=[job.pk])
    response = marketer_client.get(url, headers={"HX-Request": "true"})
    assert b'hx-trigger="every 1s"' in response.content
    assert b"50%" in response.content
    assert "HX-Refresh" not in response

    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.DONE, processed_rows=4)
    response = marketer_client.get(url, headers={"HX-Request": "true"})
    assert response["HX-Refresh"] == "true"
    assert b"hx-trigger" not in response.content


def test_the_import_list_makes_a_fixed_number_of_queries(marketer_client, cast, django_assert_max_num_queries):
    for n in range(15):
        import_job_create(name=f"file{n}.csv", data=b"email\na@x.com\n", actor=cast.marketer)
    with django_assert_max_num_queries(6):
        response = marketer_client.get(reverse("leads:import_list"))
    assert response.status_code == 200
    assert len(response.context["jobs"]) == 15


# --- Bad input: a clear error, nothing stored changes ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("latin1.csv", "email,city\nb@x.com,Malmö\n".encode("latin-1"), "is not UTF-8 text: byte 0xF6 on line 2"),
        ("book.csv", b"PK\x03\x04\x14\x00\x06\x00\x08\x00binary", "looks like an Excel workbook"),
        ("book.xlsx", b"email\na@x.com\n", "is not a CSV file: choose a .csv file"),
        ("empty.csv", b"", "The submitted file is empty."),
        ("header-only.csv", b"email,name\n", "has a header line but no rows"),
        ("ragged.csv", b'email,name\na@x.com,"unclosed\n', "is not valid CSV"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_on_the_upload_page(marketer_client, name, data, message):
    lead = LeadFactory(email="keep@x.com", company="Kept")
    response = upload(marketer_client, data, name=name)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["file"])
    assert message.encode() in response.content or message.replace("“", "&ldquo;").encode() in response.content
    assert not ImportJob.objects.exists()
    lead.refresh_from_db()
    assert (Lead.objects.count(), lead.company) == (1, "Kept")


def test_an_oversized_file_is_refused_with_the_limit(marketer_client, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1024
    response = upload(marketer_client, b"email\n" + b"someone@example.com\n" * 100)
    assert response.status_code == 400
    assert "the largest file you can import is 0.0 MB" in response.context["form"].errors["file"][0]
    assert not ImportJob.objects.exists()


def test_a_mapping_without_a_key_column_is_refused_and_the_job_keeps_no_mapping(marketer_client):
    upload(marketer_client, WEBINAR)
    job = ImportJob.objects.get()
    response = marketer_client.post(
        reverse("leads:import_mapping", args=[job.pk]), mapping_post(job, col_0="", col_1="full_name")
    )
    assert response.status_code == 400
    assert "No key column: map a column to Email or External id" in response.content.decode()
    job.refresh_from_db()
    assert job.mapping_snapshot == {}
    response = marketer_client.post(reverse("leads:import_start", args=[job.pk]))
    assert response["Location"] == reverse("leads:import_mapping", args=[job.pk])
    job.refresh_from_db()
    assert job.state == ImportJob.State.UPLOADED


def test_a_column_mapped_twice_or_a_bad_value_map_line_is_refused(marketer_client):
    upload(marketer_client, WEBINAR)
    job = ImportJob.objects.get()
    url = reverse("leads:import_mapping", args=[job.pk])
    response = marketer_client.post(url, mapping_post(job, col_1="email"))
    assert "is mapped from two columns" in response.content.decode()
    response = marketer_client.post(url, mapping_post(job, values="stage Won won"))
    assert response.status_code == 400
    assert "Line 1: write it as" in response.context["form"].errors["values"][0]


def test_preview_shows_an_unknown_stage_as_a_row_error(marketer_client):
    upload(marketer_client, WEBINAR)
    job = ImportJob.objects.get()
    marketer_client.post(reverse("leads:import_mapping", args=[job.pk]), mapping_post(job, col_4="stage", values=""))
    response = marketer_client.get(reverse("leads:import_preview", args=[job.pk]))
    rows = {row.line: row for row, _cells in response.context["rows"]}
    assert rows[2].errors == [] and rows[2].status == Status.WON
    assert "“Prospect” is not a stage" in rows[3].errors[0]
    assert response.context["error_count"] == 3


# --- Running a job: claimed once ---------------------------------------------------------------


def _mapped_job(cast, data: bytes = b"email\na@x.com\nb@x.com\n") -> ImportJob:
    job = import_job_create(name="list.csv", data=data, actor=cast.marketer)
    job.mapping_snapshot = {"columns": {"email": "email"}}
    job.state = ImportJob.State.QUEUED
    job.save()
    return job


def test_running_a_job_twice_imports_once(cast):
    job = _mapped_job(cast)
    assert import_job_run(job_id=job.pk) == "done"
    assert import_job_run(job_id=job.pk) == "skipped"
    job.refresh_from_db()
    assert (job.created_count, job.updated_count) == (2, 0)
    assert Lead.objects.count() == 2


def test_a_job_another_worker_holds_is_left_alone(cast):
    job = _mapped_job(cast)
    held, release = threading.Event(), threading.Event()

    def other_worker():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [ImportJob.lock_namespace, job.pk])
            held.set()
            release.wait(10)
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ImportJob.lock_namespace, job.pk])
        connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        held.wait(10)
        assert import_job_run(job_id=job.pk) == "busy"
    finally:
        release.set()
        thread.join()
    assert not Lead.objects.exists()
    job.refresh_from_db()
    assert job.state == ImportJob.State.QUEUED


def test_a_job_left_running_by_a_dead_worker_is_taken_over(cast):
    job = _mapped_job(cast)
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.RUNNING, processed_rows=1)
    assert import_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    assert (job.state, job.processed_rows, job.created_count) == (ImportJob.State.DONE, 2, 2)


def test_a_job_whose_import_stops_is_failed_with_a_message_and_can_run_again(cast, media):
    job = _mapped_job(cast)
    job.file.storage.delete(job.file.name)
    # Each run is an attempt; a job that stops three times is failed with its message.
    assert [import_job_run(job_id=job.pk) for _ in range(3)] == ["retrying", "retrying", "failed"]
    job.refresh_from_db()
    assert job.attempts == 3
    assert job.state == ImportJob.State.FAILED
    assert "run it again" in job.error
    job.file.save("list.csv", io.BytesIO(b"email\na@x.com\n"))
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.QUEUED)
    assert import_job_run(job_id=job.pk) == "done"
    assert Lead.objects.count() == 1


def test_a_missing_job_is_a_404_for_marketing(marketer_client):
    assert marketer_client.get(reverse("leads:import_detail", args=[999999])).status_code == 404


def _as_posted(form) -> dict:
    """The mapping form's fields as the browser would send them unchanged."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value in (None, False):
            continue
        data[name] = "on" if value is True else value
    return data


def test_the_shipped_crm_mapping_works_in_the_browser_as_a_saved_mapping(marketer_client):
    from pathlib import Path

    from django.conf import settings

    from leads.imports import mapping_from_file

    example = Path(settings.BASE_DIR) / "examples" / "crm-sales-opportunities"
    saved = ImportMapping.objects.create(name="Maven CRM", **mapping_from_file(example / "mapping.json"))
    head = b"".join((example / "sales_pipeline.csv").read_bytes().splitlines(keepends=True)[:41])
    upload(marketer_client, head, name="pipeline.csv")
    job = ImportJob.objects.get()

    url = reverse("leads:import_mapping", args=[job.pk])
    form = marketer_client.get(url, {"mapping": saved.pk}).context["form"]
    assert form["col_5"].help_text == "maps to created_at, first_contact_at"  # engage_date, shown read-only
    # The form has no action: the browser posts back to the same address, saved mapping included.
    response = marketer_client.post(f"{url}?mapping={saved.pk}", _as_posted(form))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.mapping_snapshot["columns"] == saved.columns
    assert job.mapping_snapshot["options"]["lookups"] == saved.options["lookups"]

    marketer_client.post(reverse("leads:import_start", args=[job.pk]))
    assert import_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    assert (job.created_count, job.rejected_count) == (40, 0)
    lead = Lead.objects.get(external_id="1C1I7A6R")
    assert (lead.status, lead.owner.get_full_name(), lead.industry) == (Status.WON, "Moses Frase", "retail")
    # sales_teams.csv, a lookup of the shipped mapping, put the agent on their manager's team.
    assert (lead.team.name, lead.team.region) == ("Dustin Brinkmann's team", "Central")
    assert lead.owner.rep_profile.team == lead.team


def test_a_column_can_be_kept_in_the_leads_attributes(marketer_client):
    upload(marketer_client, WEBINAR)
    job = ImportJob.objects.get()
    marketer_client.post(
        reverse("leads:import_mapping", args=[job.pk]), mapping_post(job, col_4="__attribute__", values="")
    )
    job.refresh_from_db()
    assert job.mapping_snapshot["columns"]["Lead Stage"] == "attributes.lead_stage"
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.QUEUED)
    import_job_run(job_id=job.pk)
    assert Lead.objects.get(email="bob@beta.io").attributes == {"lead_stage": "Prospect"}


def test_a_queued_job_can_be_sent_again_and_still_runs_once(marketer_client, cast, django_capture_on_commit_callbacks):
    job = _mapped_job(cast)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = marketer_client.post(reverse("leads:import_start", args=[job.pk]))
    assert response.status_code == 302
    assert len(callbacks) == 1  # one more message for the workers
    assert [import_job_run(job_id=job.pk), import_job_run(job_id=job.pk)] == ["done", "skipped"]
    assert Lead.objects.count() == 2


def test_a_running_job_is_not_started_again(marketer_client, cast, django_capture_on_commit_callbacks):
    job = _mapped_job(cast)
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.RUNNING)
    held, release = threading.Event(), threading.Event()

    def worker():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [ImportJob.lock_namespace, job.pk])
            held.set()
            release.wait(10)
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ImportJob.lock_namespace, job.pk])
        connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        held.wait(10)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = marketer_client.post(reverse("leads:import_start", args=[job.pk]), follow=True)
    finally:
        release.set()
        thread.join()
    assert callbacks == []
    assert "This import is running" in response.content.decode()
    job.refresh_from_db()
    assert job.state == ImportJob.State.RUNNING


def test_run_again_on_a_job_whose_worker_died_queues_it(marketer_client, cast, django_capture_on_commit_callbacks):
    job = _mapped_job(cast)
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.RUNNING, processed_rows=1)  # nobody holds it
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        marketer_client.post(reverse("leads:import_start", args=[job.pk]))
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert (job.state, job.processed_rows) == (ImportJob.State.QUEUED, 0)


def test_the_rejected_rows_file_defuses_spreadsheet_formulas(marketer_client, cast):
    # A rejected row is handed back as it came: a formula in it must not run when opened.
    data = b'email,company\nnot-an-email,"=HYPERLINK(""http://evil.example"",""y"")"\nok@x.com,+Acme\n'
    job = _mapped_job(cast, data)
    job.mapping_snapshot = {"columns": {"email": "email", "company": "company"}}
    job.save()
    assert import_job_run(job_id=job.pk) == "done"
    response = marketer_client.get(reverse("leads:import_rejections", args=[job.pk]))
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0] == ["line", "reason", "email", "company"]
    assert table[1][0] == "2" and table[1][2] == "not-an-email"
    assert table[1][3] == '\'=HYPERLINK("http://evil.example","y")'
    assert len(table) == 2
