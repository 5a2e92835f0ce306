"""Teams from the file's own columns (issue 14, point 1): owner_team / owner_manager /
owner_region build the roster before the leads are written; disagreements refuse the
whole file with the lines named, and nothing is written."""

import datetime

import pytest

from accounts.models import RepProfile, Team, User
from leadhandoff.api import ApplicationError
from leads.imports import CsvFile, Importer
from leads.models import Lead

NOW = datetime.datetime(2025, 3, 3, 10, 0, tzinfo=datetime.UTC)
MAPPING = {
    "columns": {
        "id": "external_id",
        "rep": "owner",
        "stage": "stage",
        "team": "owner_team",
        "boss": "owner_manager",
        "office": "owner_region",
    },
}


def run(text: str, mapping: dict = MAPPING, **kwargs):
    return Importer(csv_file=CsvFile.from_bytes(text.encode()), mapping=mapping, actor=None, now=NOW, **kwargs).run()


def test_a_team_column_names_the_team_its_manager_and_region_come_along(cast):
    result = run(
        "id,rep,stage,team,boss,office\n"
        "1,Nora Field,open,Nordics,Lars Berg,North\n"
        "2,Nora Field,won,Nordics,Lars Berg,North\n"
        "3,Omar Haddad,open,Iberia,Sofia Ruiz,South\n"
        f"4,{cast.rep.get_full_name()},open,Nordics,Lars Berg,North\n"  # an existing rep moves to the file's team
    )
    assert (result.created, result.rejected) == (4, 0)
    teams = {t.name: (t.manager.get_full_name(), t.region) for t in Team.objects.filter(name__in=["Nordics", "Iberia"])}
    assert teams == {"Nordics": ("Lars Berg", "North"), "Iberia": ("Sofia Ruiz", "South")}
    nordics = Team.objects.get(name="Nordics")
    assert set(RepProfile.objects.filter(team=nordics).values_list("user__username", flat=True)) == {
        "nora.field",
        cast.rep.username,
    }
    assert set(Lead.objects.filter(team=nordics).values_list("external_id", flat=True)) == {"1", "2", "4"}
    assert result.roster is not None and "2 teams in 2 regions" in result.roster.sentence()


def test_an_owner_the_file_gives_two_teams_refuses_the_file_and_writes_nothing(cast):
    users = User.objects.count()
    with pytest.raises(ApplicationError) as caught:
        run(
            "id,rep,stage,team,boss,office\n"
            "1,Nora Field,open,Nordics,Lars Berg,North\n"
            "2,Nora Field,open,Iberia,Sofia Ruiz,South\n"
        )
    assert caught.value.message == "The file gives an owner two different teams; nothing was imported."
    assert caught.value.fields == {
        "owner_team": [
            "line 3: Nora Field has manager Sofia Ruiz, region South, team Iberia, "
            "but manager Lars Berg, region North, team Nordics on line 2"
        ]
    }
    assert not Lead.objects.exists() and User.objects.count() == users


def test_what_the_roster_import_refuses_refuses_the_file(cast):
    with pytest.raises(ApplicationError) as caught:
        run(
            "id,rep,stage,team,boss,office\n"
            "1,Nora Field,open,Nordics,Lars Berg,North\n"
            "2,Lars Berg,open,Iberia,Sofia Ruiz,South\n"  # a manager of line 2 as a rep
        )
    assert "nothing was imported" in caught.value.message
    assert "a manager is not a rep" in caught.value.message
    assert not Lead.objects.exists() and not Team.objects.filter(name="Nordics").exists()


def test_teams_without_an_owner_column_are_refused_with_the_reason(db):
    mapping = {"columns": {"id": "external_id", "boss": "owner_manager"}}
    with pytest.raises(ApplicationError) as caught:
        run("id,boss\n1,Lars Berg\n", mapping)
    assert caught.value.message == "The owners' team, manager or region is mapped but no owner column is."
