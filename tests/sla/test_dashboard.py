"""The SLA dashboard: figures against a computation written here from the clock rows
(never the dashboard's SQL), access per role, drill-down, CSV, constant queries."""

from __future__ import annotations

import csv
import datetime
import io
import math
import statistics
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from leads.models import ClockOutcome, FirstContactClock, Status
from sla.models import ClockEvent, EventKind
from tests.factories import LeadFactory, TeamFactory, UserFactory, make_rep

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 23, 15, 0, tzinfo=datetime.UTC)  # Monday 15:00 UTC
URL = "/sla/dashboard/"
LEADS_URL = "/sla/dashboard/leads/"
H = 3600


def make(rep, team, *, due, outcome="", contact_after=None, business=None, ended=None, window_h=24, reassignment=0):
    """A clock as the clock services leave it: met / breached (contacted or not) / open / reassigned."""
    started = due - datetime.timedelta(hours=window_h)
    lead = LeadFactory(status=Status.WORKING if contact_after else Status.ASSIGNED, owner=rep, team=team)
    contacted = started + datetime.timedelta(seconds=contact_after) if contact_after is not None else None
    if contacted is not None and not outcome:
        outcome = ClockOutcome.MET if contacted <= due else ClockOutcome.BREACHED
    return FirstContactClock.objects.create(
        lead=lead,
        rep=rep,
        team=team,
        stop_on="attempt",
        window_minutes=window_h * 60,
        started_at=started,
        due_at=due,
        outcome=outcome,
        contacted_at=contacted,
        seconds_to_contact=contact_after,
        business_seconds_to_contact=business if business is not None else contact_after,
        breached_at=due if outcome == ClockOutcome.BREACHED else None,
        ended_at=contacted or ended,
        reassignment=reassignment,
    )


def event(clock, kind, at, seq=1):
    return ClockEvent.objects.create(
        clock=clock, lead=clock.lead, rep=clock.rep, kind=kind, seq=seq, due_at=at, created_at=at
    )


