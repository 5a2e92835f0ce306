"""Teams from the file: the shipped CRM example, mapped with sales_teams.csv as a lookup,
puts its reps on their managers' teams in one import, without a separate roster step.

Expected teams, managers, regions and per-team counts are computed here from the
example's CSV files with the csv module. Reads only the copies in examples/.
"""

import csv
import io
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db.models import Count

from accounts.models import RepProfile, Role, Team, User
from leads.models import Lead

EXAMPLE = Path(settings.BASE_DIR) / "examples" / "crm-sales-opportunities"


def _rows(name: str) -> list[dict[str, str]]:
    with open(EXAMPLE / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_the_crm_example_lands_its_reps_on_six_teams_in_three_regions_in_one_import(db):
    roster = {r["sales_agent"]: r for r in _rows("sales_teams.csv")}
    pipeline = _rows("sales_pipeline.csv")
    team_of_agent = {agent: f"{r['manager']}'s team" for agent, r in roster.items()}
    agents = {r["sales_agent"] for r in pipeline}
    expected_teams = {team_of_agent[a]: roster[a]["regional_office"] for a in agents}
    expected_managers = {team_of_agent[a]: roster[a]["manager"] for a in agents}
    expected_deals = Counter(team_of_agent[r["sales_agent"]] for r in pipeline)
    expected_reps = Counter(team_of_agent[a] for a in agents)

    out = io.StringIO()
    call_command(
        "import_leads",
        str(EXAMPLE / "sales_pipeline.csv"),
        mapping=str(EXAMPLE / "mapping.json"),
        no_progress=True,
        stdout=out,
    )
    output = out.getvalue()
    assert "created 8800, updated 0, rejected 0 of 8800 rows." in output
    assert "6 teams in 3 regions." in output

    teams = Team.objects.select_related("manager")
    assert {t.name: t.region for t in teams} == expected_teams
    assert len(expected_teams) == 6 and set(expected_teams.values()) == {"Central", "East", "West"}
    assert {t.name: t.manager.get_full_name() for t in teams} == expected_managers
    assert set(User.objects.filter(role=Role.MANAGER).values_list("first_name", "last_name")) == {
        tuple(m.split(" ", 1)) for m in expected_managers.values()
    }
    reps_per_team = Counter(RepProfile.objects.values_list("team__name", flat=True))
    assert reps_per_team == expected_reps
    deals_per_team = dict(Lead.objects.values_list("team__name").annotate(n=Count("id")))
    assert deals_per_team == dict(expected_deals)
    # Every deal's owner is its agent, and the agent's team is the deal's team.
    for lead in Lead.objects.select_related("owner__rep_profile__team", "team").iterator():
        assert lead.owner.rep_profile.team_id == lead.team_id

    # Again: the roster part changes nothing and no lead moves.
    out = io.StringIO()
    call_command(
        "import_leads",
        str(EXAMPLE / "sales_pipeline.csv"),
        mapping=str(EXAMPLE / "mapping.json"),
        no_progress=True,
        stdout=out,
    )
    assert "created 0, updated 8800, rejected 0 of 8800 rows." in out.getvalue()
    assert "0 reps created, 0 moved, 0 updated, 30 unchanged" in out.getvalue()
    assert Team.objects.count() == 6
    assert dict(Lead.objects.values_list("team__name").annotate(n=Count("id"))) == dict(expected_deals)
