"""The policies API: same permissions as the pages, 400 with field messages, a lead's clocks."""

import datetime

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from accounts.models import ClosedDate, FirstContactPolicy
from leads.clock.services import clock_start, clocks_end
from leads.models import ClockOutcome
from tests.factories import make_queue_lead

pytestmark = pytest.mark.django_db

POLICY = {
    "window_minutes": 480,
    "calendar": "business",
    "country": "US",
    "subdivision": "NY",
    "stop_on": "conversation",
    "warn_at_percent": [50, 90],
    "reassign_on_breach": True,
    "max_reassignments": 2,
    "escalate_after_minutes": None,
    "free_days": 30,
    "free_min_compliance": 90,
}


def test_the_list_has_the_default_and_the_managers_teams_only(api, cast):
    FirstContactPolicy.objects.create(team=cast.team, window_minutes=60)
    rows = api.as_user(cast.manager).get("/api/v1/policies/").json()
    assert [(r["team"], r["own"]) for r in rows] == [(None, True), (cast.team.id, True)]
    assert rows[0]["window_minutes"] == 24 * 60 and rows[0]["saved"] is False  # seeded from settings
    assert rows[1]["window_minutes"] == 60
    admin_rows = api.as_user(cast.admin).get("/api/v1/policies/").json()
    assert {r["team"] for r in admin_rows} == {None, cast.team.id, cast.other_team.id}
    other = next(r for r in admin_rows if r["team"] == cast.other_team.id)
    assert other["own"] is False and other["window_minutes"] == 24 * 60  # uses the default


def test_a_manager_puts_their_teams_policy_and_it_becomes_its_own(api, cast):
    response = api.as_user(cast.manager).put(f"/api/v1/teams/{cast.team.id}/policy/", POLICY, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["own"] is True and response.json()["warn_at_percent"] == [50, 90]
    policy = FirstContactPolicy.objects.get(team=cast.team)
    assert (policy.window_minutes, policy.subdivision, policy.updated_by) == (480, "NY", cast.manager)


def test_patch_changes_only_the_fields_given(api, cast):
    FirstContactPolicy.objects.create(team=cast.team, window_minutes=60, country="GB", warn_at_percent=[80])
    response = api.as_user(cast.manager).patch(
        f"/api/v1/teams/{cast.team.id}/policy/", {"window_minutes": 90}, format="json"
    )
    assert response.status_code == 200
    policy = FirstContactPolicy.objects.get(team=cast.team)
    assert (policy.window_minutes, policy.country, policy.warn_at_percent) == (90, "GB", [80])


def test_delete_returns_the_team_to_the_default(api, cast):
    FirstContactPolicy.objects.create(team=cast.team, window_minutes=60)
    client = api.as_user(cast.manager)
    assert client.delete(f"/api/v1/teams/{cast.team.id}/policy/").status_code == 204
    body = client.get(f"/api/v1/teams/{cast.team.id}/policy/").json()
    assert body["own"] is False and body["window_minutes"] == 24 * 60


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"window_minutes": 0}, "window_minutes", "The first-contact window must be longer than zero."),
        ({"warn_at_percent": [50, 100]}, "warn_at_percent", "A warning must come before the deadline"),
        ({"warn_at_percent": [90, 50]}, "warn_at_percent", "List the warnings in ascending order"),
        ({"warn_at_percent": [50, 50]}, "warn_at_percent", "List the warnings in ascending order"),
        ({"country": "XX"}, "country", "“XX” is not a country with a holiday calendar"),
        ({"max_reassignments": -1}, "max_reassignments", "cannot be negative"),
        ({"escalate_after_minutes": -30}, "escalate_after_minutes", "Escalation needs a delay above zero"),
        ({"free_days": 0}, "free_days", "Look back at least one day."),
        ({"calendar": "sometimes"}, "calendar", "is not a valid choice"),
        ({"window_minutes": "soon"}, "window_minutes", "A valid integer is required."),
    ],
)
def test_bad_input_is_a_400_with_field_messages(api, cast, changes, field, message):
    response = api.as_user(cast.manager).put(f"/api/v1/teams/{cast.team.id}/policy/", POLICY | changes, format="json")
    assert response.status_code == 400
    body = response.json()
    assert any(message in m for m in body["fields"][field]), body
    assert not FirstContactPolicy.objects.filter(team=cast.team).exists()


