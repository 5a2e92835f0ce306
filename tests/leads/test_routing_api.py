"""GET /api/v1/teams/<id>/load/ and POST /api/v1/reps/<id>/pause/ and /unpause/."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from leads.models import Status
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

MONDAY_NOON_UTC = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.UTC)


def load_url(team) -> str:
    return reverse("api-team-load", kwargs={"team_id": team.id})


def test_a_manager_sees_each_reps_load_on_their_team(api, cast, leads):
    LeadFactory(status=Status.CONTACTED, owner=cast.rep, team=cast.team, first_contact_at=MONDAY_NOON_UTC)
    cast.teammate.rep_profile.out_of_office = True
    cast.teammate.rep_profile.save()
    with time_machine.travel(MONDAY_NOON_UTC, tick=False):
        response = api.as_user(cast.manager).get(load_url(cast.team))
    assert response.status_code == 200
    data = response.json()
    assert data["team"] == {"id": cast.team.id, "name": "East"}
    reps = {r["username"]: r for r in data["reps"]}
    assert set(reps) == {"rep1", "rep2"}
    assert (reps["rep1"]["open_uncontacted"], reps["rep1"]["open_total"], reps["rep1"]["capacity"]) == (1, 2, 25)
    assert reps["rep1"]["working_now"] is True and reps["rep1"]["available"] is True
    assert reps["rep2"]["out_of_office"] is True and reps["rep2"]["available"] is False
    assert data["unassigned"] == 1
    assert data["overdue_first_contacts"] == 0


def test_another_teams_load_is_a_404_for_a_manager(api, cast):
    assert api.as_user(cast.manager).get(load_url(cast.other_team)).status_code == 404


def test_an_admin_sees_any_teams_load(api, cast):
    response = api.as_user(cast.admin).get(load_url(cast.other_team))
    assert response.status_code == 200
    assert [r["username"] for r in response.json()["reps"]] == ["rep3"]


@pytest.mark.parametrize("role", ["rep", "marketer"])
def test_reps_and_marketing_may_not_read_loads(api, cast, role):
    assert api.as_user(cast.by_role(role)).get(load_url(cast.team)).status_code == 403


def test_a_manager_pauses_and_unpauses_a_rep(api, cast):
    client = api.as_user(cast.manager)
    response = client.post(reverse("api-rep-pause", kwargs={"rep_id": cast.rep.id}))
    assert response.status_code == 200
    assert response.json() == {"id": cast.rep.id, "username": "rep1", "team": cast.team.id, "paused": True}
    cast.rep.rep_profile.refresh_from_db()
    assert cast.rep.rep_profile.paused
    response = client.post(reverse("api-rep-unpause", kwargs={"rep_id": cast.rep.id}))
    assert response.json()["paused"] is False


def test_pausing_another_teams_rep_is_a_404(api, cast):
    response = api.as_user(cast.manager).post(reverse("api-rep-pause", kwargs={"rep_id": cast.other_rep.id}))
    assert response.status_code == 404
    cast.other_rep.rep_profile.refresh_from_db()
    assert not cast.other_rep.rep_profile.paused


def test_a_rep_may_not_pause_anyone(api, cast):
    response = api.as_user(cast.rep).post(reverse("api-rep-pause", kwargs={"rep_id": cast.teammate.id}))
    assert response.status_code == 403


def test_the_routing_endpoints_are_in_the_openapi_schema(api, cast):
    schema = api.as_user(cast.admin).get(reverse("api-schema")).content.decode()
    for path in ("/api/v1/leads/reassign/", "/api/v1/teams/{team_id}/load/", "/api/v1/reps/{rep_id}/pause/"):
        assert path in schema
