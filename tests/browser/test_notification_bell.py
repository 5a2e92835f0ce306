"""The notification bell in a real browser: visible at phone width (outside the
collapsed menu), live through htmx polling, and within the Content-Security-Policy
(the page fixtures fail the test on any violation)."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sla.models import EventKind, Notification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}


def notify(user, message: str, lead=None) -> Notification:
    return Notification.objects.create(
        recipient=user, kind=EventKind.BREACH, message=message, lead=lead, created_at=timezone.now()
    )


def test_the_bell_counts_live_at_phone_width_and_leads_to_the_brief(new_page, login_as, cast, leads):
    notify(cast.rep, "You missed the first-contact deadline for Ada", lead=leads.rep_owned)
    page = new_page(viewport=PHONE)
    page.clock.install()
    login_as(page, "rep1")
    bell = page.get_by_test_id("notification-bell")
    expect(bell).to_be_visible()  # not hidden in the collapsed menu
    expect(page.get_by_test_id("bell-count")).to_have_text("1 unread")

    # A new notification shows up at the next poll, without a reload.
    notify(cast.rep, "First contact with Bob is due soon")
    page.clock.run_for(datetime.timedelta(seconds=31).total_seconds() * 1000)
    expect(page.get_by_test_id("bell-count")).to_have_text("2 unread")

    bell.click()
    expect(page.get_by_test_id("page-title")).to_contain_text("Notifications")
    page.get_by_role("link", name="You missed the first-contact deadline for Ada").click()
    page.wait_for_url(f"**/leads/{leads.rep_owned.pk}/brief/")

    page.goto("/notifications/")
    page.get_by_test_id("read-all").click()
    expect(page.get_by_test_id("bell-count")).to_have_count(0)
    assert not Notification.objects.filter(recipient=cast.rep, read_at__isnull=True).exists()
