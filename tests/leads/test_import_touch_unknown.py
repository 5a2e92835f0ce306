"""Unknown is not zero: imported history without a touch count has an unknown count (NULL), never 0.

A lead made in the app starts at 0 touches and counts each one logged. A lead an
import creates has the count its file gives, or none (unknown); logging a touch
on it later keeps it unknown, since the touches before the import were never counted.
"""

import datetime
import importlib

import pytest
from django.apps import apps
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from leads.imports import CsvFile, Importer
from leads.models import HistoryAction, ImportJob, Lead, LeadHistory, Status, Touch, TouchKind, TouchOutcome
from leads.queue.services import touch_log
from scoring.preview import _figures
from tests.factories import LeadFactory, make_queue_lead

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2025, 3, 3, 10, 0, tzinfo=datetime.UTC)
NO_TOUCHES = {
    "columns": {"id": "external_id", "owner": "owner", "stage": "stage", "engaged": ["created_at", "first_contact_at"]},
    "values": {"stage": {"Engaging": "open"}},
}
WITH_TOUCHES = {**NO_TOUCHES, "columns": {**NO_TOUCHES["columns"], "touches": "touch_count"}}


def run(text: str, mapping: dict):
    csv_file = CsvFile.from_bytes(text.encode())
    return Importer(csv_file=csv_file, mapping=mapping, actor=None, now=NOW).run()


def touches() -> dict[str, int | None]:
    return dict(Lead.objects.values_list("external_id", "touch_count"))


def test_imported_history_without_a_touch_column_has_an_unknown_count_not_zero(cast):
    result = run("id,owner,stage,engaged\nW,rep1,won,2024-01-02\nE,rep1,Engaging,2024-01-02\n", NO_TOUCHES)
    assert result.rejected == 0
    assert touches() == {"W": None, "E": None}


def test_a_touch_column_gives_the_count_and_a_blank_cell_leaves_it_unknown(cast):
    run(
        "id,owner,stage,engaged,touches\nA,rep1,won,2024-01-02,4\nB,rep1,lost,2024-01-02,0\nC,rep1,won,2024-01-02,\n",
        WITH_TOUCHES,
    )
    assert touches() == {"A": 4, "B": 0, "C": None}


def test_an_import_without_a_count_keeps_the_count_a_lead_already_has(cast):
    counted = make_queue_lead(rep=cast.rep, external_id="K", touch_count=3)
    run("id,owner,stage,engaged\nK,rep1,won,2024-01-02\n", NO_TOUCHES)
    run("id,owner,stage,engaged,touches\nK,rep1,won,2024-01-02,\n", WITH_TOUCHES)
    counted.refresh_from_db()
    assert (counted.status, counted.touch_count) == (Status.WON, 3)


def test_leads_made_in_the_app_still_start_at_zero(cast):
    assert LeadFactory().touch_count == 0
    assert make_queue_lead(rep=cast.rep).touch_count == 0


def test_logging_a_touch_on_an_unknown_count_works_and_keeps_it_unknown(cast):
    run("id,owner,stage,engaged\nE,rep1,Engaging,\n", NO_TOUCHES)
    lead = Lead.objects.get(external_id="E")
    assert (lead.status, lead.owner, lead.touch_count) == (Status.ASSIGNED, cast.rep, None)

    touch_log(
        user=cast.rep,
        lead_id=lead.pk,
        kind=TouchKind.CALL,
        outcome=TouchOutcome.CONNECTED,
        now=NOW + datetime.timedelta(hours=1),
    )

    lead.refresh_from_db()
    assert Touch.objects.filter(lead=lead).count() == 1
    assert lead.first_contact_at == NOW + datetime.timedelta(hours=1)
    assert lead.status == Status.CONTACTED
    assert lead.touch_count is None  # the touches before the import are still unknown


def test_the_queue_and_the_brief_say_unknown_not_zero(cast, client):
    run("id,owner,stage,engaged\nE,rep1,Engaging,\n", NO_TOUCHES)
    lead = Lead.objects.get(external_id="E")
    client.force_login(cast.rep)

    queue = client.get(reverse("leads:my_queue")).content.decode()
    row = queue[queue.index(f'data-lead-id="{lead.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "unknown" in row
    assert '<td class="text-end">0</td>' not in row

    brief = client.get(reverse("leads:brief", kwargs={"lead_id": lead.pk})).content.decode()
    assert 'data-testid="touch-count">unknown<' in brief
    assert 'data-testid="touch-count-unknown"' in brief


def test_the_queue_api_gives_null_and_its_schema_says_so(cast, api):
    run("id,owner,stage,engaged\nE,rep1,Engaging,\n", NO_TOUCHES)
    body = api.as_user(cast.rep).get(reverse("api-queue")).json()
    assert [row["touch_count"] for row in body["results"]] == [None]

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for name in ("QueueApiOutput", "LeadState"):  # the queue, and a lead after a touch, stage or reject
        assert schema["components"]["schemas"][name]["properties"]["touch_count"]["nullable"] is True


def test_the_backtest_median_touches_skips_unknown_counts():
    won = [(True, 10.0, 4), (True, 20.0, None), (True, 30.0, 6), (False, 5.0, None)]
    assert _figures(won)["median_touches_won"] == 5
    assert _figures([(True, 10.0, None)])["median_touches_won"] is None


def test_the_migration_turns_imported_zeros_into_unknown_and_leaves_real_counts(cast):
    migration = importlib.import_module("leads.migrations.0010_touch_count_unknown")
    imported = run("id,owner,stage,engaged\nA,rep1,won,\nB,rep1,won,\n", NO_TOUCHES)
    assert imported.created == 2
    mapped_job = ImportJob.objects.create(
        file="imports/x.csv", original_name="x.csv", mapping_snapshot={"columns": {"touches": "touch_count"}}
    )
    counted = LeadFactory(external_id="C", status=Status.WON, touch_count=0)
    LeadHistory.objects.create(
        lead=counted,
        action=HistoryAction.IMPORTED,
        data={"import_job": mapped_job.pk, "line": 2, "created": True},
        created_at=NOW,
    )
    app_lead = LeadFactory(external_id="D")  # made in the app: 0 touches is a fact
    Lead.objects.filter(external_id__in=["A", "B"]).update(touch_count=0)  # as stored before the migration
    Touch.objects.create(lead=Lead.objects.get(external_id="B"), kind=TouchKind.CALL, occurred_at=NOW)

    migration.zero_from_imports_to_unknown(apps, None)

    assert touches() == {"A": None, "B": 0, "C": 0, "D": 0}
    assert app_lead.pk