def interpolated(values, q):
    """Linear interpolation between the closest ranks (what percentile_cont does), by hand."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def expected(clocks, events, now, start, end):
    """The figures of these clock rows, computed here."""
    in_period = [c for c in clocks if start <= c.due_at < end]
    came_due = [c for c in in_period if c.outcome in ("met", "breached") or (c.outcome == "" and c.due_at <= now)]
    met = [c for c in in_period if c.outcome == "met"]
    contacted = [c.seconds_to_contact for c in in_period if c.contacted_at]
    business = [c.business_seconds_to_contact for c in in_period if c.contacted_at]
    ids = {c.id for c in clocks}
    evs = [e for e in events if e.clock_id in ids and start <= e.created_at < end]
    return {
        "came_due": len(came_due),
        "met": len(met),
        "contacted": len(contacted),
        "median_seconds": interpolated(contacted, 0.5),
        "p90_seconds": interpolated(contacted, 0.9),
        "median_business_seconds": interpolated(business, 0.5),
        "p90_business_seconds": interpolated(business, 0.9),
        "open_breaches": sum(1 for c in clocks if c.ended_at is None and c.due_at <= now),
        "warnings": sum(1 for e in evs if e.kind == "warning"),
        "reassignments": sum(1 for e in evs if e.kind == "reassignment"),
    }


def near(a, b):
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-6)


def assert_figures(got: dict, want: dict):
    for key, value in want.items():
        assert near(got[key], value) if "seconds" in key else got[key] == value, (key, got[key], value)


@pytest.fixture
def world(cast):
    """Clocks of both teams over two months: met early and late in the period, missed and contacted
    late, missed and still open, open and running, reassigned before the deadline; events."""
    d = lambda days, hours=0: NOW - datetime.timedelta(days=days, hours=hours)  # noqa: E731
    c = [
        make(cast.rep, cast.team, due=d(2), contact_after=1 * H),
        make(cast.rep, cast.team, due=d(3), contact_after=5 * H + 17, business=2 * H),
        make(cast.rep, cast.team, due=d(9), contact_after=23 * H),
        make(cast.rep, cast.team, due=d(10), contact_after=30 * H, business=9 * H),  # late: breached
        make(cast.rep, cast.team, due=d(12)),  # missed, still open: an open breach
        make(cast.rep, cast.team, due=d(-1)),  # running, not due
        make(cast.rep, cast.team, due=d(20), outcome=ClockOutcome.REASSIGNED, ended=d(21)),  # never came due
        make(cast.teammate, cast.team, due=d(1, 3), contact_after=600),
        make(cast.teammate, cast.team, due=d(15), contact_after=2 * H),
        make(cast.teammate, cast.team, due=d(16), outcome=ClockOutcome.BREACHED, ended=d(15)),  # closed after breach
        make(cast.teammate, cast.team, due=d(40), contact_after=3 * H),  # before the period
        make(cast.teammate, cast.team, due=d(45)),  # old open breach: counts "now", not in the period
        make(cast.other_rep, cast.other_team, due=d(4), contact_after=7 * H),
        make(cast.other_rep, cast.other_team, due=d(5)),
    ]
    events = [
        event(c[0], EventKind.WARNING, d(2, 12)),
        event(c[4], EventKind.WARNING, d(12, 12)),
        event(c[4], EventKind.WARNING, d(12, 2), seq=2),
        event(c[9], EventKind.REASSIGNMENT, d(16)),
        event(c[10], EventKind.WARNING, d(40, 5)),  # before the period
        event(c[12], EventKind.WARNING, d(4, 6)),
    ]
    return c, events


def get(client, user, url, **params):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        return client.get(url, params)


def test_the_url_is_the_documented_one():
    assert reverse("sla_dashboard:dashboard") == URL
    assert reverse("sla_dashboard:leads") == LEADS_URL
    assert reverse("api-sla-dashboard") == "/api/v1/sla/dashboard/"
    assert reverse("api-sla-free-to-cold-call") == "/api/v1/sla/free-to-cold-call/"


def test_a_managers_figures_match_a_computation_from_the_rows(client, cast, world):
    clocks, events = world
    response = get(client, cast.manager, URL)
    assert response.status_code == 200
    data = response.context["data"]
    start, end = NOW - datetime.timedelta(days=30), NOW
    team_clocks = [c for c in clocks if c.team_id == cast.team.id]
    assert [t.id for t in data.teams] == [cast.team.id]
    assert_figures(data.overall.as_dict(), expected(team_clocks, events, NOW, start, end))
    rows = {r.rep.id: r for r in data.rep_rows}
    assert set(rows) == {cast.rep.id, cast.teammate.id}
    for rep in (cast.rep, cast.teammate):
        mine = [c for c in team_clocks if c.rep_id == rep.id]
        assert_figures(rows[rep.id].figures.as_dict(), expected(mine, events, NOW, start, end))
    # By hand for rep1: due in the period and came due: 5 (met 1 h, met 5 h, met 23 h, late 30 h, open missed);
    # the running and the reassigned clocks never came due.
    assert (rows[cast.rep.id].figures.compliance.met, rows[cast.rep.id].figures.compliance.came_due) == (3, 5)
    assert rows[cast.rep.id].figures.median_s == pytest.approx(statistics.median([H, 5 * H + 17, 23 * H, 30 * H]))
    assert data.overall.open_breaches == 2  # rep1's, and teammate's from before the period
    html = response.content.decode()
    assert "rep3" not in html and cast.other_team.name not in html


def test_percentiles_are_linear_interpolation_like_statistics_inclusive(client, cast):
    seconds = [60, 120, 400, 1000, 1000, 3600, 7200, 7201, 20000, 86000, 90000, 100000]
    for i, s in enumerate(seconds):
        make(cast.rep, cast.team, due=NOW - datetime.timedelta(days=1, minutes=i), contact_after=s, window_h=48)
    data = get(client, cast.manager, URL).context["data"]
    deciles = statistics.quantiles(seconds, n=10, method="inclusive")
    assert data.overall.p90_s == pytest.approx(deciles[8])
    assert data.overall.median_s == pytest.approx(statistics.median(seconds))
    assert data.overall.p90_words == "1 day"  # through the one duration formatter


def test_weeks_are_the_readers_weeks(client, cast, world):
    clocks, events = world
    cast.manager.timezone = "America/New_York"
    cast.manager.save()
    data = get(client, cast.manager, URL).context["data"]
    tz = zoneinfo.ZoneInfo("America/New_York")
    start, end = NOW - datetime.timedelta(days=30), NOW
    team_clocks = [c for c in clocks if c.team_id == cast.team.id and start <= c.due_at < end]

    def monday(at):
        local = at.astimezone(tz).date()
        return local - datetime.timedelta(days=local.weekday())

    weeks = sorted({monday(c.due_at) for c in team_clocks})
    assert [w.week for w in data.week_rows] == weeks
    for row in data.week_rows:
        mine = [c for c in team_clocks if monday(c.due_at) == row.week]
        want = expected(mine, [e for e in events if monday(e.created_at) == row.week], NOW, start, end)
        want.pop("open_breaches")  # "now", not per week
        assert_figures(row.figures.as_dict(), want)
    assert data.charts["trend"]["came_due"] == [w.figures.compliance.came_due for w in data.week_rows]


def test_periods_seven_days_and_custom_dates(client, cast, world):
    clocks, events = world
    team_clocks = [c for c in clocks if c.team_id == cast.team.id]
    data = get(client, cast.manager, URL, period="7").context["data"]
    assert_figures(data.overall.as_dict(), expected(team_clocks, events, NOW, NOW - datetime.timedelta(days=7), NOW))
    data = get(client, cast.manager, URL, period="custom", start="2026-10-01", end="2026-11-10").context["data"]
    start = datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC)
    end = datetime.datetime(2026, 11, 11, tzinfo=datetime.UTC)
    assert (data.period.start, data.period.end) == (start, end)
    assert_figures(data.overall.as_dict(), expected(team_clocks, events, NOW, start, end))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "custom", "start": "2026-11-10"}, "Give both dates"),
        ({"period": "custom", "start": "2026-11-10", "end": "2026-11-01"}, "on or after the first"),
        ({"period": "custom", "start": "2024-01-01", "end": "2026-11-01"}, "at most 366 days"),
        ({"period": "12"}, "Select a valid choice"),
    ],
)
def test_a_bad_period_is_refused_with_a_message(client, cast, params, message):
    response = get(client, cast.manager, URL, **params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["data"].period.key == "30"


def test_the_team_filter_and_another_managers_team(client, cast, world):
    assert get(client, cast.manager, URL, team=cast.other_team.id).status_code == 404
    data = get(client, cast.admin, URL, team=cast.other_team.id).context["data"]
    assert [t.id for t in data.teams] == [cast.other_team.id]
    assert data.overall.compliance.came_due == 2


def test_marketing_and_admins_see_every_team(client, cast, world):
    for user in (cast.marketer, cast.admin):
        data = get(client, user, URL).context["data"]
        assert {t.id for t in data.teams} == {cast.team.id, cast.other_team.id}
        assert {r.rep.id for r in data.rep_rows} == {cast.rep.id, cast.teammate.id, cast.other_rep.id}


def test_reps_may_not_open_the_dashboard(client, cast):
    assert get(client, cast.rep, URL).status_code == 403
    assert get(client, cast.rep, LEADS_URL, figure="met").status_code == 403


def test_free_to_cold_call_badges_with_reasons(client, cast, world):
    response = get(client, cast.manager, URL)
    rows = {r.rep.id: r for r in response.context["data"].rep_rows}
    assert rows[cast.rep.id].free.free is False
    assert any("past the first-contact deadline" in reason for reason in rows[cast.rep.id].free.reasons)
    html = response.content.decode()
    assert 'data-free="no"' in html and "past the first-contact deadline" in html


def lead_ids(response):
    return {c.lead_id for c in response.context["page"].object_list}


def test_every_figure_drills_down_to_its_leads(client, cast, world):
    clocks, events = world
    c = clocks
    base = {"period": "30"}
    assert lead_ids(get(client, cast.manager, LEADS_URL, figure="met", **base)) == {
        x.lead_id for x in (c[0], c[1], c[2], c[7], c[8])
    }
    assert lead_ids(get(client, cast.manager, LEADS_URL, figure="missed", **base)) == {
        x.lead_id for x in (c[3], c[4], c[9])
    }
    assert lead_ids(get(client, cast.manager, LEADS_URL, figure="open_breaches", **base)) == {
        c[4].lead_id,
        c[11].lead_id,
    }
    assert lead_ids(get(client, cast.manager, LEADS_URL, figure="warnings", **base)) == {c[0].lead_id, c[4].lead_id}
    assert lead_ids(get(client, cast.manager, LEADS_URL, figure="reassignments", **base)) == {c[9].lead_id}
    response = get(client, cast.manager, LEADS_URL, figure="contacted", rep=cast.teammate.id, **base)
    assert lead_ids(response) == {c[7].lead_id, c[8].lead_id}
    assert f'href="/leads/{c[7].lead_id}/brief/"' in response.content.decode()


def test_the_drill_down_never_shows_another_managers_leads(client, cast, world):
    clocks, _ = world
    response = get(client, cast.manager, LEADS_URL, figure="came_due", rep=cast.other_rep.id)
    assert response.status_code == 200 and lead_ids(response) == set()
    assert get(client, cast.manager, LEADS_URL, figure="came_due", team=cast.other_team.id).status_code == 404
    # A lead moved to another team since leaves the manager's drill-down with it (the lead pages' door).
    lead = clocks[0].lead
    lead.team, lead.owner = cast.other_team, cast.other_rep
    lead.save()
    assert clocks[0].lead_id not in lead_ids(get(client, cast.manager, LEADS_URL, figure="met"))


def test_marketing_drills_down_to_the_marketing_lead_page(client, cast, world):
    clocks, _ = world
    response = get(client, cast.marketer, LEADS_URL, figure="missed")
    assert lead_ids(response) == {x.lead_id for x in (clocks[3], clocks[4], clocks[9], clocks[13])}
    assert f'href="/leads/{clocks[3].lead_id}/"' in response.content.decode()


def test_a_week_drill_down_and_pages(client, cast):
    for i in range(55):
        make(cast.rep, cast.team, due=NOW - datetime.timedelta(days=1, minutes=i), contact_after=H)
    make(cast.rep, cast.team, due=NOW - datetime.timedelta(days=8), contact_after=H)  # the week before
    first = get(client, cast.manager, LEADS_URL, figure="met", week="2026-11-16")
    assert first.context["page"].paginator.count == 55 and len(first.context["page"].object_list) == 50
    second = get(client, cast.manager, LEADS_URL, figure="met", week="2026-11-16", page="2")
    assert len(second.context["page"].object_list) == 5
    assert "week=2026-11-16" in first.content.decode()


def test_a_bad_figure_is_refused(client, cast):
    assert get(client, cast.manager, LEADS_URL, figure="everything").status_code == 400


def test_the_csv_export_through_the_one_writer(client, cast, world):
    clocks, events = world
    response = get(client, cast.manager, "/sla/dashboard/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by = {(r["row"], r["team"], r["rep"]): r for r in rows}
    mine = [c for c in clocks if c.rep_id == cast.rep.id]
    want = expected(mine, events, NOW, NOW - datetime.timedelta(days=30), NOW)
    rep = by[("rep", "East", "rep1")]
    assert (int(rep["came_due"]), int(rep["met"]), float(rep["compliance_percent"])) == (5, 3, 60.0)
    assert float(rep["median_seconds"]) == pytest.approx(want["median_seconds"])
    assert rep["free_to_cold_call"] == "no" and rep["median"] == "14 h"
    assert ("team", "West", "") not in by


def test_a_team_name_cannot_become_a_spreadsheet_formula(client, cast):
    cast.team.name = "=HYPERLINK(1)"
    cast.team.save()
    rows = list(csv.reader(io.StringIO(get(client, cast.manager, "/sla/dashboard/export.csv").content.decode())))
    assert rows[2][:2] == ["team", "'=HYPERLINK(1)"]


def _admin_world(teams: int, reps: int):
    admin = UserFactory(role=Role.ADMIN, username=f"admin{teams}x{reps}")
    for _ in range(teams):
        team = TeamFactory(manager=UserFactory(role=Role.MANAGER))
        for r in range(reps):
            rep = make_rep(team=team)
            clock = make(rep, team, due=NOW - datetime.timedelta(days=1 + r), contact_after=H * (r + 1))
            make(rep, team, due=NOW - datetime.timedelta(days=2))
            event(clock, EventKind.WARNING, NOW - datetime.timedelta(days=2 + r))
    return admin


def test_the_page_makes_the_same_number_of_queries_for_one_rep_or_thirty(client):
    def count(user):
        client.force_login(user)
        with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    small = count(_admin_world(1, 1))
    big = count(_admin_world(3, 10))
    assert small == big, (small, big)
    assert big <= 14


def test_a_rep_who_moved_teams_is_counted_where_each_clock_ran(client, cast):
    """rep1 (now East) had a clock on West: West's manager sees it and its warning; East's does not."""
    west = make(cast.rep, cast.other_team, due=NOW - datetime.timedelta(days=3), contact_after=2 * H)
    event(west, EventKind.WARNING, NOW - datetime.timedelta(days=3, hours=12))
    east = get(client, cast.manager, URL).context["data"]
    assert (east.overall.compliance.came_due, east.overall.warnings) == (0, 0)
    data = get(client, cast.other_manager, URL).context["data"]
    rows = {r.rep.id: r for r in data.rep_rows}
    assert rows[cast.rep.id].figures.compliance.came_due == 1 and rows[cast.rep.id].figures.warnings == 1
    assert (data.overall.warnings, data.team_rows[0].figures.warnings) == (1, 1)


def test_week_rows_do_not_claim_an_overdue_now_figure(client, cast, world):
    html = get(client, cast.manager, URL).content.decode()
    week_table = html.split('data-testid="week-table"')[1].split("</table>")[0]
    assert 'title="A figure of now, not of a week"' in week_table