def test_a_manager_reaches_neither_another_team_nor_the_defaults_writes(api, cast):
    client = api.as_user(cast.manager)
    assert client.get(f"/api/v1/teams/{cast.other_team.id}/policy/").status_code == 404
    assert client.put(f"/api/v1/teams/{cast.other_team.id}/policy/", POLICY, format="json").status_code == 404
    assert client.get(f"/api/v1/teams/{cast.other_team.id}/closed-dates/").status_code == 404
    assert client.put("/api/v1/policies/default/", POLICY, format="json").status_code == 403
    assert client.get("/api/v1/policies/default/").status_code == 200
    assert not FirstContactPolicy.objects.exists()
    # The other team's own manager does reach it.
    assert api.as_user(cast.other_manager).get(f"/api/v1/teams/{cast.other_team.id}/policy/").status_code == 200


def test_an_admin_saves_the_default(api, cast):
    response = api.as_user(cast.admin).put("/api/v1/policies/default/", POLICY, format="json")
    assert response.status_code == 200 and response.json()["saved"] is True
    assert FirstContactPolicy.objects.get(team=None).window_minutes == 480


def test_closed_dates_through_the_api(api, cast):
    client = api.as_user(cast.manager)
    url = f"/api/v1/teams/{cast.team.id}/closed-dates/"
    created = client.post(url, {"date": "2026-07-03", "label": "Summer party"}, format="json")
    assert created.status_code == 201 and created.json()["label"] == "Summer party"
    duplicate = client.post(url, {"date": "2026-07-03"}, format="json")
    assert duplicate.status_code == 400
    assert duplicate.json()["fields"]["date"] == ["03 July 2026 is already a closed date of East."]
    bad = client.post(url, {"date": "someday"}, format="json")
    assert bad.status_code == 400 and "date" in bad.json()["fields"]
    assert [d["date"] for d in client.get(url).json()] == ["2026-07-03"]
    closed_id = created.json()["id"]
    other = ClosedDate.objects.create(team=cast.other_team, date=datetime.date(2026, 7, 4))
    assert client.delete(f"{url}{other.id}/").status_code == 404
    assert client.delete(f"{url}{closed_id}/").status_code == 204
    assert list(ClosedDate.objects.values_list("id", flat=True)) == [other.id]


def test_a_leads_clocks_through_the_briefs_door(api, cast):
    lead = make_queue_lead(rep=cast.rep)
    now = lead.assigned_at
    clocks_end(lead_ids=[lead.id], outcome=ClockOutcome.REASSIGNED, now=now + datetime.timedelta(hours=1))
    clock_start(lead_id=lead.id, rep_id=cast.rep.id, team_id=cast.team.id, now=now + datetime.timedelta(hours=1))
    body = api.as_user(cast.rep).get(f"/api/v1/leads/{lead.id}/clocks/").json()
    assert [c["outcome"] for c in body] == ["", "reassigned"]  # newest first
    assert body[0]["rep"] == cast.rep.id and body[0]["next_action"] in ("warning", "breach")
    assert api.as_user(cast.manager).get(f"/api/v1/leads/{lead.id}/clocks/").status_code == 200
    assert api.as_user(cast.other_manager).get(f"/api/v1/leads/{lead.id}/clocks/").status_code == 404
    assert api.as_user(cast.other_rep).get(f"/api/v1/leads/{lead.id}/clocks/").status_code == 404
    assert api.as_user(cast.marketer).get(f"/api/v1/leads/{lead.id}/clocks/").status_code == 403


def test_the_schema_documents_the_policy_endpoints_without_warnings():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    validate_schema(schema)
    paths = schema["paths"]
    assert {"get", "put", "patch"} <= set(paths["/api/v1/policies/default/"])
    assert {"get", "put", "patch", "delete"} <= set(paths["/api/v1/teams/{team_id}/policy/"])
    assert {"get", "post"} <= set(paths["/api/v1/teams/{team_id}/closed-dates/"])
    assert "get" in paths["/api/v1/leads/{lead_id}/clocks/"]
    assert {"get", "put"} <= set(paths["/api/v1/me/working-hours/"])
    assert {"get", "put"} <= set(paths["/api/v1/reps/{rep_id}/working-hours/"])
    assert [m for m in messages if "policies" in m or "Schedule" in m or "accounts/apis.py" in m] == []
