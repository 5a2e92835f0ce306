"""Engagement history from CSV (issue 14, point 3): one row per event or events derived from
columns, marketing's event kinds, idempotent like the events API; page, API, command and job."""

import datetime
import json
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from leadhandoff.api import ApplicationError
from leadhandoff.csv_reader import CsvFile
from leads.events.services import event_import_run, events_import
from leads.fields.services import event_kind_create
from leads.models import EngagementEvent, EventImportJob, Lead, Status
from scoring.engine import evaluate
from scoring.scoring import definition_for_version, facts_for_lead, scores_fetch
from tests.conftest import running_worker
from tests.scoring.definition_helpers import make_active, make_draft

NOW = datetime.datetime(2025, 6, 10, 12, 0, tzinfo=datetime.UTC)
ROWS = (
    "Email,Activity,When,Page\n"
    "ann@acme.com,page_view,2025-06-01T10:00:00+00:00,/pricing\n"
    "ann@acme.com,page_view,2025-06-02T10:00:00+00:00,/docs\n"
    "ANN@acme.com,webinar_attended,2025-06-03 09:00:00+00:00,\n"
    "bob@beta.io,fax_sent,2025-06-03T09:00:00+00:00,\n"
    "bob@beta.io,page_view,next week,\n"
)
ROWS_MAPPING = {
    "key": "email",
    "key_column": "Email",
    "events": "rows",
    "kind_column": "Activity",
    "time_column": "When",
}
COUNTS = "Lead Number,TotalVisits,Page Views Per Visit\nL1,5,2\nL2,0,1\nL3,many,1\n"
COUNTS_MAPPING = {
    "key": "external_id",
    "key_column": "Lead Number",
    "events": "columns",
    "columns": {"TotalVisits": {"kind": "page_view", "as": "events"}},
    "time": "2025-06-01T00:00:00+00:00",
}


def run(text, mapping, now=NOW):
    return events_import(csv_file=CsvFile.from_bytes(text.encode()), mapping=mapping, actor=None, now=now)


def test_one_row_per_event_imports_each_event_once_and_reports_bad_rows_by_line(db):
    Lead.objects.create(email="ann@acme.com", created_at=NOW)
    result = run(ROWS, ROWS_MAPPING)
    assert (result.processed, result.stored, result.rejected) == (5, 3, 2)
    assert [r["line"] for r in result.rejections] == [5, 6]
    assert "not a known event kind" in result.rejections[0]["reason"]
    assert "occurred_at" in result.rejections[1]["reason"]
    ann = Lead.objects.get(email="ann@acme.com")
    events = list(ann.events.order_by("occurred_at").values_list("kind", "properties"))
    assert events == [
        ("page_view", {"Page": "/pricing"}),
        ("page_view", {"Page": "/docs"}),
        ("webinar_attended", {}),
    ]
    assert ann.last_activity_at == datetime.datetime(2025, 6, 3, 9, 0, tzinfo=datetime.UTC)

    # Idempotent by (lead, kind, time): the same file again stores nothing.
    again = run(ROWS, ROWS_MAPPING)
    assert (again.stored, again.duplicates) == (0, 3)
    assert EngagementEvent.objects.count() == 3


def test_an_event_id_column_makes_it_idempotent_by_that_id(db):
    text = "email,kind,at,id\nann@acme.com,page_view,2025-06-01T10:00:00+00:00,e1\n"
    mapping = {**ROWS_MAPPING, "key_column": "email", "kind_column": "kind", "time_column": "at", "id_column": "id"}
    assert run(text, mapping).stored == 1
    assert EngagementEvent.objects.get().external_id == "e1"
    # An unknown email made the nurture lead, as the events API does.
    assert Lead.objects.get().status == Status.NURTURE
    assert run(text, mapping).stored == 0


def test_a_count_column_makes_that_many_events_at_the_stated_time_once(db):
    for key in ("L1", "L2", "L3"):
        Lead.objects.create(external_id=key, created_at=NOW)
    result = run(COUNTS, COUNTS_MAPPING)
    assert (result.stored, result.rejected) == (5, 1)
    assert result.rejections[0] == {"line": 4, "reason": "column “TotalVisits”: “many” is not a number"}
    l1 = Lead.objects.get(external_id="L1")
    assert list(l1.events.values_list("kind", "occurred_at").distinct()) == [
        ("page_view", datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC))
    ]
    assert l1.events.count() == 5
    assert run(COUNTS, COUNTS_MAPPING).stored == 0
    # A count that grew adds only the new events.
    assert run(COUNTS.replace("L1,5", "L1,7"), COUNTS_MAPPING).stored == 2


def test_a_count_column_can_make_one_event_carrying_the_count(db):
    Lead.objects.create(external_id="L1", created_at=NOW)
    mapping = {**COUNTS_MAPPING, "columns": {"TotalVisits": {"kind": "page_view", "as": "count"}}}
    result = run("Lead Number,TotalVisits\nL1,5\n", mapping)
    assert result.stored == 1
    assert EngagementEvent.objects.get().properties == {"count": 5, "column": "TotalVisits"}


def test_a_bad_mapping_is_refused_naming_each_fault(db):
    with pytest.raises(ApplicationError) as refused:
        run(COUNTS, {**COUNTS_MAPPING, "columns": {"Visits": "page_view", "TotalVisits": "teleport"}, "time": ""})
    fields = refused.value.fields
    assert "The file has no column “Visits”." in fields["columns"]
    assert "“TotalVisits”: give a known event kind." in fields["columns"]
    assert "time" in fields


