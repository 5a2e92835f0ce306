"""POST/GET /api/v1/leads/: upsert by key, validation, history, signals, scoped reads."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leadhandoff.api import ApplicationError
from leads.intake import services as intake
from leads.models import HistoryAction, Lead, LeadHistory, Status
from leads.signals import lead_activity
from tests.factories import LeadFactory, lead_score_set

URL = "/api/v1/leads/"


@pytest.fixture
def activity():
    """Every lead_activity signal sent: a list of lead_ids lists."""
    sent: list[list[int]] = []

    def receiver(sender, lead_ids, **kwargs):
        sent.append(list(lead_ids))

    lead_activity.connect(receiver, weak=False, dispatch_uid="test-intake-activity")
    yield sent
    lead_activity.disconnect(dispatch_uid="test-intake-activity")


def post(api, user, data):
    return api.as_user(user).post(URL, data, format="json")


# --- Create or update by key -------------------------------------------------


def test_it_creates_a_nurture_lead_then_updates_it_by_email_case_insensitively(
    cast, api, activity, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = post(api, cast.marketer, {"email": "Ana@Acme.com", "first_name": "Ana", "company": "Acme"})
    assert created.status_code == 201, created.json()
    lead = Lead.objects.get()
    assert created.json()["id"] == lead.pk
    assert lead.status == Status.NURTURE and lead.owner is None and lead.needs_rescore
    assert activity == [[lead.pk]]
    assert LeadHistory.objects.filter(lead=lead, action=HistoryAction.CREATED, actor=cast.marketer).count() == 1

    Lead.objects.filter(pk=lead.pk).update(needs_rescore=False)
    with django_capture_on_commit_callbacks(execute=True):
        updated = post(api, cast.admin, {"email": "ana@ACME.com", "title": "CTO", "company": "Acme Inc"})
    assert updated.status_code == 200, updated.json()
    assert updated.json()["id"] == lead.pk
    lead.refresh_from_db()
    assert (lead.title, lead.company, lead.email) == ("CTO", "Acme Inc", "Ana@Acme.com")
    assert lead.needs_rescore
    assert activity == [[lead.pk], [lead.pk]]
    row = LeadHistory.objects.get(lead=lead, action=HistoryAction.UPDATED)
    assert row.actor == cast.admin
    assert row.data["changed"] == {"title": {"old": "", "new": "CTO"}, "company": {"old": "Acme", "new": "Acme Inc"}}
    assert Lead.objects.count() == 1


def test_it_upserts_by_external_id_and_adds_an_email_later(cast, api):
    first = post(api, cast.marketer, {"external_id": "crm-1", "company": "Globex"})
    assert first.status_code == 201
    second = post(api, cast.marketer, {"external_id": "crm-1", "email": "hank@globex.com"})
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    third = post(api, cast.marketer, {"email": "HANK@globex.com", "external_id": "crm-1", "city": "Springfield"})
    assert third.status_code == 200 and third.json()["id"] == first.json()["id"]
    assert Lead.objects.get().email == "hank@globex.com"


def test_an_unchanged_post_writes_no_history_and_sends_no_signal(
    cast, api, activity, django_capture_on_commit_callbacks
):
    post(api, cast.marketer, {"email": "same@acme.com", "company": "Acme"})
    with django_capture_on_commit_callbacks(execute=True):
        again = post(api, cast.marketer, {"email": "same@acme.com", "company": "Acme"})
    assert again.status_code == 200
    assert activity == []
    assert not LeadHistory.objects.filter(action=HistoryAction.UPDATED).exists()


def test_attributes_merge_into_the_stored_ones(cast, api):
    post(api, cast.marketer, {"email": "attr@acme.com", "attributes": {"plan": "free", "seats": 3}})
    response = post(api, cast.marketer, {"email": "attr@acme.com", "attributes": {"seats": 10}})
    assert response.status_code == 200
    assert Lead.objects.get().attributes == {"plan": "free", "seats": 10}


# --- Validation: 400 naming the field, nothing half-written ------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b.com", "origin": "telepathy"}, "origin"),
        ({"email": "a@b.com", "rep_source_channel": "pigeon"}, "rep_source_channel"),
        ({"email": "a@b.com", "favourite_colour": "blue"}, "favourite_colour"),
        ({"email": "a@b.com", "company": "x" * 201}, "company"),
        ({"email": "a@b.com", "external_id": "x" * 101}, "external_id"),
        ({"email": "a@b.com", "company_size": -4}, "company_size"),
        ({"email": "a@b.com", "annual_revenue": "lots"}, "annual_revenue"),
        ({"email": "a@b.com", "attributes": ["not", "an", "object"]}, "attributes"),
        ({"first_name": "No key"}, "email"),
        ({"email": "", "external_id": ""}, "email"),
    ],
)
def test_bad_input_answers_400_naming_the_field_and_stores_nothing(cast, api, payload, field):
    response = post(api, cast.marketer, payload)
    assert response.status_code == 400
    body = response.json()
    assert field in body["fields"], body
    assert body["detail"]
    assert not Lead.objects.exists()
    assert not LeadHistory.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("status", "won"), ("owner", 1), ("owner_id", 1), ("score", 99), ("needs_rescore", False), ("team", 1)],
)
def test_workflow_fields_cannot_be_written_through_the_api(cast, api, field, value):
    lead = LeadFactory(email="wf@acme.com", company="Old")
    response = post(api, cast.marketer, {"email": "wf@acme.com", "company": "New", field: value})
    assert response.status_code == 400
    assert response.json()["fields"][field] == [intake.WORKFLOW_FIELD_MESSAGE]
    lead.refresh_from_db()
    assert lead.company == "Old" and lead.status == Status.NURTURE and lead.score is None


def test_several_bad_fields_are_all_named_at_once(cast, api):
    response = post(api, cast.marketer, {"email": "bad", "origin": "nope", "shoe_size": 42, "status": "won"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"email", "origin", "shoe_size", "status"}


def test_an_update_with_one_bad_field_changes_nothing(cast, api):
    lead = LeadFactory(email="keep@acme.com", company="Acme", title="CEO")
    response = post(api, cast.marketer, {"email": "keep@acme.com", "company": "Changed", "title": "x" * 151})
    assert response.status_code == 400 and "title" in response.json()["fields"]
    lead.refresh_from_db()
    assert (lead.company, lead.title) == ("Acme", "CEO")


def test_keys_naming_two_different_leads_are_a_conflict(cast, api):
    LeadFactory(email="one@acme.com", external_id="crm-1")
    LeadFactory(email="two@acme.com", external_id=None)
    moved = post(api, cast.marketer, {"external_id": "crm-1", "email": "two@acme.com"})
    assert moved.status_code == 409 and "email" in moved.json()["fields"]
    rekeyed = post(api, cast.marketer, {"email": "one@acme.com", "external_id": "crm-9"})
    assert rekeyed.status_code == 409 and "external_id" in rekeyed.json()["fields"]
    assert Lead.objects.filter(email="one@acme.com", external_id="crm-1").exists()


def test_lead_upsert_raises_application_errors_for_other_callers(cast):
    with pytest.raises(ApplicationError) as exc:
        intake.lead_upsert(data={"email": "x@y.com", "status": "won"}, actor=cast.marketer, now=timezone.now())
    assert "status" in exc.value.fields
    lead, created = intake.lead_upsert(data={"email": "x@y.com"}, actor=None, now=timezone.now())
    assert created and lead.pk
    assert intake.lead_upsert(data={"email": "X@Y.COM"}, actor=None, now=timezone.now()) == (lead, False)


# --- Who may post, and how ----------------------------------------------------


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_sales_may_not_post_leads(cast, api, role):
    response = post(api, getattr(cast, role), {"email": "sales@acme.com"})
    assert response.status_code == 403
    assert not Lead.objects.exists()


def test_session_authentication_requires_the_csrf_token(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.marketer)
    refused = client.post(URL, {"email": "csrf@acme.com"}, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    client.get(reverse("leads:pool"))  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(URL, {"email": "csrf@acme.com"}, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201


def test_token_authentication_from_the_token_endpoint(cast):
    client = Client()
    token = client.post("/api/v1/auth/token/", {"username": "marketer", "password": "leadhandoff"}).json()["token"]
    response = client.post(
        URL, {"email": "token@acme.com"}, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert response.status_code == 201


# --- Concurrency: one key, one lead -------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_of_one_key_make_one_lead(cast):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=cast.marketer).key
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            barrier.wait(timeout=10)
            # Different spellings of the same email: still one key.
            email = "Race@Example.com" if n % 2 else "race@example.COM"
            response = client.post(URL, {"email": email, "title": f"T{n}"}, format="json")
            results.append((response.status_code, response.json()["id"]))
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert Lead.objects.count() == 1
    lead_id = Lead.objects.get().pk
    assert sorted(code for code, _ in results) == [200] * (threads_count - 1) + [201]
    assert {pk for _, pk in results} == {lead_id}
    assert LeadHistory.objects.filter(lead_id=lead_id, action=HistoryAction.CREATED).count() == 1


# --- Reads: scoped lists and details -------------------------------------------


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_the_list_is_scoped_to_what_each_role_may_see(cast, leads, api):
    everyone = {leads.pool.pk, leads.rep_owned.pk, leads.teammate_owned.pk, leads.other_team.pk, leads.team_queued.pk}
    assert _ids(api.as_user(cast.marketer).get(URL)) == everyone
    assert _ids(api.as_user(cast.admin).get(URL)) == everyone
    assert _ids(api.as_user(cast.rep).get(URL)) == {leads.rep_owned.pk}
    assert _ids(api.as_user(cast.other_rep).get(URL)) == {leads.other_team.pk}
    assert _ids(api.as_user(cast.manager).get(URL)) == {
        leads.rep_owned.pk,
        leads.teammate_owned.pk,
        leads.team_queued.pk,
    }
    assert api.as_user(cast.manager).get(URL).json()["count"] == 3


def test_the_list_filters_searches_orders_and_paginates(cast, api):
    LeadFactory(email="a@x.com", source="webinar", country="US", company="Zed", score=10)
    LeadFactory(email="b@x.com", source="ads", country="DE", company="Alpha", score=90)
    LeadFactory(email="c@x.com", source="ads", country="US", company="Mid", score=50, status=Status.QUEUED)
    client = api.as_user(cast.marketer)

    def emails(query: str) -> list[str]:
        response = client.get(URL + query)
        assert response.status_code == 200, response.content
        return [row["email"] for row in response.json()["results"]]

    assert emails("?source=ads&ordering=company") == ["b@x.com", "c@x.com"]
    assert emails("?status=queued") == ["c@x.com"]
    assert emails("?country=US&ordering=-score") == ["c@x.com", "a@x.com"]
    assert emails("?search=alpha") == ["b@x.com"]
    assert emails("?origin=marketing&ordering=score") == ["a@x.com", "c@x.com", "b@x.com"]
    page = client.get(URL + "?page_size=2&ordering=email").json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]


def test_a_bad_filter_value_is_a_400_naming_it(cast, api):
    response = api.as_user(cast.marketer).get(URL + "?status=limbo")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Some fields are not valid." and list(body["fields"]) == ["status"]
    assert "limbo" in body["fields"]["status"][0]


def test_a_token_request_without_a_password_is_a_400_naming_it(db, client):
    response = client.post("/api/v1/auth/token/", {"username": "marketer"})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Some fields are not valid.",
        "fields": {"password": ["This field is required."]},
    }


def test_the_detail_carries_the_score_explanation(cast, leads, api):
    explanation = {
        "version": 3,
        "total": 72,
        "fit": 40,
        "behaviour": 32,
        "threshold": 60,
        "gates": [{"id": "g1", "label": "Not a competitor", "passed": True}],
        "rules": [{"id": "r1", "label": "Pricing page", "type": "behaviour", "points": 32}],
    }
    lead_score_set(leads.rep_owned, 72, explanation=explanation)
    body = api.as_user(cast.rep).get(f"{URL}{leads.rep_owned.pk}/").json()
    assert body["score"] == 72
    assert body["score_explanation"] == explanation
    assert body["owner"]["username"] == "rep1"
    unscored = api.as_user(cast.manager).get(f"{URL}{leads.teammate_owned.pk}/").json()
    assert unscored["score"] is None and unscored["score_explanation"] == {}


def test_a_lead_you_may_not_see_is_a_404_like_one_that_does_not_exist(cast, leads, api):
    client = api.as_user(cast.rep)
    assert client.get(f"{URL}{leads.other_team.pk}/").status_code == 404
    assert client.get(f"{URL}{leads.pool.pk}/").status_code == 404
    assert client.get(f"{URL}999999/").status_code == 404
    assert client.get(f"{URL}{leads.other_team.pk}/").json() == client.get(f"{URL}999999/").json()


def test_the_list_makes_a_fixed_number_of_queries(cast, api, django_assert_num_queries):
    client = api.as_user(cast.marketer)
    LeadFactory.create_batch(3)
    client.get(URL)  # warm the token
    # token+user, the declared custom fields (their filters), count, page (owner and team joined)
    with django_assert_num_queries(4):
        client.get(URL)
    LeadFactory.create_batch(30, score=50)
    with django_assert_num_queries(4):  # the scores are joined too
        client.get(URL)


def test_ordering_by_score_puts_unscored_leads_last_either_way_and_pages_through_all(cast, api):
    scores = [40, None, 90, 75, None, 40, 5]
    made = [LeadFactory(score=s) if s is not None else LeadFactory() for s in scores]
    by_id = {lead.pk: score for lead, score in zip(made, scores, strict=True)}
    client = api.as_user(cast.marketer)

    def totals(ordering: str) -> list[int | None]:
        pages, url = [], f"{URL}?page_size=3&ordering={ordering}"
        while url:
            with CaptureQueriesContext(connection) as queries:
                body = client.get(url).json()
            assert len(queries) <= 8, [q["sql"] for q in queries]  # count + one or two page reads, not per row
            pages += [row["id"] for row in body["results"]]
            url = body["next"]
        assert sorted(pages) == sorted(by_id)  # every lead once
        return [by_id[pk] for pk in pages]

    assert totals("-score") == [90, 75, 40, 40, 5, None, None]
    assert totals("score") == [5, 40, 40, 75, 90, None, None]
