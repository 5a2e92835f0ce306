"""Playwright fixtures for the browser journeys (real Debian Chromium, headless).

How to write a browser test::

    import pytest

    pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

    def test_a_rep_sees_their_queue(page, login_as, cast):
        login_as(page, "rep1")                 # the real login form
        page.goto("/leads/queue/")             # relative to the live server
        expect(page.get_by_test_id("page-title")).to_have_text("My queue")

Fixtures:

- ``browser`` (session): one headless Chromium from /usr/bin/chromium (Debian's
  package; Playwright's own browser download is never used).
- ``new_page(**context_options)``: a page in a fresh browser context (own
  cookies, so a fresh session) pointed at the live server. Use it for a second
  user in the same test or for other viewports: ``new_page(viewport={"width":
  375, "height": 740})``. Every page gets a default timeout of 10 s.
- ``page_at(base_url, **context_options)``: the same on any server, e.g. the
  demo started by scripts/run.py (tests/browser/test_demo_signoff.py).
- ``page``: ``new_page()`` with the default desktop viewport (1280x800).
- ``login_as(page, username, password="leadhandoff")``: logs in through the
  real login form and waits until the browser has left the login page (the
  role's home page). The user must exist; the ``cast`` fixture of
  tests/conftest.py creates marketer, rep1, rep2, rep3, manager, other_manager
  and admin, all with the password "leadhandoff".
- ``static_failures``: the list of /static/ requests that failed (network
  error or HTTP >= 400) on every page of the test. Each test ends with a check
  that it is empty, so a missing Bootstrap or htmx file fails the test.
- ``csp_violations``: every Content-Security-Policy violation Chromium reported
  (on its console) on any page of the test. Each test ends with a check that it
  is empty, so an inline script or style the policy refuses fails the test.

The live server (pytest-django's ``live_server``) runs in a thread of the test
process and needs data committed to be visible: mark browser tests
``django_db(transaction=True)``. Its static handler serves files through the
staticfiles finders, so Bootstrap, htmx and app.css load without collectstatic.
"""

import os
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

# Playwright's sync API runs an asyncio loop in this thread; Django refuses ORM
# calls while a loop runs unless told it is safe (it is: the loop is idle while
# test code runs).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEFAULT_TIMEOUT_MS = 10_000
DEMO_PASSWORD = "leadhandoff"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session (a launch costs ~0.5 s)."""
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@pytest.fixture
def static_failures() -> list[str]:
    """URLs of /static/ requests that failed on any page of this test."""
    return []


@pytest.fixture
def csp_violations() -> list[str]:
    """Content-Security-Policy violations Chromium reported on any page of this test."""
    return []


@pytest.fixture
def new_page(page_at, live_server) -> Callable[..., Page]:
    """Factory: ``new_page(**context_options) -> Page`` in a fresh context on the live server."""
    return lambda **context_options: page_at(live_server.url, **context_options)


@pytest.fixture
def page_at(browser, static_failures, csp_violations) -> Iterator[Callable[..., Page]]:
    """Factory: ``page_at(base_url, **context_options) -> Page`` in a fresh context on
    any server, e.g. the demo as `make run` starts it (no live server involved)."""
    contexts = []

    def make(base_url: str, **context_options) -> Page:
        context_options.setdefault("viewport", DESKTOP)
        context = browser.new_context(base_url=base_url, **context_options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)

        def on_failed(request) -> None:
            if "/static/" in request.url:
                static_failures.append(f"{request.url} ({request.failure})")

        def on_response(response) -> None:
            if "/static/" in response.url and response.status >= 400:
                static_failures.append(f"{response.url} (HTTP {response.status})")

        def on_console(message) -> None:
            # Chromium logs every refusal: "Refused to execute inline script because it
            # violates the following Content Security Policy directive: …".
            if "Content Security Policy" in message.text or "securitypolicyviolation" in message.text:
                csp_violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

        context.on("requestfailed", on_failed)
        context.on("response", on_response)
        context.on("console", on_console)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    assert static_failures == [], f"Static files failed to load: {static_failures}"
    assert csp_violations == [], f"Content-Security-Policy violations: {csp_violations}"


@pytest.fixture
def page(new_page) -> Page:
    """A desktop-sized page in a fresh context (no session) on the live server."""
    return new_page()


@pytest.fixture
def login_as() -> Callable[..., Page]:
    """``login_as(page, username, password="leadhandoff")``: log in through the real form."""

    def login(page: Page, username: str, password: str = DEMO_PASSWORD) -> Page:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    return login
