"""The roster import (accounts.roster): teams, managers and reps from a CSV, all or nothing, idempotent."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection, connections
from django.utils import timezone

from accounts.models import RepProfile, Role, Team, User
from accounts.roster.services import ROSTER_LOCK, RosterRefusedError, roster_import
from leadhandoff.api import ApplicationError
from leadhandoff.csv_reader import CsvFile
from leads.imports import Importer
from leads.models import Lead
from tests.factories import TeamFactory, UserFactory, make_rep

pytestmark = pytest.mark.django_db

CRM_SHAPED = (
    "sales_agent,manager,regional_office\n"
    "Anna Snelling,Dustin Brinkmann,Central\n"
    "Cecily Lampkin,Dustin Brinkmann,Central\n"
    "Moses Frase,Cara Losch,East\n"
    "Mei-Mei Johns,Cara Losch,East\n"
)


def roster(text: str, **kwargs):
    return roster_import(csv_file=CsvFile.from_bytes(text.encode()), **kwargs)


def snapshot():
    """Everything a roster writes, to compare before and after."""
    return (
        sorted(User.objects.values_list("username", "email", "first_name", "last_name", "role", "is_active")),
        sorted(Team.objects.values_list("name", "region", "manager__username")),
        sorted(RepProfile.objects.values_list("user__username", "team__name")),
    )


def test_without_a_team_column_each_manager_gets_a_team_tagged_with_its_region(db):
    report = roster(CRM_SHAPED)

    assert report.ok and report.summary["reps_created"] == 4 and report.summary["managers_created"] == 2
    teams = {t.name: (t.region, t.manager.get_full_name()) for t in Team.objects.select_related("manager")}
    assert teams == {
        "Dustin Brinkmann's team": ("Central", "Dustin Brinkmann"),
        "Cara Losch's team": ("East", "Cara Losch"),
    }
    anna = User.objects.get(username="anna.snelling")
    assert (anna.role, anna.first_name, anna.last_name, anna.is_active) == (Role.REP, "Anna", "Snelling", True)
    assert not anna.has_usable_password()
    assert list(anna.groups.values_list("name", flat=True)) == ["Sales rep"]
    assert anna.rep_profile.team.name == "Dustin Brinkmann's team"
    assert User.objects.get(username="mei.mei.johns").rep_profile.team.name == "Cara Losch's team"
    dustin = User.objects.get(username="dustin.brinkmann")
    assert (dustin.role, dustin.has_usable_password(), hasattr(dustin, "rep_profile")) == (Role.MANAGER, False, False)
    assert [(t.name, t.reps, t.action) for t in report.teams] == [
        ("Dustin Brinkmann's team", 2, "create"),
        ("Cara Losch's team", 2, "create"),
    ]


def test_running_the_same_roster_twice_changes_nothing(db):
    roster(CRM_SHAPED)
    before = snapshot()

    again = roster(CRM_SHAPED)

    assert snapshot() == before
    assert again.summary | {"rows": 0} == {
        "rows": 0,
        "reps_created": 0,
        "reps_moved": 0,
        "reps_updated": 0,
        "reps_unchanged": 4,
        "managers_created": 0,
        "teams_created": 0,
        "teams_updated": 0,
        "rows_with_errors": 0,
    }
    assert {t.action for t in again.teams} == {"unchanged"}


def test_existing_reps_are_matched_by_email_then_username_then_full_name_and_moved(db):
    old = TeamFactory(name="Old")
    by_email = make_rep(team=old, username="ann", email="ann@corp.example", first_name="Ann", last_name="Lee")
    by_username = make_rep(team=old, username="bob.stone", email="", first_name="", last_name="")
    by_name = make_rep(team=old, username="cstone", email="c@corp.example", first_name="Cy", last_name="Stone")
    text = (
        "email,rep,team,region,manager\n"
        "ANN@corp.example,Annie Lee,North,N,Maya Boss\n"
        "bob@corp.example,Bob Stone,North,N,\n"
        ",cy stone,South,S,\n"
    )

    report = roster(text)

    assert report.ok, report.errors
    assert [(r.username, r.action) for r in report.rows] == [("ann", "move"), ("bob.stone", "move"), ("cstone", "move")]
    assert User.objects.filter(role=Role.REP).count() == 3  # nobody created
    for user, team in ((by_email, "North"), (by_username, "North"), (by_name, "South")):
        user.refresh_from_db()
        assert user.rep_profile.team.name == team
    # What a user lacked is filled in; what it has is kept.
    assert (by_username.email, by_username.first_name, by_username.last_name) == ("bob@corp.example", "Bob", "Stone")
    assert (by_email.first_name, by_email.email) == ("Ann", "ann@corp.example")
    north = Team.objects.get(name="North")
    assert (north.region, north.manager.username) == ("N", "maya.boss")


def test_reps_go_to_the_one_team_their_manager_already_manages(db):
    boss = UserFactory(username="dana", role=Role.MANAGER, first_name="Dana", last_name="Boss")
    east = TeamFactory(name="East", manager=boss)

    report = roster("rep,manager,region\nEve Ray,Dana Boss,Eastern\n")

    assert report.ok and report.rows[0].team == "East"
    east.refresh_from_db()
    assert east.region == "Eastern"
    assert User.objects.get(username="eve.ray").rep_profile.team == east
    assert not Team.objects.filter(name__endswith="'s team").exists()


def test_a_rep_the_lead_import_created_is_found_and_moved_not_duplicated(db):
    pipeline = "id,owner,stage\nD1,Anna Snelling,won\n"
    mapping = {"columns": {"id": "external_id", "owner": "owner", "stage": "stage"}}
    mapping["options"] = {"create_missing_owners": True}
    Importer(csv_file=CsvFile.from_bytes(pipeline.encode()), mapping=mapping, actor=None, now=timezone.now()).run()
    created = User.objects.get(role=Role.REP)
    assert (created.username, created.rep_profile.team.name) == ("anna.snelling", "Unassigned")

    report = roster(CRM_SHAPED)

    assert report.rows[0].action == "move" and report.rows[0].username == "anna.snelling"
    assert User.objects.filter(first_name="Anna", last_name="Snelling").count() == 1
    created.refresh_from_db()
    assert created.rep_profile.team.name == "Dustin Brinkmann's team"
    assert created.is_active is False  # the roster never changes who may log in
    # Importing the pipeline again puts the deal on the rep's team.
    Importer(csv_file=CsvFile.from_bytes(pipeline.encode()), mapping=mapping, actor=None, now=timezone.now()).run()
    assert Lead.objects.get(external_id="D1").team.name == "Dustin Brinkmann's team"


def test_headers_are_flexible_semicolons_first_and_last_names_and_extra_columns(db):
    text = (
        "First Name;Last Name;Work Email;Sales Team;Territory;Team Lead;Phone\nAl;Bo;al@x.example;Gold;APAC;Cy Do;1\n"
    )
    report = roster(text)
    assert report.ok and report.ignored_columns == ["Phone"]
    al = User.objects.get(email="al@x.example")
    assert (al.username, al.first_name, al.last_name, al.rep_profile.team.name) == ("al.bo", "Al", "Bo", "Gold")
    gold = Team.objects.get(name="Gold")
    assert (gold.region, gold.manager.username) == ("APAC", "cy.do")


def test_a_rep_given_by_email_only_gets_a_username_from_it(db):
    report = roster("email,team\nzed@x.example,Gold\n")
    assert report.rows[0].username == "zed"
    assert User.objects.get(username="zed").email == "zed@x.example"


def test_a_file_without_a_rep_or_a_team_column_is_refused(db):
    with pytest.raises(ApplicationError) as no_rep:
        roster("manager,region\nA,B\n")
    assert "No column names the rep" in no_rep.value.fields["file"][0]
    with pytest.raises(ApplicationError) as no_team:
        roster("rep,region\nA,B\n")
    assert "No team or manager column" in no_team.value.fields["file"][0]
    with pytest.raises(ApplicationError) as empty:
        roster("rep,team\n")
    assert empty.value.message == "The roster file has no rows."


def test_row_errors_are_reported_each_on_its_line_and_nothing_is_written(db):
    UserFactory(username="mark", role=Role.MARKETING, first_name="Mark", last_name="Eting")
    UserFactory(username="mo", role=Role.MARKETING, first_name="Mo", last_name="Keting")
    UserFactory(username="twin1", role=Role.REP, first_name="Sam", last_name="Twin", email="t1@x.example")
    UserFactory(username="twin2", role=Role.REP, first_name="Sam", last_name="Twin", email="t2@x.example")
    before = snapshot()
    text = (
        "rep,email,manager,team,region\n"
        "Good Rep,,Boss One,Alpha,North\n"  # 2: fine on its own
        ",,Boss One,Alpha,North\n"  # 3: no rep
        "Good Rep,,Boss One,Alpha,North\n"  # 4: duplicate of line 2
        "Other Rep,,Boss Two,Alpha,North\n"  # 5: a second manager for Alpha
        "Third Rep,,Boss One,Alpha,South\n"  # 6: a second region for Alpha
        "Boss One,,,Beta,\n"  # 7: a manager of the file listed as a rep
        "Mark Eting,,Boss One,Alpha,\n"  # 8: a marketer, not a rep
        "Sam Twin,,Boss One,Alpha,\n"  # 9: two users carry the name
        "Lone Rep,,,,\n"  # 10: no team, no manager
        "Bad Mail,not-an-email,Boss One,Alpha,\n"  # 11
        "Mark Two,,Mo Keting,Gamma,\n"  # 12: the manager is a marketer
    )

    with pytest.raises(RosterRefusedError) as refused:
        roster(text)

    assert snapshot() == before
    report = refused.value.report
    errors = dict(report.errors)
    assert set(errors) == {3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
    assert errors[3] == "has no rep name or email"
    assert errors[4] == "duplicate: the same rep as line 2"
    assert "has the manager “Boss One” on line 2" in errors[5]
    assert "is in the region “North” on line 2" in errors[6]
    assert "is the manager on line 2" in errors[7]
    assert errors[8] == "“Mark Eting” is the user mark (role: Marketing), not a sales rep"
    assert "matches 2 users; give the email" in errors[9]
    assert errors[10] == "has no team or manager: the rep's team cannot be told"
    assert "is not an email address" in errors[11]
    assert errors[12] == "manager “Mo Keting” is the user mo (role: Marketing); make them a manager first"
    assert refused.value.fields["line 3"] == ["has no rep name or email"]
    assert refused.value.message == "10 of 11 rows have errors; nothing was imported."


def test_a_dry_run_reports_what_would_happen_and_writes_nothing(db):
    before = snapshot()
    report = roster(CRM_SHAPED, dry_run=True)
    assert snapshot() == before
    assert report.dry_run and report.ok and report.summary["reps_created"] == 4
    assert report.sentence().startswith("Dry run, nothing written; importing gives: 4 reps created, 0 moved")
    with_errors = roster("rep,team\n,A\n", dry_run=True)  # a dry run returns its errors instead of raising
    assert with_errors.errors == [(2, "has no rep name or email")]


# --- The command ---------------------------------------------------------------------


def test_the_command_imports_reports_each_row_and_dry_runs(db, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(CRM_SHAPED, encoding="utf-8")
    out = io.StringIO()
    call_command("import_roster", str(path), "--dry-run", stdout=out)
    assert "Dry run, nothing written" in out.getvalue() and not User.objects.exists()

    out = io.StringIO()
    call_command("import_roster", str(path), stdout=out)
    text = out.getvalue()
    assert "line 2: Anna Snelling [anna.snelling] create in Dustin Brinkmann's team" in text
    assert "team Dustin Brinkmann's team, Central, manager Dustin Brinkmann: 2 reps, create" in text
    assert text.rstrip().endswith("2 teams in 2 regions.")
    assert User.objects.filter(role=Role.REP).count() == 4


def test_the_command_fails_with_the_rows_errors_and_writes_nothing(db, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("rep,manager\nAnn,Boss\n,Boss\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 of 2 rows have errors; nothing was imported."):
        call_command("import_roster", str(path), stderr=err, stdout=io.StringIO())
    assert "line 3: (no rep): has no rep name or email" in err.getvalue()
    assert not User.objects.exists()
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_roster", str(tmp_path / "missing.csv"))


def test_timestamps_do_not_matter_for_idempotence(db):
    # A second run a day later is still a no-op (nothing in a roster depends on the clock).
    roster(CRM_SHAPED)
    before = snapshot()
    Team.objects.update(created_at=timezone.now() - datetime.timedelta(days=1))
    roster(CRM_SHAPED)
    assert snapshot() == before


def test_a_roster_import_waits_for_one_already_running(db):
    # Another session holds the roster lock (as a running import would): this import waits
    # for it instead of racing it to create the same people; here it gives up at lock_timeout.
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", ROSTER_LOCK)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '50ms'")
        with pytest.raises(OperationalError, match="lock timeout"):
            roster(CRM_SHAPED)
    finally:
        other.close()
