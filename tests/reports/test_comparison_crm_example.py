"""The comparison on the shipped CRM example equals figures computed in plain Python
from its CSV file: win rate, median and 75th percentile cycle of won deals, won value,
in total, per rep and per region (teams tagged with a region)."""

import csv
import datetime
import io
import json
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Team, User
from leads.models import Lead
from reports.selectors import ComparisonParams, comparison_compute
from tests.reports.expected import summary

EXAMPLE = Path(settings.BASE_DIR) / "examples" / "crm-sales-opportunities"


def _csv_rows():
    with open(EXAMPLE / "sales_pipeline.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            status = {"Won": "won", "Lost": "lost"}.get(row["deal_stage"], "open")
            cycle = None
            if row["close_date"] and row["engage_date"]:
                cycle = (
                    datetime.date.fromisoformat(row["close_date"]) - datetime.date.fromisoformat(row["engage_date"])
                ).days
            yield {
                "agent": row["sales_agent"],
                "status": status,
                "cycle": cycle,
                "value": Decimal(row["close_value"]) if row["close_value"] else None,
                "touches": None,
            }


def _assert_matches(figures, expected):
    for key in ("leads", "won", "lost", "win_rate", "median_cycle_days_won", "p75_cycle_days_won"):
        assert figures[key] == expected[key], key
    assert Decimal(str(figures["won_value"])) == expected["won_value"]


def test_the_crm_example_compares_to_the_unit_in_total_per_rep_and_per_region(db):
    call_command(
        "import_leads",
        str(EXAMPLE / "sales_pipeline.csv"),
        mapping=str(EXAMPLE / "mapping.json"),
        no_progress=True,
        stdout=io.StringIO(),
    )
    rows = list(_csv_rows())
    closed = [r for r in rows if r["status"] in ("won", "lost")]
    now = timezone.now()

    # Close-date mode over all time: every closed deal, all of it imported history.
    data = comparison_compute(params=ComparisonParams(), now=now)
    expected = summary(closed)
    assert expected["median_cycle_days_won"] == 57  # the figure issue 12 quotes
    _assert_matches(data["total"], expected)
    assert list(data["groups"]) == ["imported"]
    _assert_matches(data["groups"]["imported"], expected)
    # Touches are not in the file: unknown, never 0.
    assert data["total"]["median_touches_won"] is None and data["total"]["median_touches_lost"] is None
    assert data["total"]["closed_before_start"] == 0

    # Per rep: the imported agents are users named by the agent's full name.
    agents = {u.get_full_name(): u.username for u in User.objects.filter(owned_leads__isnull=False).distinct()}
    assert len(agents) == 30
    data = comparison_compute(params=ComparisonParams(group_by="rep"), now=now)
    assert set(data["groups"]) == set(agents.values())
    for agent, username in agents.items():
        _assert_matches(data["groups"][username], summary([r for r in closed if r["agent"] == agent]))

    # Per region: two teams tagged with regions, agents split alphabetically.
    names = sorted(agents)
    region_of = {name: ("Central" if i % 2 else "East") for i, name in enumerate(names)}
    for region in ("Central", "East"):
        team = Team.objects.create(name=f"{region} office", region=region)
        owners = User.objects.filter(username__in=[agents[n] for n in names if region_of[n] == region])
        Lead.objects.filter(owner__in=owners).update(team=team)
    data = comparison_compute(params=ComparisonParams(group_by="region"), now=now)
    assert set(data["groups"]) == {"Central", "East"}
    for region in ("Central", "East"):
        _assert_matches(data["groups"][region], summary([r for r in closed if region_of[r["agent"]] == region]))
    data = comparison_compute(params=ComparisonParams(group_by="team", region="East"), now=now)
    assert list(data["groups"]) == ["East office"]
    _assert_matches(data["groups"]["East office"], summary([r for r in closed if region_of[r["agent"]] == "East"]))

    # The command prints the same figures, last line JSON.
    out = io.StringIO()
    call_command("comparison_report", "--json", "--group-by", "region", stdout=out)
    last = json.loads(out.getvalue().strip().splitlines()[-1])
    assert set(last) == {"total", "groups"}
    assert last["total"]["won"] == expected["won"]
    assert last["total"]["conversion"] is None  # close-date mode: conversion is not shown
    assert (
        last["groups"]["East"]["median_cycle_days_won"]
        == summary([r for r in closed if region_of[r["agent"]] == "East"])["median_cycle_days_won"]
    )


def test_with_its_roster_the_crm_example_compares_per_shipped_region_and_team(db):
    """The example as README tells it: the roster (sales_teams.csv), then the pipeline; the
    comparison per regional office and per manager's team equals the CSVs' own figures."""
    call_command("import_roster", str(EXAMPLE / "sales_teams.csv"), stdout=io.StringIO())
    call_command(
        "import_leads",
        str(EXAMPLE / "sales_pipeline.csv"),
        mapping=str(EXAMPLE / "mapping.json"),
        no_progress=True,
        stdout=io.StringIO(),
    )
    with open(EXAMPLE / "sales_teams.csv", newline="", encoding="utf-8") as fh:
        roster = {row["sales_agent"]: row for row in csv.DictReader(fh)}
    closed = [r for r in _csv_rows() if r["status"] in ("won", "lost")]
    now = timezone.now()

    by_region = comparison_compute(params=ComparisonParams(group_by="region"), now=now)["groups"]
    regions = {row["regional_office"] for row in roster.values()}
    assert set(by_region) == regions and len(regions) == 3
    for region in regions:
        _assert_matches(
            by_region[region], summary([r for r in closed if roster[r["agent"]]["regional_office"] == region])
        )

    by_team = comparison_compute(params=ComparisonParams(group_by="team"), now=now)["groups"]
    managers = {row["manager"] for row in roster.values()}
    assert len(by_team) == len(managers) == 6
    for manager in managers:
        team = Team.objects.get(manager__first_name=manager.split()[0], manager__last_name=manager.split()[-1])
        _assert_matches(by_team[team.name], summary([r for r in closed if roster[r["agent"]]["manager"] == manager]))
