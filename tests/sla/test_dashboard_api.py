"""The SLA dashboard's API: the page's figures and free-to-cold-call, with the pages' permissions."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from leads.models import ClockOutcome
from tests.sla.test_dashboard import NOW, assert_figures, expected, make

pytestmark = pytest.mark.django_db

DASHBOARD = "/api/v1/sla/dashboard/"
FREE = "/api/v1/sla/free-to-cold-call/"
H = 3600


@pytest.fixture
def clocks(cast):
    d = lambda days: NOW - datetime.timedelta(days=days)  # noqa: E731
    return [
        make(cast.rep, cast.team, due=d(2), contact_after=H),
        make(cast.rep, cast.team, due=d(3), contact_after=30 * H, business=8 * H),
        make(cast.rep, cast.team, due=d(4)),  # open breach
        make(cast.teammate, cast.team, due=d(5), contact_after=2 * H),
        make(cast.teammate, cast.team, due=d(6), outcome=ClockOutcome.REASSIGNED, ended=d(7)),
        make(cast.other_rep, cast.other_team, due=d(2), contact_after=4 * H),
    ]


def call(api, user, url, **params):
    client = api.as_user(user)  # the token is issued now, after the user's password was set
    with time_machine.travel(NOW, tick=False):
        return client.get(url, params)


@pytest.mark.parametrize(
    ("role", "status", "teams"),
    [
        ("rep", 403, None),
        ("manager", 200, {"East"}),
        ("other_manager", 200, {"West"}),
        ("marketer", 200, {"East", "West"}),
        ("admin", 200, {"East", "West"}),
    ],
)
def test_the_dashboard_api_per_role(api, cast, clocks, role, status, teams):
    response = call(api, getattr(cast, role), DASHBOARD)
    assert response.status_code == status
    if teams is not None:
        assert {t["name"] for t in response.json()["teams"]} == teams


def test_the_api_gives_the_pages_figures(api, cast, clocks):
    body = call(api, cast.manager, DASHBOARD, period="7").json()
    start = NOW - datetime.timedelta(days=7)
    team = [c for c in clocks if c.team_id == cast.team.id]
    assert body["period"]["key"] == "7"
    assert body["period"]["start"].startswith("2026-11-16T15:00:00")
    assert_figures(body["overall"], expected(team, [], NOW, start, NOW))
    reps = {r["username"]: r for r in body["reps"]}
    want = expected([c for c in team if c.rep_id == cast.rep.id], [], NOW, start, NOW)
    assert_figures(reps["rep1"], want)
    assert (reps["rep1"]["came_due"], reps["rep1"]["met"], reps["rep1"]["compliance"]) == (3, 1, pytest.approx(1 / 3))
    assert reps["rep1"]["median_business_words"] == "4 h 30 min"  # (1 h + 8 h) / 2
    assert reps["rep1"]["free_to_cold_call"] is False
    assert sum(b["count"] for b in body["distribution"]) == body["overall"]["contacted"] == 3
    assert [(w["week"], w["open_breaches"]) for w in body["weeks"]] == [("2026-11-16", None)]


def test_another_managers_team_is_a_404_and_a_bad_period_a_400(api, cast, clocks):
    assert call(api, cast.manager, DASHBOARD, team=cast.other_team.id).status_code == 404
    response = call(api, cast.manager, DASHBOARD, period="custom", start="2026-11-10")
    assert response.status_code == 400
    assert "Give both dates" in response.json()["fields"]["non_field_errors"][0]
    response = call(api, cast.manager, DASHBOARD, period="custom", start="2026-11-10", end="2026-11-01")
    assert response.status_code == 400 and "end" in response.json()["fields"]


def test_the_api_refuses_anonymous_callers(api, cast):
    assert call(api, None, DASHBOARD).status_code == 401
    assert call(api, None, FREE).status_code == 401


@pytest.mark.parametrize(
    ("role", "status", "reps"),
    [
        ("rep", 200, {"rep1"}),
        ("other_rep", 200, {"rep3"}),
        ("manager", 200, {"rep1", "rep2"}),
        ("other_manager", 200, {"rep3"}),
        ("admin", 200, {"rep1", "rep2", "rep3"}),
        ("marketer", 403, None),
    ],
)
def test_free_to_cold_call_per_role(api, cast, clocks, role, status, reps):
    response = call(api, getattr(cast, role), FREE)
    assert response.status_code == status
    if reps is not None:
        assert {r["username"] for r in response.json()} == reps


def test_free_to_cold_call_says_why_not(api, cast, clocks):
    body = {r["username"]: r for r in call(api, cast.manager, FREE).json()}
    rep1, rep2 = body["rep1"], body["rep2"]
    assert rep1["free"] is False and rep1["open_breaches"] == [clocks[2].lead_id]
    assert any("past the first-contact deadline" in reason for reason in rep1["reasons"])
    # rep2: one met of one that came due (the reassigned clock never came due), nothing overdue.
    assert (rep2["free"], rep2["met"], rep2["came_due"], rep2["reasons"]) == (True, 1, 1, [])
    assert call(api, cast.manager, FREE, team="x").status_code == 400
    assert {r["username"] for r in call(api, cast.admin, FREE, team=cast.other_team.id).json()} == {"rep3"}


def test_the_schema_documents_both_endpoints():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    params = {p["name"] for p in paths["/api/v1/sla/dashboard/"]["get"]["parameters"]}
    assert {"period", "start", "end", "team"} <= params
    assert {"200", "400", "403", "404"} <= set(paths["/api/v1/sla/dashboard/"]["get"]["responses"])
    assert "/api/v1/sla/free-to-cold-call/" in paths
