"""The shipped CRM example: its roster, then its pipeline, lands every deal on its agent's team.

Expected figures are computed here from the example's CSV files with the csv
module, independently of the import code. Reads only the copies in examples/.
"""

import csv
import io
from collections import Counter
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db.models import Count, Sum

from accounts.models import Role, Team, User
from leads.models import Lead, Status

EXAMPLE = Path(settings.BASE_DIR) / "examples" / "crm-sales-opportunities"


def _rows(name: str) -> list[dict[str, str]]:
    with open(EXAMPLE / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_the_roster_then_the_pipeline_puts_every_deal_on_its_agents_team(db):
    roster = _rows("sales_teams.csv")
    pipeline = _rows("sales_pipeline.csv")
    team_of_agent = {r["sales_agent"]: f"{r['manager']}'s team" for r in roster}
    region_of_team = {f"{r['manager']}'s team": r["regional_office"] for r in roster}
    expected_deals = Counter(team_of_agent[r["sales_agent"]] for r in pipeline)
    expected_won = Counter(team_of_agent[r["sales_agent"]] for r in pipeline if r["deal_stage"] == "Won")
    expected_won_value: dict[str, Decimal] = {}
    for r in pipeline:
        if r["deal_stage"] == "Won":
            team = team_of_agent[r["sales_agent"]]
            expected_won_value[team] = expected_won_value.get(team, Decimal(0)) + Decimal(r["close_value"])

    out = io.StringIO()
    call_command("import_roster", str(EXAMPLE / "sales_teams.csv"), stdout=out)
    assert out.getvalue().rstrip().endswith("6 teams in 3 regions.")
    call_command(
        "import_leads",
        str(EXAMPLE / "sales_pipeline.csv"),
        mapping=str(EXAMPLE / "mapping.json"),
        no_progress=True,
        stdout=io.StringIO(),
    )

    # 6 teams (one per manager) in 3 regions with 35 reps; no "Unassigned" catch-all was needed.
    teams = Team.objects.select_related("manager")
    assert {t.name: t.region for t in teams} == region_of_team
    assert len(region_of_team) == 6 and set(region_of_team.values()) == {"Central", "East", "West"}
    assert {t.name: t.manager.get_full_name() for t in teams} == {
        f"{r['manager']}'s team": r["manager"] for r in roster
    }
    assert User.objects.filter(role=Role.REP).count() == 35
    assert User.objects.filter(role=Role.MANAGER).count() == 6
    for user in User.objects.filter(role=Role.REP).select_related("rep_profile__team"):
        assert user.rep_profile.team.name == team_of_agent[user.get_full_name()]

    # Every deal on its agent's team, per-team counts and won value as the CSV says.
    assert Lead.objects.count() == len(pipeline)
    leads = Lead.objects.select_related("owner", "team")
    assert all(lead.team.name == team_of_agent[lead.owner.get_full_name()] for lead in leads)
    assert dict(Lead.objects.values_list("team__name").annotate(n=Count("id"))) == expected_deals
    won = Lead.objects.filter(status=Status.WON).values_list("team__name").annotate(n=Count("id"), v=Sum("deal_value"))
    assert {name: n for name, n, _v in won} == expected_won
    assert {name: v for name, _n, v in won} == expected_won_value
    by_region = dict(Lead.objects.values_list("team__region").annotate(n=Count("id")))
    expected_by_region = Counter(region_of_team[team_of_agent[r["sales_agent"]]] for r in pipeline)
    assert by_region == expected_by_region

    # The file gives no touch counts: every imported deal's count is unknown, never 0.
    assert not Lead.objects.filter(touch_count__isnull=False).exists()

    # The roster again changes nothing.
    out = io.StringIO()
    call_command("import_roster", str(EXAMPLE / "sales_teams.csv"), stdout=out)
    assert "0 reps created, 0 moved, 0 updated, 35 unchanged" in out.getvalue()
