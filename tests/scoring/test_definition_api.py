"""The definition API: versions, edits with revision, sign-off, comments, previews, lead scores."""

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.models import LeadScore, ScoreLegend, Status
from scoring.models import Approval, DefinitionVersion, Preview
from tests.factories import LeadFactory
from tests.scoring.definition_helpers import FIT_SOFTWARE, make_active, make_draft, make_proposed, sample_rules

pytestmark = pytest.mark.django_db


def versions_url():
    return reverse("api-definition-versions")


def version_url(version, name="api-definition-version"):
    return reverse(name, args=[version.pk])


def test_a_rep_creates_a_draft_and_gets_it_back(api, cast):
    client = api.as_user(cast.rep)
    response = client.post(versions_url(), {"title": "Sales idea", "threshold": 40, "rules": sample_rules()}, "json")
    assert response.status_code == 201
    body = response.json()
    assert (body["number"], body["state"], body["revision"], body["threshold"]) == (1, "draft", 1, 40)
    assert body["author"]["username"] == "rep1"
    assert body["signoff"] == {"marketing": False, "sales": False, "complete": False}
    assert client.get(version_url(DefinitionVersion.objects.get())).json()["title"] == "Sales idea"


def test_bad_rules_answer_400_with_messages_per_rule(api, cast):
    rules = [{"type": "behaviour", "event_kind": "fax_sent", "within_days": 3, "points": 1}]
    response = api.as_user(cast.marketer).post(versions_url(), {"rules": rules, "threshold": 10}, "json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"rules": ["Rule 1: unknown event kind 'fax_sent'."]}
    assert not DefinitionVersion.objects.exists()


def test_a_threshold_of_the_wrong_type_answers_400_on_that_field(api, cast):
    response = api.as_user(cast.marketer).post(versions_url(), {"threshold": "high"}, "json")
    assert response.status_code == 400
    assert "threshold" in response.json()["fields"]


def test_the_list_is_newest_first_with_live_approvals(api, cast, django_assert_max_num_queries):
    make_active(cast.marketer, cast.rep)
    for _ in range(5):
        make_proposed(cast.marketer)
    client = api.as_user(cast.manager)
    with django_assert_max_num_queries(6):
        response = client.get(versions_url())
    results = response.json()["results"]
    assert [v["number"] for v in results] == [6, 5, 4, 3, 2, 1]
    assert {a["side"] for a in results[-1]["approvals"]} == {"marketing", "sales"}


def test_patch_with_the_current_revision_saves_and_withdraws_approvals(api, cast):
    version = make_proposed(cast.marketer)
    Approval.objects.create(version=version, user=cast.rep, side="sales", revision=1, created_at=timezone.now())
    response = api.as_user(cast.manager).patch(version_url(version), {"revision": 1, "threshold": 77}, format="json")
    assert response.status_code == 200
    assert (response.json()["threshold"], response.json()["revision"], response.json()["state"]) == (77, 2, "proposed")
    assert response.json()["approvals"] == []
    assert len(response.json()["rules"]) == 4  # untouched fields keep their values


def test_patch_without_a_revision_is_refused(api, cast):
    version = make_draft(cast.marketer)
    response = api.as_user(cast.marketer).patch(version_url(version), {"threshold": 77}, format="json")
    assert response.status_code == 400
    assert "revision" in response.json()["fields"]


def test_patching_an_active_version_is_refused(api, cast):
    version = make_active(cast.marketer, cast.rep)
    response = api.as_user(cast.marketer).patch(version_url(version), {"revision": 1, "threshold": 1}, format="json")
    assert response.status_code == 400
    assert "state" in response.json()["fields"]


def test_propose_then_approvals_from_both_sides_activate(api, cast):
    version = make_draft(cast.marketer)
    assert api.as_user(cast.rep).post(version_url(version, "api-definition-version-propose")).json()["state"] == (
        "proposed"
    )
    first = api.as_user(cast.marketer).post(version_url(version, "api-definition-version-approve"), {"revision": 1})
    assert first.status_code == 200 and first.json()["signoff"]["marketing"] is True
    second = api.as_user(cast.manager).post(version_url(version, "api-definition-version-approve"), {"revision": 1})
    assert second.json()["state"] == "active"
    active = api.as_user(cast.rep).get(reverse("api-definition-active")).json()
    assert active["number"] == version.number


def test_an_admin_cannot_approve_through_the_api(api, cast):
    version = make_proposed(cast.marketer)
    response = api.as_user(cast.admin).post(version_url(version, "api-definition-version-approve"), {})
    assert response.status_code == 403
    assert not Approval.objects.exists()


def test_approving_twice_answers_400(api, cast):
    version = make_proposed(cast.marketer)
    client = api.as_user(cast.rep)
    client.post(version_url(version, "api-definition-version-approve"), {})
    response = client.post(version_url(version, "api-definition-version-approve"), {})
    assert response.status_code == 400
    assert "already approved" in response.json()["detail"]


def test_approving_a_stale_revision_answers_409(api, cast):
    version = make_proposed(cast.marketer)
    api.as_user(cast.marketer).patch(version_url(version), {"revision": 1, "threshold": 5}, format="json")
    response = api.as_user(cast.rep).post(version_url(version, "api-definition-version-approve"), {"revision": 1})
    assert response.status_code == 409


def test_copy_makes_a_draft_based_on_the_version(api, cast):
    version = make_active(cast.marketer, cast.rep)
    response = api.as_user(cast.manager).post(version_url(version, "api-definition-version-copy"))
    assert response.status_code == 201
    assert response.json()["based_on"] == {"id": version.pk, "number": version.number}


def test_comments_are_listed_with_the_events(api, cast):
    version = make_draft(cast.marketer)
    client = api.as_user(cast.rep)
    created = client.post(version_url(version, "api-definition-version-comments"), {"body": "Looks good"})
    assert created.status_code == 201
    thread = client.get(version_url(version, "api-definition-version-comments")).json()
    assert [(c["kind"], c["body"][:13]) for c in thread] == [("event", "Started draft"), ("comment", "Looks good")]
    empty = client.post(version_url(version, "api-definition-version-comments"), {"body": ""})
    assert empty.status_code == 400 and "body" in empty.json()["fields"]


def test_no_active_version_is_a_404(api, cast):
    assert api.as_user(cast.marketer).get(reverse("api-definition-active")).status_code == 404


def test_a_preview_is_requested_once_per_revision_and_polled(api, cast):
    version = make_proposed(cast.marketer)
    client = api.as_user(cast.manager)
    first = client.post(version_url(version, "api-definition-version-preview"))
    again = client.post(version_url(version, "api-definition-version-preview"))
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["state"] == "queued"
    status = client.get(reverse("api-definition-preview", args=[first.json()["id"]]))
    assert status.status_code == 200 and status.json()["progress"] == 0


def test_a_preview_of_an_active_version_is_refused(api, cast):
    version = make_active(cast.marketer, cast.rep)
    response = api.as_user(cast.marketer).post(version_url(version, "api-definition-version-preview"))
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("role", "sees_list"), [("marketer", True), ("admin", True), ("rep", False), ("manager", False)]
)
def test_preview_lists_of_pool_leads_are_for_marketing_only(api, cast, role, sees_list):
    lead = LeadFactory(first_name="Pia", last_name="Pool")
    version = make_proposed(cast.marketer)
    preview = Preview.objects.create(
        version=version,
        revision=1,
        state=Preview.State.DONE,
        created_at=timezone.now(),
        data={
            "pool": {"total": 1, "newly_qualify_count": 1, "drop_out_count": 0},
            "newly_qualify": [{"id": lead.pk, "name": "Pia Pool", "company": "", "score": 90}],
            "drop_out": [],
            "backtest": {"closed": 0, "rows": []},
        },
    )
    body = api.as_user(getattr(cast, role)).get(reverse("api-definition-preview", args=[preview.pk])).json()
    # Sales see one lead as "fewer than 10" (None), like none (test_preview_privacy).
    assert body["data"]["pool"]["newly_qualify_count"] == (1 if sees_list else None)
    assert ("newly_qualify" in body["data"]) is sees_list
    assert ("drop_out" in body["data"]) is sees_list
    assert ("Pia Pool" in str(body)) is sees_list


