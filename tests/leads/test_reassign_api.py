"""POST /api/v1/leads/reassign/: managers for their team, admins for any; 409 on a conflict."""

import pytest
from django.urls import reverse

from leads.models import HistoryAction, Lead, LeadHistory, Status

pytestmark = pytest.mark.django_db

URL = "/api/v1/leads/reassign/"


def body(*pairs, to_rep, reason="Territory change"):
    return {
        "leads": [{"id": lead_id, "expected_owner": owner} for lead_id, owner in pairs],
        "to_rep": to_rep,
        "reason": reason,
    }


def test_the_url_is_the_documented_one():
    assert reverse("api-leads-reassign") == URL


def test_a_manager_reassigns_their_teams_leads(api, cast, leads):
    payload = body(
        (leads.rep_owned.id, cast.rep.id), (leads.team_queued.id, None), to_rep=cast.teammate.id, reason="Leave"
    )
    response = api.as_user(cast.manager).post(URL, payload, format="json")
    assert response.status_code == 200, response.json()
    moved = {row["id"]: row for row in response.json()["reassigned"]}
    assert set(moved) == {leads.rep_owned.id, leads.team_queued.id}
    assert moved[leads.team_queued.id]["owner"] == cast.teammate.id
    assert moved[leads.team_queued.id]["status"] == Status.ASSIGNED
    assert moved[leads.team_queued.id]["sla_due_at"] is not None
    assert Lead.objects.filter(owner=cast.teammate).count() == 3
    assert set(LeadHistory.objects.values_list("action", "note")) == {
        (HistoryAction.REASSIGNED, "Leave"),
        (HistoryAction.ASSIGNED, "Leave"),
    }


def test_a_stale_expected_owner_answers_409_with_the_lead_named(api, cast, leads):
    Lead.objects.filter(id=leads.rep_owned.id).update(owner=cast.teammate)
    response = api.as_user(cast.manager).post(
        URL, body((leads.rep_owned.id, cast.rep.id), to_rep=cast.rep.id), format="json"
    )
    assert response.status_code == 409
    data = response.json()
    assert "nothing was reassigned" in data["detail"]
    assert f"lead {leads.rep_owned.id}" in data["fields"]["leads"][0]
    assert Lead.objects.get(id=leads.rep_owned.id).owner == cast.teammate


def test_another_teams_lead_is_a_404_for_a_manager(api, cast, leads):
    response = api.as_user(cast.manager).post(
        URL, body((leads.other_team.id, cast.other_rep.id), to_rep=cast.rep.id), format="json"
    )
    assert response.status_code == 404


def test_another_teams_rep_is_a_404_for_a_manager(api, cast, leads):
    response = api.as_user(cast.manager).post(
        URL, body((leads.rep_owned.id, cast.rep.id), to_rep=cast.other_rep.id), format="json"
    )
    assert response.status_code == 404


def test_a_nurture_lead_is_a_404_for_a_manager(api, cast, leads):
    response = api.as_user(cast.manager).post(URL, body((leads.pool.id, None), to_rep=cast.rep.id), format="json")
    assert response.status_code == 404


def test_an_admin_reassigns_across_teams(api, cast, leads):
    response = api.as_user(cast.admin).post(
        URL, body((leads.other_team.id, cast.other_rep.id), to_rep=cast.rep.id), format="json"
    )
    assert response.status_code == 200
    assert Lead.objects.get(id=leads.other_team.id).team == cast.team


@pytest.mark.parametrize("role", ["rep", "other_rep", "marketer"])
def test_reps_and_marketing_are_refused(api, cast, leads, role):
    response = api.as_user(cast.by_role(role)).post(
        URL, body((leads.rep_owned.id, cast.rep.id), to_rep=cast.teammate.id), format="json"
    )
    assert response.status_code == 403
    assert Lead.objects.get(id=leads.rep_owned.id).owner == cast.rep


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"leads": [], "to_rep": 1, "reason": "x"}, "leads"),
        ({"leads": [{"id": 1}], "to_rep": 1, "reason": "x"}, "leads"),
        ({"leads": [{"id": 1, "expected_owner": None}], "reason": "x"}, "to_rep"),
        ({"leads": [{"id": 1, "expected_owner": None}], "to_rep": 1, "reason": ""}, "reason"),
    ],
)
def test_bad_input_answers_400_with_field_messages(api, cast, payload, field):
    response = api.as_user(cast.manager).post(URL, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_a_blank_reason_is_refused_by_the_service_too(api, cast, leads):
    response = api.as_user(cast.manager).post(
        URL, body((leads.rep_owned.id, cast.rep.id), to_rep=cast.teammate.id, reason="   "), format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]