def test_marketings_event_kinds_import_and_score_in_behaviour_rules(cast, api):
    rule = {
        "type": "behaviour",
        "event_kind": "trade_show_visit",
        "min_count": 1,
        "within_days": 30,
        "points": 25,
        "label": "Met us at a trade show",
    }
    with pytest.raises(ApplicationError):
        make_draft(cast.marketer, rules=[rule], threshold=10)
    event_kind_create(name="trade_show_visit", label="Trade show visit", now=NOW)
    version = make_active(cast.marketer, cast.manager, rules=[rule], threshold=10)

    now = timezone.now()
    text = f"Email,Activity,When\nann@acme.com,trade_show_visit,{(now - datetime.timedelta(days=2)).isoformat()}\n"
    assert run(text, ROWS_MAPPING, now=now).stored == 1
    # The events API takes the kind too.
    event = {"kind": "trade_show_visit", "occurred_at": now.isoformat(), "email": "bo@x.io"}
    assert api.as_user(cast.marketer).post("/api/v1/events/", [event], format="json").status_code == 201
    assert EngagementEvent.objects.filter(kind="trade_show_visit").count() == 2

    definition = definition_for_version(version)
    ann = Lead.objects.get(email="ann@acme.com")
    sql = scores_fetch(definition=definition, now=now, lead_ids=[ann.pk])
    assert sql[ann.pk]["total"] == 25 == evaluate(facts_for_lead(ann), definition, now).total


def test_the_command_imports_a_file(db, tmp_path, capsys):
    Lead.objects.create(external_id="L1", created_at=NOW)
    (tmp_path / "leads.csv").write_text("Lead Number,TotalVisits\nL1,3\n")
    (tmp_path / "mapping.json").write_text(json.dumps(COUNTS_MAPPING))
    call_command("import_events", str(tmp_path / "leads.csv"), "--mapping", str(tmp_path / "mapping.json"))
    assert "3 events stored" in capsys.readouterr().out
    assert EngagementEvent.objects.count() == 3


def test_the_api_queues_a_job_that_runs_once_even_when_sent_twice(
    cast, api, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    Lead.objects.create(external_id="L1", created_at=NOW)
    upload = SimpleUploadedFile("visits.csv", b"Lead Number,TotalVisits\nL1,4\n", "text/csv")
    with django_capture_on_commit_callbacks(execute=False):
        answer = api.as_user(cast.marketer).post(
            "/api/v1/event-imports/", {"file": upload, "mapping": json.dumps(COUNTS_MAPPING)}, format="multipart"
        )
    assert answer.status_code == 202, answer.json()
    job_id = answer.json()["id"]
    assert event_import_run(job_id=job_id) == "done"
    assert event_import_run(job_id=job_id) == "skipped"  # a task delivered twice does the work once
    job = EventImportJob.objects.get(pk=job_id)
    assert (job.state, job.stored_count, job.processed_rows) == ("done", 4, 1)
    assert api.as_user(cast.marketer).get(f"/api/v1/event-imports/{job_id}/").json()["stored_count"] == 4
    # A run whose worker died (left "running", nobody holds its lock) is taken over; nothing is stored twice.
    EventImportJob.objects.filter(pk=job_id).update(state="running")
    assert event_import_run(job_id=job_id) == "done"
    job.refresh_from_db()
    assert (job.stored_count, job.duplicate_count, EngagementEvent.objects.count()) == (0, 4, 4)

    bad = api.as_user(cast.marketer).post(
        "/api/v1/event-imports/",
        {"file": SimpleUploadedFile("v.csv", b"Lead Number,TotalVisits\nL1,4\n"), "mapping": "{"},
        format="multipart",
    )
    assert bad.status_code == 400 and "mapping" in bad.json()["fields"]
    assert api.as_user(cast.rep).get(f"/api/v1/event-imports/{job_id}/").status_code == 403


def test_the_page_shows_mapping_errors_on_the_form(cast, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(cast.marketer)
    upload = SimpleUploadedFile("visits.csv", b"Lead Number,TotalVisits\nL1,4\n", "text/csv")
    answer = client.post(
        reverse("leads:event_import"),
        {"file": upload, "events": "columns", "key": "external_id", "key_column": "Lead", "columns": "TotalVisits = x"},
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "The file has no column “Lead”." in page and "give a known event kind" in page
    assert not EventImportJob.objects.exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_page_queues_an_import_the_worker_runs(cast, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    Lead.objects.create(external_id="L1", created_at=NOW)
    with running_worker(settings, log=tmp_path / "worker.log", MEDIA_ROOT=str(settings.MEDIA_ROOT)):
        client.force_login(cast.marketer)
        upload = SimpleUploadedFile("visits.csv", b"Lead Number,TotalVisits\nL1,6\n", "text/csv")
        answer = client.post(
            reverse("leads:event_import"),
            {
                "file": upload,
                "events": "columns",
                "key": "external_id",
                "key_column": "Lead Number",
                "columns": "TotalVisits = page_view",
                "derived_as": "events",
                "time": "2025-06-01T00:00Z",
            },
        )
        assert answer.status_code == 302
        job = EventImportJob.objects.get()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not EventImportJob.objects.filter(pk=job.pk, state="done").exists():
            time.sleep(0.1)
        job.refresh_from_db()
        assert (job.state, job.stored_count) == ("done", 6), (tmp_path / "worker.log").read_text()
    assert b"Events stored" in client.get(reverse("leads:event_import_detail", args=[job.pk])).content
