"""Dates that make sense (issue 14, point 6): impossible close dates reject the row with
its reason; a won or lost lead without a close date keeps it unknown, is counted, and
stays out of the cycle figures; nothing of a rejected row is written."""

import datetime
import io

from django.core.management import call_command
from django.urls import reverse

from leads.figures import LeadSet, group_rows
from leads.imports import CsvFile, Importer
from leads.imports.services import import_job_create, import_job_run, import_job_set_mapping
from leads.models import ImportJob, Lead, LeadHistory, Status
from tests.factories import LeadFactory

NOW = datetime.datetime(2025, 3, 3, 10, 0, tzinfo=datetime.UTC)
MAPPING = {
    "columns": {
        "id": "external_id",
        "owner": "owner",
        "stage": "stage",
        "created": "created_at",
        "contacted": "first_contact_at",
        "closed": "closed_at",
    },
}
HEADER = "id,owner,stage,created,contacted,closed\n"


def run(text: str, mapping: dict = MAPPING, **kwargs):
    csv_file = CsvFile.from_bytes(text.encode())
    return Importer(csv_file=csv_file, mapping=mapping, actor=None, now=NOW, **kwargs).run()


def day(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC)


def test_impossible_close_dates_reject_the_row_with_its_reason_and_write_nothing_of_it(cast):
    result = run(
        HEADER + "A,rep1,won,2024-03-01,2024-03-02,2024-02-20\n"  # closed before it was created
        "B,rep1,lost,2024-03-01,2024-03-10,2024-03-05\n"  # closed before its first contact
        "C,rep1,open,2024-03-01,2024-03-02,2024-04-01\n"  # open with a close date
        "D,rep1,won,2024-03-01,2024-03-02,2024-03-20\n"  # fine
        "E,rep1,won,2024-03-01,2024-03-01,2024-03-01\n"  # contacted and closed the day it was created: fine
    )
    assert (result.created, result.rejected) == (2, 3)
    reasons = {r["line"]: r["reason"] for r in result.rejections}
    assert reasons == {
        2: "the close date 2024-02-20 is before the lead was created (2024-03-01)",
        3: "the close date 2024-03-05 is before the first contact (2024-03-10)",
        4: "the close date 2024-04-01 is on an open lead (working): map its stage to won or lost, "
        "or leave the close date empty",
    }
    assert set(Lead.objects.values_list("external_id", flat=True)) == {"D", "E"}
    assert LeadHistory.objects.count() == 2


def test_a_close_date_before_a_stored_lead_was_created_is_refused_and_the_lead_left_as_it_was(cast):
    lead = LeadFactory(external_id="S", status=Status.NURTURE, created_at=day("2024-05-01"))
    result = run(HEADER + "S,rep1,won,,,2024-04-01\n")
    assert result.rejections == [
        {"line": 2, "reason": "the close date 2024-04-01 is before the lead was created (2024-05-01)", "key": "S"}
    ]
    lead.refresh_from_db()
    assert (lead.status, lead.closed_at, lead.owner_id) == (Status.NURTURE, None, None)


def test_a_new_lead_without_a_created_date_is_created_at_its_earliest_known_date_not_the_import(cast):
    result = run(HEADER + "N,rep1,won,,2024-01-05,2024-02-01\nM,rep1,lost,,,2024-02-03\n")
    assert result.rejected == 0
    assert Lead.objects.get(external_id="N").created_at == day("2024-01-05")
    assert Lead.objects.get(external_id="M").created_at == day("2024-02-03")


def test_won_or_lost_without_a_close_date_is_stored_unknown_counted_and_left_out_of_cycles(cast):
    result = run(
        HEADER + "W1,rep1,won,2024-01-01,2024-01-02,2024-01-11\n"
        "W2,rep1,won,2024-01-01,2024-01-02,\n"
        "L1,rep1,lost,2024-01-01,,\n"
        "O1,rep1,open,2024-01-01,,\n"
    )
    assert (result.created, result.rejected, result.closed_undated) == (4, 0, 2)
    closes = dict(Lead.objects.values_list("external_id", "closed_at"))
    assert closes == {"W1": day("2024-01-11"), "W2": None, "L1": None, "O1": None}  # never the import time

    # The cycle figures: both won leads count as won, only the dated one has a cycle.
    rows = group_rows(LeadSet(group_sql="'all'"), now=NOW, cycle_from="created")
    total = rows["total"]
    assert (total["won"], total["lost"]) == (2, 1)
    assert total["won_cycles"] == [(day("2024-01-11") - day("2024-01-01")).days]
    assert total["median_cycle_days_won"] == 10

    # Run again: the stored close dates stay, the count is the file's again.
    again = run(HEADER + "W1,rep1,won,,,\nW2,rep1,won,,,\n")
    assert (again.updated, again.closed_undated) == (2, 1)
    assert Lead.objects.get(external_id="W1").closed_at == day("2024-01-11")


def test_the_command_and_the_job_report_the_undated_closes(cast, tmp_path):
    text = HEADER + "W1,rep1,won,2024-01-01,,\nW2,rep1,won,2024-01-01,,2024-01-09\nL1,rep1,lost,2024-01-01,,\n"
    path = tmp_path / "deals.csv"
    path.write_text(text)
    mapping_path = tmp_path / "mapping.json"
    mapping_path.write_text(__import__("json").dumps(MAPPING))
    out = io.StringIO()
    call_command("import_leads", str(path), mapping=str(mapping_path), no_progress=True, dry_run=True, stdout=out)
    assert "2 won or lost leads have no close date: stored as unknown, left out of cycle figures." in out.getvalue()
    assert not Lead.objects.exists()

    job = import_job_create(name="deals.csv", data=text.encode(), actor=cast.marketer)
    import_job_set_mapping(job=job, mapping=MAPPING, actor=cast.marketer)
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.QUEUED)
    assert import_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    assert (job.created_count, job.closed_undated_count) == (3, 2)


def test_the_api_cannot_write_a_close_date_or_a_stage_so_its_leads_keep_the_same_rules(cast, api):
    """Intake writes profile fields only: a close date or a status comes from the workflow
    (leads.queue closes at the moment it happens), so an API call cannot store one that
    makes no sense."""
    client = api.as_user(cast.marketer)
    response = client.post(
        reverse("api-leads"),
        {"email": "api@x.com", "closed_at": "2020-01-01T00:00:00Z", "status": "won"},
        format="json",
    )
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) >= {"closed_at", "status"}
    assert not Lead.objects.filter(email="api@x.com").exists()


def test_a_first_contact_date_on_a_lead_without_an_owner_is_refused(cast):
    """It would mark a pool or queue lead as contacted when nobody in sales contacted it."""
    result = run(
        HEADER + "P,,,2024-01-01,2024-01-02,\nQ,,open,2024-01-01,2024-01-02,\nR,rep1,open,2024-01-01,2024-01-02,\n"
    )
    assert [(r["line"], r["reason"]) for r in result.rejections] == [
        (
            2,
            "a first contact date on a lead without an owner: nobody in sales made that contact "
            "(map the rep who did to Owner, or map the date to the created date)",
        ),
        (
            3,
            "a first contact date on a lead without an owner: nobody in sales made that contact "
            "(map the rep who did to Owner, or map the date to the created date)",
        ),
    ]
    assert list(Lead.objects.values_list("external_id", "status")) == [("R", Status.WORKING)]
