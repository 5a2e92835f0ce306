"""Every response carries the Content-Security-Policy (django-csp)."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

HEADER = "Content-Security-Policy"


def _directives(response) -> dict[str, list[str]]:
    policy = response[HEADER]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_pages_carry_the_policy(client, cast):
    login = client.get(reverse("login"))
    directives = _directives(login)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"][0] == "'self'"
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-inline'" not in directives["style-src-elem"]
    assert directives["frame-ancestors"] == ["'none'"]
    client.force_login(cast.rep)
    assert HEADER in client.get(reverse("leads:my_queue"))
    assert HEADER in client.get("/no-such-page/")


def test_the_api_carries_the_policy(api, cast):
    assert HEADER in api.as_user(cast.marketer).get("/api/v1/leads/")
    assert HEADER in api.post("/api/v1/auth/token/", {"username": "marketer", "password": "leadhandoff"})


def test_the_api_docs_page_marks_its_inline_code_with_the_responses_nonce(client, cast):
    client.force_login(cast.marketer)
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", response[HEADER]).group(1)
    html = response.content.decode()
    assert f'<style nonce="{nonce}">' in html
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or f'nonce="{nonce}"' in tag, tag


def test_no_template_has_an_inline_script_or_style_element():
    from django.conf import settings

    for path in (settings.BASE_DIR / "templates").rglob("*.html"):
        if path.parts[-2] == "drf_spectacular":
            continue  # nonced, tested above
        text = re.sub(r"\{#.*?#\}", "", path.read_text())  # comments may name the tags
        assert "<style" not in text, path
        for tag in re.findall(r"<script[^>]*>", text):
            assert "src=" in tag, (path, tag)
