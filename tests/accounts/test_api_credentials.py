"""User tokens expire and end with a password change or deactivation; integration keys are scoped and revocable."""

import datetime
import io
import json

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import IntegrationKey
from accounts.services import integration_key_create, integration_key_revoke, user_deactivate, user_password_set

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
NEW_PASSWORD = "N3w-pass-phrase!"


def _token(username: str, password: str = "leadhandoff") -> str:
    response = APIClient().post(TOKEN_URL, {"username": username, "password": password})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def _with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_works_until_its_lifetime_ends_then_answers_401(cast):
    issued = timezone.now()
    with time_machine.travel(issued, tick=False):
        key = _token("marketer")
    ttl = datetime.timedelta(hours=settings.API_TOKEN_TTL_HOURS)
    with time_machine.travel(issued + ttl - datetime.timedelta(seconds=1), tick=False):
        assert _with_token(key).get("/api/v1/leads/").status_code == 200
    with time_machine.travel(issued + ttl, tick=False):
        response = _with_token(key).get("/api/v1/leads/")
        assert response.status_code == 401
        assert "Your API token has expired" in response.json()["detail"]
        # Asking again gives a fresh token that works.
        fresh = _token("marketer")
        assert fresh != key
        assert _with_token(fresh).get("/api/v1/leads/").status_code == 200


def test_the_token_answer_says_when_it_expires(cast):
    now = timezone.now().replace(microsecond=0)
    with time_machine.travel(now, tick=False):
        body = APIClient().post(TOKEN_URL, {"username": "marketer", "password": "leadhandoff"}).json()
    expires = datetime.datetime.fromisoformat(body["expires_at"])
    assert expires == now + datetime.timedelta(hours=settings.API_TOKEN_TTL_HOURS)


