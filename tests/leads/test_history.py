"""One builder per history transition: the set-based writers store what the Python builder builds."""

import datetime
import json
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

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
    from leads.routing.services import leads_route

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


# --- Each transition in words ----------------------------------------------------------------


@pytest.fixture
def people(db):
    from tests.factories import UserFactory

    return {
        "sam": UserFactory(username="sam", first_name="Sam", last_name="Rivera"),
        "priya": UserFactory(username="priya", first_name="Priya", last_name="Nair"),
        "jo": UserFactory(username="jo", first_name="Jo", last_name="Manager"),
    }


def _said(entry: history.Entry, actor=None) -> str:
    lead = LeadFactory()
    entry.write(lead=lead, at=NOW, actor=actor)
    [row] = history.sentences(LeadHistory.objects.filter(lead=lead).select_related("actor"))
    return row.sentence


def test_each_transition_reads_as_a_sentence(people):
    sam, priya, jo = people["sam"], people["priya"], people["jo"]
    call = history.first_contact(at=NOW, kind="call", kind_label="Call", outcome_label="Connected")
    assert _said(call, sam) == "Sam Rivera logged a call: connected"
    email = history.first_contact(at=NOW, kind="email", kind_label="Email", outcome_label="Sent")
    assert _said(email, sam) == "Sam Rivera logged an email: sent"
    routed = history.assigned(owner=priya, note="Rule 'EMEA enterprise' (country DE)", rule="EMEA enterprise")
    assert _said(routed) == "Assigned to Priya Nair by rule 'EMEA enterprise'"
    assert _said(history.assigned(owner=priya, note="No rule matched")) == "Assigned to Priya Nair (No rule matched)"
    assert _said(history.assigned(owner=sam, team_id=1, sla=False), sam) == "Sam Rivera took the lead as their own"
    moved = history.reassigned(old_owner=sam, owner=priya, note="Holiday cover", by="jo")
    assert _said(moved, jo) == "Reassigned from Sam Rivera to Priya Nair by Jo Manager"
    queued = history.queued_in_team(old_team="", team="East", note="No rep free")
    assert _said(queued) == "Waiting in East's unassigned queue (No rep free)"
    promoted = history.promoted(version=3, score=72, threshold=60, explanation={})
    assert _said(promoted) == "Promoted to the sales queue: Score 72 reached the threshold 60 of definition v3"
    stage = history.status_changed(old=Status.WORKING, new=Status.LOST, note="No budget")
    assert _said(stage, sam) == "Sam Rivera moved the lead: working → lost (No budget)"
    assert (
        _said(history.status_changed(old=Status.ASSIGNED, new=Status.CONTACTED))
        == "Stage changed: assigned → contacted"
    )
    rejected = history.rejected(old=Status.ASSIGNED, note="Student project.", reason="not_a_fit")
    assert _said(rejected, sam) == "Sam Rivera sent the lead back to marketing: Student project."
    assert _said(history.created(note="Created by an engagement event.", via="events")) == (
        "Created by an engagement event."
    )
    assert (
        _said(history.created(note="Rep-sourced (cold call)"), sam) == "Created by Sam Rivera: Rep-sourced (cold call)"
    )
    # The field's label and the amount in settings.CURRENCY (USD by default), never the raw column value.
    assert _said(history.updated(field="deal_value", old="100.00", new="250.00"), sam) == (
        "Deal value changed from $100 to $250 by Sam Rivera"
    )
    assert _said(history.updated(field="deal_value", old="", new="12000.00")) == "Deal value set to $12,000"
    assert _said(history.updated(note="Updated through intake: phone", changed=["phone"])) == (
        "Updated through intake: phone"
    )
    imported = history.imported(created=True, old_status=None, new_status=Status.NURTURE, job_id=7, line=3)
    assert _said(imported) == "Created by import 7, line 3"
    due = datetime.datetime(2025, 3, 11, 12, 0, tzinfo=datetime.UTC)
    assert _said(history.sla_warning(due=due)) == "First contact is due soon (due 11 Mar 2025, 12:00)"
    assert _said(history.sla_breached(due=due)) == "First contact is overdue (due 11 Mar 2025, 12:00)"


def test_history_times_are_in_the_readers_time_zone_and_values_in_the_configured_currency(settings, people):
    lead = LeadFactory()
    due = datetime.datetime(2025, 3, 11, 12, 0, tzinfo=datetime.UTC)
    history.sla_breached(due=due).write(lead=lead, at=NOW)
    history.updated(field="deal_value", old="", new="1250.50").write(lead=lead, at=NOW, actor=people["sam"])
    settings.CURRENCY = "EUR"
    rows = history.sentences(
        LeadHistory.objects.filter(lead=lead).select_related("actor").order_by("id"),
        tz=zoneinfo.ZoneInfo("Asia/Kolkata"),
    )
    assert [row.sentence for row in rows] == [
        "First contact is overdue (due 11 Mar 2025, 17:30)",
        "Deal value set to €1,250.50 by Sam Rivera",
    ]


def test_the_lead_page_shows_history_in_words_in_a_fixed_number_of_queries(cast, client, people):
    lead = LeadFactory()
    client.force_login(cast.marketer)
    url = reverse("leads:lead_detail", args=[lead.pk])

    def grow(n: int) -> None:
        for i in range(n):
            old, new = (people["sam"], people["priya"]) if i % 2 else (people["priya"], people["sam"])
            history.reassigned(old_owner=old, owner=new, note="Cover").write(lead=lead, at=NOW, actor=people["jo"])

    grow(2)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    grow(20)
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    # The users the rows name come in one query, however many rows name them.
    assert len(many.captured_queries) == len(few.captured_queries)
    assert "Reassigned from Sam Rivera to Priya Nair by Jo Manager" in html
    assert "Reassigned from Priya Nair to Sam Rivera by Jo Manager" in html


@pytest.mark.django_db
def test_the_set_based_insert_sends_awkward_text_numbers_and_times_through_intact(cast):
    """insert_set passes each column as PostgreSQL's array text: quotes, backslashes, commas,
    braces, the word NULL, an empty string and a missing value all arrive as they were."""
    lead = LeadFactory()
    notes = ['say "hi", {then} \\ leave', "NULL", "", "ünïcode, 'single' quotes", None]
    stamps = [
        NOW,
        NOW + datetime.timedelta(microseconds=1),
        NOW.astimezone(datetime.timezone(datetime.timedelta(hours=-5))),
    ]
    stamps += [NOW, NOW]
    returned = insert_set(
        LeadHistory,
        template=history.created(note="").row(lead_id=0, at=NOW),
        varying={
            "lead_id": [lead.pk] * 5,
            "note": [n if n is not None else "" for n in notes],
            "old_value": [n or "" for n in notes],
            "created_at": stamps,
            "data": [{"n": i, "text": n} for i, n in enumerate(notes)],
            "actor_id": [None, cast.marketer.pk, None, cast.marketer.pk, None],
            "action": [HistoryAction.CREATED, HistoryAction.UPDATED, "updated", HistoryAction.CREATED, "created"],
        },
        now=NOW,
        suffix="RETURNING note, old_value, created_at, data, actor_id, action",
    )
    # A raw cursor returns jsonb as its text.
    assert [(*row[:3], json.loads(row[3]), *row[4:]) for row in returned] == [
        (n if n is not None else "", n or "", at, {"n": i, "text": n}, actor, action)
        for i, (n, at, actor, action) in enumerate(
            zip(
                notes,
                stamps,
                [None, cast.marketer.pk] * 2 + [None],
                ["created", "updated", "updated", "created", "created"],
                strict=True,
            )
        )
    ]
