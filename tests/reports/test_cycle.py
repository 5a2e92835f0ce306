"""The cycle-length dashboard: histogram, monthly trend by origin, team and rep, and time in each
stage from the lead history, against an independent computation over the raw rows; drill-down."""

from __future__ import annotations

import datetime
import random
import statistics
from collections import defaultdict

import pytest
from django.urls import reverse

from leads.models import Lead, LeadHistory, Origin, Status
from reports.analyses import services
from reports.analyses.cycle import BIN_DAYS, LAST_BIN, STAGES, cycle_compute
from reports.models import Analysis
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 30, 12, 0, tzinfo=datetime.UTC)
SINCE, UNTIL = datetime.date(2026, 3, 1), datetime.date(2026, 6, 30)
H = datetime.timedelta(hours=1)


def _random_history(cast, seed):
    rng = random.Random(seed)
    reps = [(cast.rep, cast.team), (cast.teammate, cast.team), (cast.other_rep, cast.other_team)]
    for _ in range(80):
        rep, team = rng.choice(reps)
        origin = Origin.REP_SOURCED if rng.random() < 0.3 else Origin.MARKETING
        created = datetime.datetime(2025, 12, 1, tzinfo=datetime.UTC) + rng.uniform(0, 24 * 200) * H
        assigned = None if origin == Origin.REP_SOURCED else created + rng.uniform(1, 100) * H
        if origin == Origin.MARKETING and rng.random() < 0.05:
            assigned = None  # imported without an assignment: a data error
        start = assigned or created
        stages, at = [], start
        for stage in ("contacted", "working", "opportunity", "won"):
            if stage == "opportunity" and rng.random() < 0.3:
                continue
            at = at + rng.uniform(1, 24 * 20) * H
            stages.append((stage, at))
        closed = stages[-1][1] if rng.random() < 0.9 else start - 30 * H  # some won "before" the start
        status = Status.WON if rng.random() < 0.8 else Status.LOST
        lead = LeadFactory(
            origin=origin,
            status=status,
            owner=rep,
            team=team,
            created_at=created,
            assigned_at=assigned,
            closed_at=closed,
        )
        previous = "assigned"
        for stage, when in stages:
            LeadHistory.objects.create(
                lead=lead, action="status_changed", old_value=previous, new_value=stage, created_at=when
            )
            previous = stage


def _expected(team_id=None):
    start = datetime.datetime.combine(SINCE, datetime.time(), tzinfo=datetime.UTC)
    end = datetime.datetime.combine(UNTIL + datetime.timedelta(days=1), datetime.time(), tzinfo=datetime.UTC)
    deals, bad = [], 0
    for lead in Lead.objects.filter(status="won"):
        if not (start <= lead.closed_at < end) or (team_id and lead.team_id != team_id):
            continue
        begin = lead.created_at if lead.origin == "rep_sourced" else lead.assigned_at
        if begin is None or lead.closed_at < begin:
            bad += 1
            continue
        deals.append((lead, (lead.closed_at.date() - begin.date()).days))
    histogram = defaultdict(int)
    for _, cycle in deals:
        histogram[min(cycle // BIN_DAYS, LAST_BIN)] += 1
    trend = defaultdict(lambda: defaultdict(list))
    for lead, cycle in deals:
        month = lead.closed_at.strftime("%Y-%m")
        trend["all"][("all", month)].append(cycle)
        trend["origin"][("rep_sourced" if lead.origin == "rep_sourced" else "mql", month)].append(cycle)
        trend["team"][(str(lead.team_id), month)].append(cycle)
        trend["rep"][(str(lead.owner_id), month)].append(cycle)
    stages = defaultdict(list)
    for lead, _ in deals:
        entries = [("assigned", lead.assigned_at or lead.created_at, 0)]
        entries += [
            (h.new_value, h.created_at, h.id) for h in LeadHistory.objects.filter(lead=lead, action="status_changed")
        ]
        entries.sort(key=lambda e: (e[1], e[2]))
        for (stage, at, _), (_, next_at, _) in zip(entries, entries[1:], strict=False):
            if stage in STAGES:
                stages[stage].append((next_at - at).total_seconds() / 3600)
    return deals, bad, histogram, trend, stages


@pytest.mark.parametrize("seed", [1, 2])
def test_the_dashboard_equals_an_independent_computation_over_the_raw_rows(cast, seed):
    _random_history(cast, seed)
    for team_id in (None, cast.team.id):
        data = cycle_compute(since=SINCE, until=UNTIL, team_id=team_id, now=NOW)
        deals, bad, histogram, trend, stages = _expected(team_id)
        assert (data["deals"], data["data_errors"]) == (len(deals), bad)
        assert {b["bin"]: b["deals"] for b in data["histogram"]} == dict(histogram)
        for by, cells in trend.items():
            for (key, month), cycles in cells.items():
                got = data["trend"][by][key]["months"][month]
                assert got["deals"] == len(cycles)
                assert got["median_days"] == pytest.approx(statistics.median(cycles))
        for stage in STAGES:
            assert data["stages"][stage]["deals"] == len(stages[stage])
            if stages[stage]:
                assert data["stages"][stage]["median_hours"] == pytest.approx(
                    statistics.median(stages[stage]), abs=1e-3
                )


def test_every_bar_drills_down_to_its_deals(cast, client):
    _random_history(cast, 3)
    analysis = services.analysis_request(
        kind=Analysis.Kind.CYCLE, since=SINCE, until=UNTIL, team_id=cast.team.id, actor=cast.manager
    )
    analysis = services.analysis_build(analysis_id=analysis.pk, now=NOW)
    client.force_login(cast.manager)
    page = client.get(reverse("reports:analysis_detail", args=[analysis.pk]))
    assert page.status_code == 200 and b'data-testid="cycle-histogram"' in page.content
    for bar in analysis.data["histogram"]:
        shown = client.get(reverse("reports:cycle_bin_leads", args=[analysis.pk, bar["bin"]])).context["leads"]
        assert len(shown) == bar["deals"]
    month = analysis.data["months"][-1]
    cell = analysis.data["trend"]["origin"]["mql"]["months"].get(month)
    if cell:
        url = reverse("reports:cycle_leads", args=[analysis.pk, "origin", "mql", month])
        assert len(client.get(url).context["leads"]) == cell["deals"]
    client.force_login(cast.rep)
    rep_view = client.get(reverse("api-analysis-detail", args=[analysis.pk])).json()["data"]
    assert set(rep_view["trend"]["rep"]) <= {str(cast.rep.pk)}