def test_changing_the_password_on_the_page_ends_the_token(cast):
    key = _token("marketer")
    browser = Client()
    browser.force_login(cast.marketer)
    response = browser.post(
        reverse("password_change"),
        {"old_password": "leadhandoff", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert _with_token(key).get("/api/v1/leads/").status_code == 401
    assert not Token.objects.filter(user=cast.marketer).exists()
    assert _with_token(_token("marketer", NEW_PASSWORD)).get("/api/v1/leads/").status_code == 200


def test_an_admin_setting_the_password_ends_the_token(cast):
    key = _token("marketer")
    admin = Client()
    admin.force_login(cast.admin)
    response = admin.post(
        f"/admin/accounts/user/{cast.marketer.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _with_token(key).get("/api/v1/leads/").status_code == 401


def test_the_password_service_ends_the_token(cast):
    key = _token("marketer")
    user_password_set(user=cast.marketer, password=NEW_PASSWORD)
    assert _with_token(key).get("/api/v1/leads/").status_code == 401


def test_manage_changepassword_ends_the_token(cast, monkeypatch):
    key = _token("marketer")
    # The command prompts twice; answer as an operator at the terminal would.
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)
    call_command("changepassword", "marketer", stdout=io.StringIO())
    response = _with_token(key).get("/api/v1/leads/")
    assert response.status_code == 401
    assert "password changed" in response.json()["detail"]
    assert _with_token(_token("marketer", NEW_PASSWORD)).get("/api/v1/leads/").status_code == 200


def test_deactivating_a_user_ends_the_token(cast):
    key = _token("marketer")
    user_deactivate(user=cast.marketer)
    assert not Token.objects.filter(user=cast.marketer).exists()
    assert _with_token(key).get("/api/v1/leads/").status_code == 401


def test_deactivating_a_user_in_the_admin_ends_the_token(cast):
    key = _token("rep3")
    admin = Client()
    admin.force_login(cast.admin)
    page = admin.get(f"/admin/accounts/user/{cast.other_rep.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update(
        {
            "is_active": "",
            "groups": [g.pk for g in cast.other_rep.groups.all()],
            "user_permissions": [],
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": cast.other_rep.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": cast.other_rep.date_joined.strftime("%H:%M:%S"),
            "rep_profile-TOTAL_FORMS": "1",
            "rep_profile-INITIAL_FORMS": "1",
            "rep_profile-MIN_NUM_FORMS": "0",
            "rep_profile-MAX_NUM_FORMS": "1",
        }
    )
    data.pop("is_active")
    profile = cast.other_rep.rep_profile
    data["timezone"] = cast.other_rep.timezone
    for field in ("team", "capacity", "routing_weight", "routing_credit"):
        value = getattr(profile, field)
        data[f"rep_profile-0-{field}"] = value.pk if hasattr(value, "pk") else value
    data["rep_profile-0-working_hours"] = json.dumps(profile.working_hours)
    data["rep_profile-0-id"] = profile.pk
    data["rep_profile-0-user"] = cast.other_rep.pk
    response = admin.post(f"/admin/accounts/user/{cast.other_rep.pk}/change/", data)
    assert response.status_code == 302, [
        f.errors for s in response.context["inline_admin_formsets"] for f in s.formset
    ] + [response.context["adminform"].form.errors]
    cast.other_rep.refresh_from_db()
    assert not cast.other_rep.is_active
    assert _with_token(key).get("/api/v1/queue/").status_code == 401


# --- Integration keys -------------------------------------------------------


def _with_key(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


EVENT = [
    {"email": "ada@example.com", "kind": "demo_request", "occurred_at": "2026-11-22T10:00:00Z", "external_id": "e1"}
]


def test_an_integration_key_with_the_scope_posts_events_and_leads(cast):
    key, raw = integration_key_create(
        name="Automation",
        user=cast.marketer,
        scopes=[IntegrationKey.Scope.EVENTS_WRITE, IntegrationKey.Scope.LEADS_WRITE],
    )
    assert key.key_hash != raw and raw not in key.key_hash  # only the hash is stored
    client = _with_key(raw)
    assert client.post("/api/v1/events/", EVENT, format="json").status_code in (200, 201, 202)
    lead = client.post("/api/v1/leads/", {"email": "bo@example.com", "first_name": "Bo"}, format="json")
    assert lead.status_code in (200, 201), lead.content


def test_an_integration_key_without_the_scope_is_refused(cast):
    _, raw = integration_key_create(name="Events only", user=cast.marketer, scopes=[IntegrationKey.Scope.EVENTS_WRITE])
    client = _with_key(raw)
    response = client.post("/api/v1/leads/", {"email": "bo@example.com"}, format="json")
    assert response.status_code == 403
    assert "lacks the scope leads:write" in response.json()["detail"]
    # Reads and other endpoints never accept a key.
    refused = client.get("/api/v1/leads/")
    assert refused.status_code == 403
    assert "not accepted on this endpoint" in refused.json()["detail"]
    assert client.post("/api/v1/events/", EVENT, format="json").status_code in (200, 201, 202)


def test_a_revoked_or_unknown_key_answers_401(cast):
    key, raw = integration_key_create(name="Old", user=cast.marketer, scopes=[IntegrationKey.Scope.EVENTS_WRITE])
    integration_key_revoke(key=key)
    response = _with_key(raw).post("/api/v1/events/", EVENT, format="json")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    assert _with_key("lh_not-a-key").post("/api/v1/events/", EVENT, format="json").status_code == 401


def test_integration_keys_do_not_expire(cast):
    _, raw = integration_key_create(name="Forever", user=cast.marketer, scopes=[IntegrationKey.Scope.EVENTS_WRITE])
    with time_machine.travel(timezone.now() + datetime.timedelta(days=3650), tick=False):
        assert _with_key(raw).post("/api/v1/events/", EVENT, format="json").status_code in (200, 201, 202)


def test_the_admin_creates_a_key_shown_once_and_revokes_it(cast):
    admin = Client()
    admin.force_login(cast.admin)
    response = admin.post(
        "/admin/accounts/integrationkey/add/",
        {"name": "HubSpot bridge", "user": cast.marketer.pk, "scopes": ["events:write"]},
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    key = IntegrationKey.objects.get(name="HubSpot bridge")
    raw = text.split("The key for HubSpot bridge is ")[1].split(" ")[0]
    assert raw.startswith(key.prefix)
    assert _with_key(raw).post("/api/v1/events/", EVENT, format="json").status_code in (200, 201, 202)
    # The secret is not on the key's page afterwards.
    assert raw not in admin.get(f"/admin/accounts/integrationkey/{key.pk}/change/").content.decode()

    admin.post("/admin/accounts/integrationkey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True)
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert _with_key(raw).post("/api/v1/events/", EVENT, format="json").status_code == 401


def test_only_admins_reach_the_key_admin(cast):
    browser = Client()
    browser.force_login(cast.marketer)
    assert browser.get("/admin/accounts/integrationkey/").status_code == 302
