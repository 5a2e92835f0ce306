"""The import itself (leads.imports.runner): matching, status rules, owners, chunks, history, signals."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection
from django.utils import timezone

from accounts.models import RepProfile, Role, Team, User
from leadhandoff.api import ApplicationError
from leads.imports import CsvFile, Importer
from leads.imports.writer import write_chunk
from leads.models import HistoryAction, Lead, LeadHistory, Status
from leads.signals import lead_activity
from tests.factories import LeadFactory, TeamFactory

NOW = datetime.datetime(2025, 3, 3, 10, 0, tzinfo=datetime.UTC)
EMAIL_MAPPING = {"columns": {"email": "email", "first_name": "first_name", "company": "company"}}


def run(text: str, mapping: dict, **kwargs):
    csv_file = CsvFile.from_bytes(text.encode())
    return Importer(csv_file=csv_file, mapping=mapping, actor=kwargs.pop("actor", None), now=NOW, **kwargs).run()


@pytest.fixture
def activity():
    """lead_activity signals received (after commit), as lists of lead ids."""
    received = []

    def receiver(sender, lead_ids, **kwargs):
        received.append(sorted(lead_ids))

    lead_activity.connect(receiver, dispatch_uid="test-import-activity")
    yield received
    lead_activity.disconnect(dispatch_uid="test-import-activity")


# --- Upsert by key -------------------------------------------------------------------------


def test_it_creates_nurture_leads_flagged_for_rescoring(db):
    result = run("email,first_name,company\nann@acme.com,Ann,Acme\nbob@beta.io,Bob,Beta\n", EMAIL_MAPPING)
    assert (result.created, result.updated, result.rejected) == (2, 0, 0)
    lead = Lead.objects.get(email="ann@acme.com")
    assert (lead.status, lead.first_name, lead.company, lead.needs_rescore) == (Status.NURTURE, "Ann", "Acme", True)
    assert lead.created_at == NOW
    assert lead.owner is None


def test_it_updates_the_lead_whose_email_matches_in_any_case(db):
    existing = LeadFactory(email="Ann@Acme.com", first_name="Old", company="Acme")
    result = run("email,first_name,company\nANN@acme.COM,Ann,\n", EMAIL_MAPPING)
    assert (result.created, result.updated) == (0, 1)
    existing.refresh_from_db()
    assert existing.first_name == "Ann"
    assert existing.company == "Acme"  # an empty cell never erases stored data
    assert existing.email == "Ann@Acme.com"  # the stored spelling stays
    assert Lead.objects.count() == 1


def test_it_matches_by_external_id_and_can_give_the_lead_a_new_email(db):
    existing = LeadFactory(email="old@acme.com", external_id="X-1")
    mapping = {"columns": {"id": "external_id", "email": "email"}}
    result = run("id,email\nX-1,new@acme.com\nX-2,\n", mapping)
    assert (result.created, result.updated, result.rejected) == (1, 1, 0)
    existing.refresh_from_db()
    assert existing.email == "new@acme.com"
    assert Lead.objects.get(external_id="X-2").email is None


def test_running_the_same_file_twice_creates_no_duplicates(db):
    text = "email,first_name,company\nann@acme.com,Ann,Acme\nbob@beta.io,Bob,Beta\n"
    first = run(text, EMAIL_MAPPING)
    second = run(text, EMAIL_MAPPING)
    assert (first.created, first.updated) == (2, 0)
    assert (second.created, second.updated) == (0, 2)
    assert Lead.objects.count() == 2
    assert LeadHistory.objects.count() == 2  # nothing changed the second time: no new history


def test_a_second_run_writes_only_the_leads_it_changes(db):
    text = "email,first_name,company\nann@acme.com,Ann,Acme\nbob@beta.io,Bob,Beta\n"
    run(text, EMAIL_MAPPING)
    before = dict(Lead.objects.values_list("email", "updated_at"))
    result = run(text.replace("Beta", "Beta AS"), EMAIL_MAPPING)
    assert result.updated == 2
    after = dict(Lead.objects.values_list("email", "updated_at"))
    assert after["ann@acme.com"] == before["ann@acme.com"]
    assert Lead.objects.get(email="bob@beta.io").company == "Beta AS"
    assert list(LeadHistory.objects.filter(data__created=False).values_list("lead__email", flat=True)) == [
        "bob@beta.io"
    ]


def test_a_later_row_with_a_key_already_in_the_file_is_reported_as_a_duplicate_and_the_first_row_wins(db):
    text = "email,first_name,company\nann@acme.com,Ann,Acme\nANN@ACME.COM,Annie,Other\nbob@beta.io,Bob,Beta\n"
    result = run(text, EMAIL_MAPPING)
    assert (result.created, result.rejected) == (2, 1)
    assert result.rejections == [
        {"line": 3, "reason": "duplicate: same email as line 2 (first row kept)", "key": "ANN@ACME.COM"}
    ]
    assert Lead.objects.get(email="ann@acme.com").first_name == "Ann"


def test_rows_whose_email_and_external_id_name_two_different_leads_are_refused(db):
    LeadFactory(email="a@x.com", external_id="A")
    LeadFactory(email="b@x.com", external_id="B")
    mapping = {"columns": {"id": "external_id", "email": "email"}}
    result = run("id,email\nA,b@x.com\n", mapping)
    assert result.rejections[0]["reason"] == "the email belongs to another lead than the external id A"
    assert Lead.objects.get(external_id="A").email == "a@x.com"


def test_two_rows_that_resolve_to_the_same_stored_lead_update_it_once(db):
    LeadFactory(email="a@x.com", external_id="A", company="Stored")
    mapping = {
        "columns": {"id": "external_id", "email": "email", "company": "company"},
        "options": {"key": "email"},
    }
    # Different emails, but the second row's external id names the lead the first row's email found.
    result = run("id,email,company\n,a@x.com,First\nA,b@x.com,Second\n", mapping)
    assert result.updated == 1
    assert result.rejections == [{"line": 3, "reason": "duplicate: names the same lead as line 2", "key": "b@x.com"}]
    assert Lead.objects.get(external_id="A").company == "First"


def test_a_mapping_without_a_key_column_is_refused_before_anything_is_read(db):
    with pytest.raises(ApplicationError) as exc:
        run("name,company\nAnn,Acme\n", {"columns": {"name": "full_name", "company": "company"}})
    assert "No key column" in exc.value.fields["columns"][0]


# --- Cells --------------------------------------------------------------------------------------


def test_cells_that_do_not_convert_reject_their_row_with_the_line_and_reason(db):
    mapping = {
        "columns": {
            "email": "email",
            "employees": "company_size",
            "created": "created_at",
            "revenue": "annual_revenue",
        }
    }
    text = (
        "email,employees,created,revenue\n"
        'ok@x.com,"1,200",2024-02-01,"$1,000.50"\n'
        "not-an-email,10,2024-02-01,1\n"
        "b@x.com,ten,2024-02-01,1\n"
        "c@x.com,10,31/02/2024,1\n"
        "d@x.com,10\n"
    )
    result = run(text, mapping)
    assert result.created == 1
    reasons = {r["line"]: r["reason"] for r in result.rejections}
    assert "not an email address" in reasons[3]
    assert "not a whole number" in reasons[4]
    assert "not a date" in reasons[5]
    assert reasons[6] == "has 2 fields, the header has 4"
    lead = Lead.objects.get(email="ok@x.com")
    assert (lead.company_size, lead.annual_revenue) == (1200, Decimal("1000.50"))
    assert lead.created_at == datetime.datetime(2024, 2, 1, tzinfo=datetime.UTC)


def test_value_maps_turn_placeholders_into_empty_and_yes_no_into_attributes(db):
    mapping = {
        "columns": {"Email": "email", "City": "city", "Do Not Email": "attributes.do_not_email"},
        "values": {"*": {"Select": ""}, "attributes.do_not_email": {"Yes": True, "No": False}},
    }
    run("Email,City,Do Not Email\na@x.com,Select,Yes\nb@x.com,Mumbai,no\n", mapping)
    a, b = Lead.objects.get(email="a@x.com"), Lead.objects.get(email="b@x.com")
    assert (a.city, a.attributes) == ("", {"do_not_email": True})
    assert (b.city, b.attributes) == ("Mumbai", {"do_not_email": False})


def test_semicolon_files_with_decimal_commas_and_a_date_format(db):
    mapping = {
        "columns": {"mail": "email", "wert": "deal_value", "datum": "created_at"},
        "options": {"decimal_comma": True, "date_format": "%d.%m.%Y"},
    }
    run("mail;wert;datum\na@x.de;1.234,50;31.12.2024\n", mapping)
    lead = Lead.objects.get()
    assert lead.deal_value == Decimal("1234.50")
    assert lead.created_at.date() == datetime.date(2024, 12, 31)


# --- History: stage, owner, dates ---------------------------------------------------------------

HISTORY_MAPPING = {
    "columns": {
        "id": "external_id",
        "owner": "owner",
        "stage": "stage",
        "engaged": ["created_at", "first_contact_at"],
        "closed": "closed_at",
        "value": "deal_value",
        "touches": "touch_count",
        "origin": "origin",
    },
    "values": {"stage": {"Engaging": "open", "Prospecting": "open"}},
}


def test_stages_become_sales_statuses_and_no_owned_lead_stays_in_the_pool(cast):
    text = (
        "id,owner,stage,engaged,closed,value,touches,origin\n"
        "W,rep1,Won,2024-01-02,2024-02-01,500,4,rep_sourced\n"
        "L,rep1@example.com,Lost,2024-01-02,2024-02-01,0,2,\n"
        "E,rep1,Engaging,2024-01-02,,,3,\n"
        "P,rep1,Prospecting,,,,,\n"
        "Q,,Prospecting,,,,,\n"
    )
    result = run(text, HISTORY_MAPPING)
    assert result.rejected == 0
    leads = {lead.external_id: lead for lead in Lead.objects.all()}
    assert leads["W"].status == Status.WON
    assert leads["W"].deal_value == Decimal("500.00")
    assert leads["W"].closed_at == datetime.datetime(2024, 2, 1, tzinfo=datetime.UTC)
    assert leads["W"].touch_count == 4
    assert leads["W"].origin == "rep_sourced"
    assert leads["L"].status == Status.LOST
    assert leads["E"].status == Status.WORKING  # open and contacted
    assert leads["E"].first_contact_at == datetime.datetime(2024, 1, 2, tzinfo=datetime.UTC)
    assert leads["P"].status == Status.ASSIGNED  # open, owned, not contacted yet
    for key in "WLEP":
        assert (leads[key].owner, leads[key].team) == (cast.rep, cast.team)
        assert leads[key].needs_rescore is False
        assert leads[key].sla_due_at is None  # history: no first-contact clock
    assert leads["Q"].status == Status.QUEUED  # open, unowned: in a team's queue
    assert leads["Q"].team.is_fallback


def test_an_owner_without_a_stage_takes_the_lead_out_of_the_pool(cast):
    pool_lead = LeadFactory(email="p@x.com", status=Status.NURTURE)
    mapping = {"columns": {"email": "email", "owner": "owner"}}
    run("email,owner\np@x.com,rep1\n", mapping)
    pool_lead.refresh_from_db()
    assert (pool_lead.status, pool_lead.owner) == (Status.ASSIGNED, cast.rep)


def test_an_import_never_sets_a_reps_progress_back_or_moves_a_lead_into_the_pool(cast):
    LeadFactory(email="w@x.com", status=Status.OPPORTUNITY, owner=cast.rep, team=cast.team)
    mapping = {"columns": {"email": "email", "stage": "stage"}}
    result = run("email,stage\nw@x.com,open\n", mapping)
    assert Lead.objects.get(email="w@x.com").status == Status.OPPORTUNITY
    LeadFactory(email="lost@x.com", status=Status.LOST)
    result = run("email,stage\nw@x.com,nurture\nlost@x.com,nurture\n", mapping)
    assert [r["reason"] for r in result.rejections] == [
        "a lead with an owner cannot be in the nurture pool (stage nurture)",
        "an import does not move a lead back into the nurture pool (it is lost)",
    ]
    assert Lead.objects.get(email="lost@x.com").status == Status.LOST


def test_owners_are_matched_by_username_email_or_full_name_in_any_case(cast):
    cast.rep.first_name, cast.rep.last_name = "Moses", "Frase"
    cast.rep.save()
    mapping = {"columns": {"id": "external_id", "owner": "owner", "stage": "stage"}}
    run("id,owner,stage\n1,REP1,won\n2,Rep1@Example.com,won\n3,moses  frase,won\n", mapping)
    assert set(Lead.objects.values_list("owner", flat=True)) == {cast.rep.pk}


def test_an_unknown_owner_rejects_the_row_unless_missing_owners_are_created(cast):
    mapping = {"columns": {"id": "external_id", "owner": "owner", "stage": "stage"}}
    result = run("id,owner,stage\n1,Nobody Here,won\n", mapping)
    assert "is not a sales rep here" in result.rejections[0]["reason"]
    assert not Lead.objects.exists()


def test_missing_owners_become_inactive_reps_in_a_new_unassigned_fallback_team(db):
    mapping = {
        "columns": {"id": "external_id", "owner": "owner", "stage": "stage"},
        "options": {"create_missing_owners": True},
    }
    result = run("id,owner,stage\n1,Moses Frase,won\n2,moses frase,lost\n3,Zoë Ng,open\n", mapping)
    assert result.owners_created == ["Moses Frase", "Zoë Ng"]
    moses = User.objects.get(username="moses.frase")
    assert (moses.role, moses.is_active, moses.first_name, moses.last_name) == (Role.REP, False, "Moses", "Frase")
    assert not moses.has_usable_password()
    team = Team.objects.get(is_fallback=True)
    assert team.name == "Unassigned"
    assert RepProfile.objects.get(user=moses).team == team
    assert Lead.objects.filter(owner=moses).count() == 2
    # Running again reuses the reps it made.
    run("id,owner,stage\n1,Moses Frase,won\n", mapping)
    assert User.objects.filter(first_name="Moses").count() == 1


def test_created_reps_go_to_the_team_the_mapping_names(db):
    TeamFactory(name="Fallback", is_fallback=True)
    mapping = {
        "columns": {"id": "external_id", "owner": "owner", "stage": "stage"},
        "options": {"create_missing_owners": True, "team": "History"},
    }
    run("id,owner,stage\n1,Ann Lee,won\n", mapping)
    assert User.objects.get(username="ann.lee").rep_profile.team.name == "History"


def test_a_won_stage_with_an_owner_but_nurture_requested_is_refused(cast):
    mapping = {"columns": {"id": "external_id", "owner": "owner", "stage": "stage"}}
    result = run("id,owner,stage\n1,rep1,nurture\n2,,assigned\n", mapping)
    assert [r["reason"] for r in result.rejections] == [
        "a lead with an owner cannot be in the nurture pool (stage nurture)",
        "stage assigned needs an owner",
    ]


# --- History rows, signals, chunks ----------------------------------------------------------------------


def test_every_imported_lead_gets_one_history_row_naming_the_line(cast):
    existing = LeadFactory(email="ann@acme.com")
    run("email,first_name,company\nann@acme.com,Ann,Acme\nbob@beta.io,Bob,Beta\n", EMAIL_MAPPING, actor=cast.marketer)
    rows = {h.lead.email: h for h in LeadHistory.objects.select_related("lead")}
    assert rows["ann@acme.com"].lead_id == existing.pk
    assert rows["ann@acme.com"].data == {"import_job": None, "line": 2, "created": False}
    assert rows["bob@beta.io"].data == {"import_job": None, "line": 3, "created": True}
    assert {h.action for h in rows.values()} == {HistoryAction.IMPORTED}
    assert {h.actor for h in rows.values()} == {cast.marketer}
    assert rows["bob@beta.io"].new_value == Status.NURTURE


def test_lead_activity_is_sent_once_per_chunk_with_the_nurture_lead_ids(
    db, activity, django_capture_on_commit_callbacks
):
    lines = "".join(f"l{i}@x.com,L{i},Co\n" for i in range(5))
    with django_capture_on_commit_callbacks(execute=True):
        run("email,first_name,company\n" + lines, EMAIL_MAPPING, chunk_size=2)
    ids = sorted(Lead.objects.values_list("id", flat=True))
    assert [len(batch) for batch in activity] == [2, 2, 1]
    assert sorted(i for batch in activity for i in batch) == ids


def test_won_and_lost_leads_are_not_sent_for_rescoring(cast, activity, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run("id,owner,stage\n1,rep1,won\n", {"columns": {"id": "external_id", "owner": "owner", "stage": "stage"}})
    assert activity == []


def test_a_chunk_that_fails_lands_nothing_and_a_second_run_finishes_without_duplicates(db):
    lines = "".join(f"l{i}@x.com,L{i},Co\n" for i in range(6))
    text = "email,first_name,company\n" + lines
    calls = []

    def failing_writer(rows, ctx):
        calls.append(len(rows))
        outcome = write_chunk(rows, ctx)  # the real write...
        if len(calls) == 2:
            raise RuntimeError("worker lost")  # ...then the process dies before the chunk commits
        return outcome

    with pytest.raises(RuntimeError):
        run(text, EMAIL_MAPPING, chunk_size=3, writer=failing_writer)
    assert sorted(Lead.objects.values_list("email", flat=True)) == ["l0@x.com", "l1@x.com", "l2@x.com"]
    assert LeadHistory.objects.count() == 3  # no history row without its lead, none for the lost chunk

    result = run(text, EMAIL_MAPPING, chunk_size=3)
    assert (result.created, result.updated) == (3, 3)
    assert Lead.objects.count() == 6


def _commit_elsewhere(**lead_fields) -> None:
    """Another session creates a lead and commits (a thread has its own database connection)."""

    def create():
        try:
            LeadFactory(**lead_fields)
        finally:
            connection.close()

    thread = threading.Thread(target=create)
    thread.start()
    thread.join()


@pytest.mark.django_db(transaction=True)
def test_a_key_created_by_someone_else_between_look_up_and_write_becomes_an_update():
    calls = []

    def racing_writer(rows, ctx):
        if not calls:
            calls.append(1)
            _commit_elsewhere(email="race@x.com", first_name="Theirs", company="Theirs Inc")
        return write_chunk(rows, ctx)

    text = "email,first_name,company\nrace@x.com,Ours,\nnew@x.com,New,\n"
    result = run(text, EMAIL_MAPPING, writer=racing_writer)
    assert (result.created, result.updated) == (1, 1)
    lead = Lead.objects.get(email="race@x.com")
    assert (lead.first_name, lead.company) == ("Ours", "Theirs Inc")
    history = sorted(LeadHistory.objects.values_list("lead__email", "data"))
    assert history == [
        ("new@x.com", {"import_job": None, "line": 3, "created": True}),
        ("race@x.com", {"import_job": None, "line": 2, "created": False}),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_conflict_on_the_other_key_retries_the_chunk_once_then_reports_it():
    calls = []

    def racing_writer(rows, ctx):
        calls.append(1)
        if len(calls) == 1:
            _commit_elsewhere(email="race@x.com", external_id="THEIRS")
        return write_chunk(rows, ctx)

    mapping = {"columns": {"id": "external_id", "email": "email"}}
    result = run("id,email\nOURS,race@x.com\nOTHER,other@x.com\n", mapping, writer=racing_writer)
    assert len(calls) == 2  # the chunk rolled back whole, was looked up again and written
    assert result.rejections[0]["reason"] == "the email belongs to a lead with another external id (THEIRS)"
    assert result.created == 1
    assert sorted(Lead.objects.values_list("external_id", flat=True)) == ["OTHER", "THEIRS"]


def test_integrity_errors_that_persist_are_raised(db):
    def always_failing(rows, ctx):
        raise IntegrityError("duplicate key")

    with pytest.raises(IntegrityError):
        run("email,first_name,company\na@x.com,A,B\n", EMAIL_MAPPING, writer=always_failing)


def test_a_dry_run_counts_everything_and_writes_nothing(db):
    LeadFactory(email="ann@acme.com")
    mapping = {
        "columns": {"email": "email", "owner": "owner", "stage": "stage"},
        "options": {"create_missing_owners": True},
    }
    result = run("email,owner,stage\nann@acme.com,New Rep,won\nbob@x.com,New Rep,lost\n", mapping, dry_run=True)
    assert (result.created, result.updated, result.owners_created) == (1, 1, ["New Rep"])
    assert Lead.objects.count() == 1
    assert not User.objects.filter(username="new.rep").exists()
    assert not Team.objects.exists()
    assert not LeadHistory.objects.exists()


# --- What lands: leads and their history rows ----------------------------------------------------------


def _snapshot():
    fields = (
        "email",
        "external_id",
        "first_name",
        "company",
        "status",
        "owner_id",
        "team_id",
        "deal_value",
        "touch_count",
        "attributes",
        "needs_rescore",
        "created_at",
        "closed_at",
    )
    return sorted(Lead.objects.values_list(*fields))


def test_an_import_writes_the_leads_and_one_history_row_each(cast):
    # Created before the file's close date (a close before creation is refused: test_import_dates).
    LeadFactory(
        email="keep@x.com",
        external_id="K",
        company="Kept",
        first_name="Kim",
        attributes={"a": 1},
        created_at=datetime.datetime(2024, 1, 2, tzinfo=datetime.UTC),
    )
    mapping = {
        "columns": {
            "id": "external_id",
            "email": "email",
            "first": "first_name",
            "company": "company",
            "owner": "owner",
            "stage": "stage",
            "value": "deal_value",
            "touches": "touch_count",
            "closed": "closed_at",
            "tier": "attributes.tier",
        }
    }
    text = (
        "id,email,first,company,owner,stage,value,touches,closed,tier\n"
        "K,keep@x.com,,,rep1,won,10.5,2,2024-01-31,gold\n"
        "N1,n1@x.com,Nia,NewCo,,,,,,silver\n"
        "N2,,Ned,,rep2,open,,1,,\n"
    )
    result = run(text, mapping)
    assert (result.created, result.updated, result.rejected) == (2, 1, 0)
    leads = {lead.external_id: lead for lead in Lead.objects.all()}
    kept = leads["K"]
    assert (kept.first_name, kept.company, kept.status, kept.owner) == ("Kim", "Kept", Status.WON, cast.rep)
    assert kept.attributes == {"a": 1, "tier": "gold"}
    assert (kept.deal_value, kept.touch_count) == (Decimal("10.50"), 2)
    assert (leads["N1"].status, leads["N1"].needs_rescore, leads["N1"].attributes) == (
        Status.NURTURE,
        True,
        {"tier": "silver"},
    )
    assert (leads["N2"].status, leads["N2"].owner, leads["N2"].team) == (Status.WORKING, cast.teammate, cast.team)
    assert leads["N2"].created_at == NOW
    history = sorted(LeadHistory.objects.values_list("lead__external_id", "old_value", "new_value", "data"))
    assert history == [
        ("K", Status.NURTURE, Status.WON, {"import_job": None, "line": 2, "created": False}),
        ("N1", "", Status.NURTURE, {"import_job": None, "line": 3, "created": True}),
        ("N2", "", Status.WORKING, {"import_job": None, "line": 4, "created": True}),
    ]


def test_a_second_run_changes_only_the_cells_the_file_changed(cast):
    text = "email,first_name,company\nann@acme.com,Ann,Acme\nbob@beta.io,Bob,\n"
    run(text, EMAIL_MAPPING)
    before = _snapshot()
    result = run(text.replace(",Acme", ",Acme 2"), EMAIL_MAPPING)
    assert (result.created, result.updated) == (0, 2)
    after = _snapshot()
    assert [row[3] for row in after] == ["Acme 2", ""]
    assert [row[:3] + row[4:] for row in after] == [row[:3] + row[4:] for row in before]


def test_time_is_read_once_for_the_whole_import(db):
    lines = "".join(f"l{i}@x.com,L{i},Co\n" for i in range(5))
    run("email,first_name,company\n" + lines, EMAIL_MAPPING, chunk_size=2)
    assert set(Lead.objects.values_list("created_at", flat=True)) == {NOW}
    assert set(LeadHistory.objects.values_list("created_at", flat=True)) == {NOW}
    assert timezone.is_aware(NOW)


def test_the_next_chunk_is_parsed_while_this_one_is_written(db, monkeypatch):
    from leads.imports.parse import Plan

    parse, parsed_lines = Plan.parse, []
    second_chunk_parsed = threading.Event()

    def counting_parse(self, row):
        parsed_lines.append(row.line)
        if len(parsed_lines) == 6:
            second_chunk_parsed.set()
        return parse(self, row)

    monkeypatch.setattr(Plan, "parse", counting_parse)
    lines = "".join(f"l{i}@x.com,L{i},Co\n" for i in range(9))
    seen_while_writing = []

    def writer(rows, ctx):
        if not seen_while_writing:  # the first chunk: the parser goes on without waiting for it
            assert second_chunk_parsed.wait(timeout=10)
        seen_while_writing.append(len(parsed_lines))
        return write_chunk(rows, ctx)

    result = run("email,first_name,company\n" + lines, EMAIL_MAPPING, chunk_size=3, writer=writer)
    assert result.created == 9
    assert seen_while_writing[0] >= 6  # chunk 2 was parsed before chunk 1 was written
    assert parsed_lines == list(range(2, 11))  # each row once, in file order


def test_a_parsing_failure_stops_the_import_with_that_error_after_the_chunks_before_it(db, monkeypatch):
    from leads.imports.parse import Plan

    parse = Plan.parse

    def breaking_parse(self, row):
        if row.line == 8:
            raise RuntimeError("parser bug")
        return parse(self, row)

    monkeypatch.setattr(Plan, "parse", breaking_parse)
    lines = "".join(f"l{i}@x.com,L{i},Co\n" for i in range(9))
    with pytest.raises(RuntimeError, match="parser bug"):
        run("email,first_name,company\n" + lines, EMAIL_MAPPING, chunk_size=3)
    # The error surfaces when the writer asks for the failing chunk, after the two
    # before it were written: those landed whole, the failing chunk landed nothing.
    stored = sorted(Lead.objects.values_list("email", "first_name", "status"))
    assert stored == [(f"l{i}@x.com", f"L{i}", Status.NURTURE) for i in range(6)]
