"""The SLA dashboard in real Chromium: charts drawn under the Content-Security-Policy, a phone-width
page without sideways scrolling, a figure's link to the leads behind it."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.sla.test_dashboard import H, make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_reads_the_dashboard_on_a_phone_and_opens_an_overdue_lead(new_page, login_as, cast):
    now = timezone.now()
    make(cast.rep, cast.team, due=now - datetime.timedelta(days=2), contact_after=3 * H)
    make(cast.rep, cast.team, due=now - datetime.timedelta(days=9), contact_after=30 * H)
    overdue = make(cast.teammate, cast.team, due=now - datetime.timedelta(hours=5))
    phone = new_page(viewport=PHONE)
    login_as(phone, "manager")
    phone.goto("/sla/dashboard/")
    expect(phone.get_by_test_id("page-title")).to_have_text("SLA dashboard")
    expect(phone.get_by_test_id("summary-compliance")).to_contain_text("33%")  # 1 met of 3 that came due
    # Both charts drawn by the vendored Chart.js from the embedded JSON (no inline script).
    drawn = phone.evaluate(
        "['sla-trend', 'sla-distribution'].map((id) => Chart.getChart(document.getElementById(id)) !== undefined)"
    )
    assert drawn == [True, True]
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.get_by_test_id("summary-open-breaches").get_by_role("link").click()
    expect(phone.get_by_test_id("page-title")).to_have_text("Breaches open now: 1 lead")
    phone.locator(f'[data-lead-id="{overdue.lead_id}"] a').first.click()
    phone.wait_for_url(f"**/leads/{overdue.lead_id}/brief/")
