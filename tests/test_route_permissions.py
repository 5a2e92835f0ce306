"""Every route, every role: the server refuses what a role may not use.

Adding a route without an entry in tests/route_matrix fails
test_every_route_has_a_permission_entry; a write some role may make without an
effect check fails test_every_allowed_write_checks_its_effect.
"""

from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.route_matrix import EXEMPT_NAMES, EXEMPT_PREFIXES, ROLES, Route, all_routes


def _named_routes(resolver=None, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= _named_routes(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}{entry.name}")
    return names


def test_every_route_has_a_permission_entry():
    covered = {route.name for route in all_routes()}
    missing = sorted(
        name
        for name in _named_routes()
        if name not in covered and name not in EXEMPT_NAMES and not name.startswith(EXEMPT_PREFIXES)
    )
    assert missing == [], f"Routes without a permission test in tests/route_matrix: {missing}"


def test_every_entry_lists_every_role():
    for route in all_routes():
        assert set(route.expect) == set(ROLES), route.name


def test_every_allowed_write_checks_its_effect():
    unchecked = [
        f"{route.method.upper()} {route.name}"
        for route in all_routes()
        if route.effect is None and any(route.allows_write(role) for role in ROLES)
    ]
    assert unchecked == [], f"Allowed writes without an effect check in tests/route_matrix: {unchecked}"


def test_the_api_refuses_anonymous_callers():
    for route in all_routes():
        if route.api:
            assert route.expect["anonymous"] in (401, 403), route.name


def _effect_holds(route: Route, leads, kwargs: dict, user) -> bool:
    try:
        route.effect(leads, kwargs, user)
    except AssertionError:
        return False
    return True


CASES = [(route, role) for route in all_routes() for role in ROLES]


@pytest.mark.parametrize(("route", "role"), CASES, ids=[f"{r.name}-{r.method}-{role}" for r, role in CASES])
def test_route_answers_role(route: Route, role: str, cast, leads, api):
    user = cast.by_role(role)
    kwargs = route.kwargs(leads)
    url = reverse(route.name, kwargs=kwargs)
    if route.effect:
        assert not _effect_holds(route, leads, kwargs, user), f"{route.name}: the effect holds before the request"
    if route.api:
        client = api.as_user(user)
        response = getattr(client, route.method)(url, route.data, format="json")
    else:
        client = Client()
        if user is not None:
            client.force_login(user)
        response = getattr(client, route.method)(url, route.data or {})
    assert response.status_code == route.expect[role], (
        f"{route.method.upper()} {url} as {role}: {response.status_code}, expected {route.expect[role]}"
    )
    if role == "anonymous" and not route.api:
        login_page = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': url}, safe='/')}"
        assert response["Location"] == login_page, f"{route.method.upper()} {url} as anonymous"
    if route.effect:
        allowed = route.allows_write(role)
        assert _effect_holds(route, leads, kwargs, user) == allowed, (
            f"{route.method.upper()} {url} as {role}: the effect {'is missing' if allowed else 'happened anyway'}"
        )
