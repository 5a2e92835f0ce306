"""The import's preview says what the run then does: the same checks (runner.key_duplicate,
row_existing, row_verdict) over the same stored leads, row by row."""

import datetime

import pytest

from leads.fields import services as fields
from leads.imports import CsvFile, Importer
from leads.imports.selectors import import_preview
from leads.imports.services import import_job_create
from leads.models import Lead, Status
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.UTC)
MARCH = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)

FILE = b"""Email,External id,Stage,Closed,First contact,Visits
old@x.com,,won,2026-01-01,,
new1@x.com,,won,2026-02-01,,
other@x.com,EXT-9,,,,
fresh@x.com,,,,2026-02-02,
kept@x.com,,,,,12
bad@x.com,,,,,lots
KEPT@x.com,,,,,3
kept.alias@x.com,EXT-2,,,,
new2@x.com,,lost,2026-04-01,,
"""
MAPPING = {
    "columns": {
        "Email": "email",
        "External id": "external_id",
        "Stage": "stage",
        "Closed": "closed_at",
        "First contact": "first_contact_at",
        "Visits": "attributes.visits",
    },
    "options": {"key": "email"},
}


def test_every_rows_verdict_in_the_preview_is_the_runs(cast):
    fields.custom_field_create(name="visits", label="Visits", kind="number", now=NOW)
    LeadFactory(email="old@x.com", created_at=MARCH)  # a close date before it existed: refused
    LeadFactory(email="other@x.com", external_id="EXT-1")
    kept = LeadFactory(email="kept@x.com", external_id="EXT-2", status=Status.WORKING, owner=cast.rep)
    job = import_job_create(name="mix.csv", data=FILE, actor=cast.marketer)
    job.mapping_snapshot = MAPPING
    job.save()

    _csv, preview = import_preview(job=job)
    said = {row.line: row.errors[0] if row.errors else (row.action, row.status) for row in preview}

    result = Importer(csv_file=CsvFile.from_bytes(FILE), mapping=MAPPING, actor=cast.marketer, now=NOW).run()
    refused = {r["line"]: r["reason"] for r in result.rejections}
    assert {line: reason for line, reason in said.items() if isinstance(reason, str)} == refused
    done = {line: verdict for line, verdict in said.items() if not isinstance(verdict, str)}
    assert (result.created, result.updated) == (
        sum(action == "create" for action, _ in done.values()),
        sum(action == "update" for action, _ in done.values()),
    )
    by_email = {lead.email: lead.status for lead in Lead.objects.all()}
    assert done == {
        3: ("create", by_email["new1@x.com"]),
        6: ("update", by_email["kept@x.com"]),
        10: ("create", by_email["new2@x.com"]),
    }
    # Each kind of refusal came up, and the rep's working lead kept its stage.
    assert sorted(refused) == [2, 4, 5, 7, 8, 9]
    kept.refresh_from_db()
    assert kept.status == Status.WORKING and done[6][1] == Status.WORKING
