"""One journey per role through real Chromium: log in with the form, land on the
role's home page, see only the role's navigation, be refused another role's
page with the friendly 403, log out; plus a wrong password and a phone screen."""

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@dataclass(frozen=True)
class Journey:
    username: str
    home: str
    home_title: str
    sees: tuple[str, ...]
    does_not_see: tuple[str, ...]
    refused: str  # another role's page, by URL


JOURNEYS = {
    "marketer": Journey(
        username="marketer",
        home="/leads/pool/",
        home_title="Nurture pool",
        sees=("Nurture pool", "Definition"),
        does_not_see=("My queue", "Team dashboard", "Admin"),
        refused="/leads/queue/",
    ),
    "rep": Journey(
        username="rep1",
        home="/leads/queue/",
        home_title="My queue",
        sees=("My queue", "Definition"),
        does_not_see=("Nurture pool", "Team dashboard", "Admin"),
        refused="/leads/pool/",
    ),
    "manager": Journey(
        username="manager",
        home="/leads/team/",
        home_title="Team dashboard",
        sees=("Team dashboard", "Definition"),
        does_not_see=("Nurture pool", "My queue", "Admin"),
        refused="/leads/pool/",
    ),
    "admin": Journey(
        username="admin",
        home="/leads/team/",
        home_title="Team dashboard",
        sees=("Team dashboard", "Nurture pool", "Definition", "Admin"),
        does_not_see=("My queue",),
        refused="/leads/queue/",
    ),
}


def nav_labels(page: Page) -> list[str]:
    return [text.strip() for text in page.locator("#nav .navbar-nav.me-auto .nav-link").all_inner_texts()]


def log_out(page: Page) -> None:
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))


@pytest.mark.parametrize("role", list(JOURNEYS))
def test_each_role_lands_home_sees_its_navigation_is_refused_elsewhere_and_logs_out(
    role, page, login_as, cast, static_failures
):
    journey = JOURNEYS[role]

    login_as(page, journey.username)

    expect(page).to_have_url(re.compile(re.escape(journey.home) + "$"))
    expect(page.get_by_test_id("page-title")).to_have_text(journey.home_title)
    labels = nav_labels(page)
    for label in journey.sees:
        assert label in labels, f"{role} should see {label!r} in {labels}"
    for label in journey.does_not_see:
        assert label not in labels, f"{role} should not see {label!r} in {labels}"
    # Bootstrap and htmx really ran (not only that their files answered 200).
    assert page.evaluate("typeof window.bootstrap === 'object' && typeof window.htmx === 'object'")

    response = page.goto(journey.refused)
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    page.get_by_role("link", name="Back to your home page").click()
    expect(page).to_have_url(re.compile(re.escape(journey.home) + "$"))

    log_out(page)
    page.goto(journey.home)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    assert static_failures == []


def test_a_wrong_password_shows_a_clear_error_and_stays_on_the_login_page(page, cast):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("rep1")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_text("That username and password do not match. Check both and try again.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_label("Username")).to_have_value("rep1")


def test_on_a_phone_the_navigation_collapses_into_the_toggler_without_horizontal_scroll(new_page, login_as, cast):
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    login_as(page, "rep1")
    expect(page.get_by_test_id("page-title")).to_have_text("My queue")

    toggler = page.locator(".navbar-toggler")
    queue_link = page.locator("#nav").get_by_role("link", name="My queue")
    expect(toggler).to_be_visible()
    expect(queue_link).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    toggler.click()
    expect(queue_link).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
