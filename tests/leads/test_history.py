"""One builder per history transition: the set-based writers store what the Python builder builds."""

import datetime

import pytest

from leadhandoff.sql import insert_set
from leads import history
from leads.imports import CsvFile, Importer
from leads.models import HistoryAction, LeadHistory, Status
from scoring.scoring import rescore_and_promote
from tests.factories import LeadFactory, TeamFactory
from tests.scoring.test_promotion import activate, qualifying_lead

NOW = datetime.datetime(2025, 3, 10, 12, 0, tzinfo=datetime.UTC)
COMPARED = ("action", "field", "old_value", "new_value", "note", "data", "created_at", "actor_id")


def _stored(row: LeadHistory) -> tuple:
    return tuple(getattr(row, name) for name in COMPARED)


@pytest.mark.django_db
def test_the_imports_sql_rows_are_the_imported_builders_rows(cast):
    existing = LeadFactory(email="ann@acme.com", first_name="Old")
    text = "email,first_name\nann@acme.com,Ann\nbob@beta.io,Bob\n"
    csv_file = CsvFile.from_bytes(text.encode())
    mapping = {"columns": {"email": "email", "first_name": "first_name"}}
    Importer(csv_file=csv_file, mapping=mapping, actor=cast.marketer, now=NOW, job_id=7).run()

    stored = {row.lead.email: row for row in LeadHistory.objects.select_related("lead")}
    updated = history.imported(created=False, old_status=existing.status, new_status=existing.status, job_id=7, line=2)
    created = history.imported(created=True, old_status=None, new_status=Status.NURTURE, job_id=7, line=3)
    assert _stored(stored["ann@acme.com"]) == _stored(updated.row(lead_id=0, at=NOW, actor_id=cast.marketer.pk))
    assert _stored(stored["bob@beta.io"]) == _stored(created.row(lead_id=0, at=NOW, actor_id=cast.marketer.pk))
    assert stored["bob@beta.io"].note == "Created by import 7, line 3."


@pytest.mark.django_db
def test_promotions_sql_row_is_the_promoted_builders_row():
    activate(number=4)
    TeamFactory(name="Fallback", is_fallback=True)
    lead = qualifying_lead()

    rescore_and_promote(now=NOW)

    lead.refresh_from_db()
    [row] = LeadHistory.objects.filter(lead=lead, action=HistoryAction.PROMOTED)
    built = history.promoted(version=4, score=70, threshold=60, explanation=lead.promotion_explanation)
    assert _stored(row) == _stored(built.row(lead_id=lead.pk, at=NOW))
    assert row.note == "Score 70 reached the threshold 60 of definition v4"


@pytest.mark.django_db
def test_routings_rows_come_from_the_assigned_builder(cast):
    from leads.routing import leads_route

    lead = LeadFactory(status=Status.QUEUED, team=cast.team, country="US")
    leads_route(lead_ids=[lead.pk], now=NOW)

    [row] = LeadHistory.objects.filter(lead=lead)
    assert row.action == HistoryAction.ASSIGNED and row.field == "owner"
    assert row.data["owner_id"] == lead.__class__.objects.get(pk=lead.pk).owner_id
    assert {"team_id", "team", "rule_id", "rule", "strategy", "sla_due_at"} <= set(row.data)


@pytest.mark.django_db
def test_the_set_based_insert_fills_what_the_rows_do_not_vary_from_the_template(cast):
    leads = [LeadFactory(), LeadFactory()]
    template = history.created(note="Created by an engagement event.", via="events")
    insert_set(
        LeadHistory,
        template=template.row(lead_id=0, at=NOW, actor_id=cast.marketer.pk),
        varying={"lead_id": [lead.pk for lead in leads]},
        now=NOW,
    )
    rows = LeadHistory.objects.order_by("lead_id")
    assert [row.lead_id for row in rows] == sorted(lead.pk for lead in leads)
    expected = _stored(template.row(lead_id=0, at=NOW, actor_id=cast.marketer.pk))
    assert [_stored(row) for row in rows] == [expected, expected]
    returned = insert_set(
        LeadHistory,
        template=template.row(lead_id=0, at=NOW),
        varying={"lead_id": [leads[0].pk], "note": ["One more"]},
        now=NOW,
        suffix="RETURNING lead_id, note",
    )
    assert returned == [(leads[0].pk, "One more")]
