"""Logins locked out after repeated failures (django-axes); API and token endpoint throttled."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def _rate(scope: str) -> int:
    return int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope].split("/")[0])


def test_thirty_wrong_passwords_lock_the_login_even_for_the_right_one(client, cast):
    for _ in range(30):
        client.post(reverse("login"), {"username": "rep1", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "rep1", "password": "leadhandoff"})
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert "ask an admin to lift the lockout" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_lockout_holds_per_username_from_another_address(client, cast):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "rep1", "password": "wrong"}, REMOTE_ADDR="10.0.0.1")
    response = client.post(reverse("login"), {"username": "rep1", "password": "leadhandoff"}, REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 429


def test_a_lockout_holds_per_address_for_another_username(client, cast):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": f"nobody{attempt}", "password": "x"}, REMOTE_ADDR="10.0.0.3")
    response = client.post(reverse("login"), {"username": "rep2", "password": "leadhandoff"}, REMOTE_ADDR="10.0.0.3")
    assert response.status_code == 429


def test_the_admin_lifts_a_lockout(client, cast):
    for _ in range(30):
        client.post(reverse("login"), {"username": "rep1", "password": "wrong"})
    assert client.post(reverse("login"), {"username": "rep1", "password": "leadhandoff"}).status_code == 429

    admin = Client()  # the admin's own browser session
    admin.force_login(cast.admin)
    changelist = admin.get("/admin/axes/accessattempt/")
    assert changelist.status_code == 200
    assert "rep1" in changelist.content.decode()
    ids = list(AccessAttempt.objects.values_list("pk", flat=True))
    confirm = admin.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert confirm.status_code == 302
    assert not AccessAttempt.objects.exists()

    response = client.post(reverse("login"), {"username": "rep1", "password": "leadhandoff"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.rep.pk)


def test_a_good_login_clears_earlier_failures(client, cast):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(reverse("login"), {"username": "rep1", "password": "wrong"})
    assert client.post(reverse("login"), {"username": "rep1", "password": "leadhandoff"}).status_code == 302
    client.post(reverse("logout"))
    client.post(reverse("login"), {"username": "rep1", "password": "wrong"})
    assert client.post(reverse("login"), {"username": "rep1", "password": "leadhandoff"}).status_code == 302


def test_the_token_endpoint_locks_out_after_wrong_passwords(cast):
    api = APIClient()
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        # A fresh address each time, so the endpoint's own throttle does not answer first.
        api.post(TOKEN_URL, {"username": "marketer", "password": "wrong"}, REMOTE_ADDR=f"10.1.0.{attempt}")
    response = api.post(TOKEN_URL, {"username": "marketer", "password": "leadhandoff"}, REMOTE_ADDR="10.1.1.1")
    assert response.status_code == 429
    assert "Too many failed logins" in response.json()["detail"]


def test_the_token_endpoint_is_throttled_after_its_rate(cast):
    api = APIClient()
    for _ in range(_rate("token")):
        assert api.post(TOKEN_URL, {"username": "marketer", "password": "leadhandoff"}).status_code == 200
    response = api.post(TOKEN_URL, {"username": "marketer", "password": "leadhandoff"})
    assert response.status_code == 429
    assert "throttled" in response.json()["detail"].lower()
    assert "Retry-After" in response


def test_an_api_user_is_throttled_after_the_user_rate(api, cast):
    client = api.as_user(cast.marketer)
    for _ in range(_rate("user")):
        assert client.get("/api/v1/leads/").status_code == 200
    response = client.get("/api/v1/leads/")
    assert response.status_code == 429
    # Another user keeps their own allowance.
    assert APIClient().get("/api/v1/leads/").status_code in (401, 403)
    assert api.as_user(cast.admin).get("/api/v1/leads/").status_code == 200


def test_the_throttle_figures_are_those_documented():
    readme = (settings.BASE_DIR / "README.md").read_text()
    for variable in ("API_THROTTLE_ANON", "API_THROTTLE_USER", "API_THROTTLE_TOKEN", "AXES_FAILURE_LIMIT"):
        assert variable in readme
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates["token"] in readme
    assert rates["user"] in readme


def test_a_forged_forwarded_for_header_does_not_dodge_the_token_throttle(cast):
    api = APIClient()
    for attempt in range(_rate("token")):
        api.post(
            TOKEN_URL, {"username": "marketer", "password": "leadhandoff"}, HTTP_X_FORWARDED_FOR=f"9.9.9.{attempt}"
        )
    forged = api.post(TOKEN_URL, {"username": "marketer", "password": "x"}, HTTP_X_FORWARDED_FOR="8.8.8.8")
    assert forged.status_code == 429


def test_behind_a_trusted_proxy_lockouts_count_the_forwarded_address(client, cast, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": f"nobody{attempt}", "password": "x"}, HTTP_X_FORWARDED_FOR="7.7.7.7")
    locked = client.post(
        reverse("login"), {"username": "rep1", "password": "leadhandoff"}, HTTP_X_FORWARDED_FOR="7.7.7.7"
    )
    assert locked.status_code == 429
    other = client.post(
        reverse("login"), {"username": "rep1", "password": "leadhandoff"}, HTTP_X_FORWARDED_FOR="6.6.6.6"
    )
    assert other.status_code == 302
