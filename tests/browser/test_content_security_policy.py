"""The Content-Security-Policy holds in the browser, and the suite notices when it is broken."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_inline_script_is_refused_and_reported(page, login_as, cast, csp_violations):
    login_as(page, "manager")
    page.goto("/leads/team/")
    # What an injected <script> would do: Chromium refuses it and says so.
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.pwned = 1';"
        " document.body.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.pwned") is None
    assert any("Content Security Policy" in violation for violation in csp_violations)
    csp_violations.clear()  # this test caused them on purpose


def test_the_team_dashboard_draws_its_charts_from_a_script_file(page, login_as, cast):
    login_as(page, "manager")
    page.goto("/leads/team/")
    canvas = page.locator("[data-team-chart]").first
    expect(canvas).to_be_visible()
    page.wait_for_function("() => typeof Chart !== 'undefined'")
    assert page.evaluate("(el) => Chart.getChart(el) !== undefined", canvas.element_handle())