def scored(lead, **extra):
    explanation = {
        "version": 1,
        "total": 55,
        "fit": 20,
        "behaviour": 35,
        "threshold": 50,
        "passes_gates": True,
        "qualifies": True,
        "gates": [],
        "rules": [{"id": "fit-industry", "label": "Software industry", "type": "fit", "points": 20}],
    }
    legend = ScoreLegend.objects.create(
        version=1, threshold=50, gates=[], rules=[{"id": "fit-industry", "label": "Software industry", "type": "fit"}]
    )
    LeadScore.objects.create(
        lead=lead,
        legend=legend,
        total=55,
        fit=20,
        behaviour=35,
        passes_gates=True,
        rule_points=[20],
        gates_passed=[],
        scored_at=timezone.now(),
    )
    assert lead.__class__.objects.get(pk=lead.pk).score_explanation == explanation
    return lead


def test_a_rep_reads_the_score_and_explanation_of_their_own_lead(api, cast, leads):
    scored(leads.rep_owned)
    body = api.as_user(cast.rep).get(reverse("api-lead-score", args=[leads.rep_owned.pk])).json()
    assert (body["score"], body["fit_score"], body["behaviour_score"], body["qualifies"]) == (55, 20, 35, True)
    assert body["explanation"]["rules"][0]["label"] == FIT_SOFTWARE["label"]


@pytest.mark.parametrize(
    ("role", "which", "expected"),
    [
        ("rep", "pool", 404),
        ("manager", "pool", 404),
        ("rep", "teammate_owned", 404),
        ("rep", "other_team", 404),
        ("manager", "other_team", 404),
        ("manager", "rep_owned", 200),
        ("marketer", "pool", 200),
        ("admin", "pool", 200),
    ],
)
def test_lead_scores_follow_lead_visibility(api, cast, leads, role, which, expected):
    lead = scored(getattr(leads, which))
    assert lead.status == Status.NURTURE or which != "pool"
    response = api.as_user(getattr(cast, role)).get(reverse("api-lead-score", args=[lead.pk]))
    assert response.status_code == expected


def test_a_leads_score_is_read_in_one_query_with_its_legend(api, cast, leads, django_assert_num_queries):
    scored(leads.rep_owned)
    client = api.as_user(cast.rep)
    url = reverse("api-lead-score", args=[leads.rep_owned.pk])
    # The token's user, then the lead joined to its score and the score's legend.
    with django_assert_num_queries(2):
        body = client.get(url).json()
    assert body["explanation"]["rules"][0]["id"] == "fit-industry"
