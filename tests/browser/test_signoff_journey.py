"""The sign-off journey in real Chromium: a marketer writes and proposes a definition,
previews it (htmx progress, Chart.js), a sales manager and the marketer approve, the
version becomes active, a real Celery worker rescores the pool, and the pool lead that
now qualifies lands in a rep's queue with its explanation."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import RepProfile
from leads.models import AssignmentRule, Lead, Status
from scoring.models import DefinitionVersion
from tests.factories import LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def add_rule(page: Page, kind: str, **fields: str) -> None:
    """Click "+ <kind>" and fill the new row (inputs addressed by their formset name)."""
    index = page.locator("#rule-rows [data-rule-row]").count()
    page.get_by_role("button", name=f"+ {kind}").click()
    for name, value in fields.items():
        control = page.locator(f'[name="rules-{index}-{name}"]')
        if control.evaluate("el => el.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)


def test_marketing_and_sales_sign_off_and_the_newly_qualified_lead_reaches_a_rep_with_its_explanation(
    new_page,
    login_as,
    cast,
    celery_worker,
):
    # Routing: US leads go to the East team; rep2 is paused so rep1 gets it.
    AssignmentRule.objects.create(name="US", conditions={"country": ["US"]}, team=cast.team, position=1)
    RepProfile.objects.filter(user=cast.teammate).update(paused=True)
    lead = LeadFactory(
        first_name="Quinn",
        last_name="Qualified",
        email="quinn@bigcorp.example",
        company="BigCorp",
        country="US",
        company_size=800,
    )
    LeadFactory(first_name="Gina", last_name="Gmail", email="gina@gmail.com", company_size=900, country="US")

    # 1. The marketer writes a draft in the editor.
    marketer = new_page()
    login_as(marketer, "marketer")
    marketer.get_by_role("link", name="Definition").click()
    expect(marketer.get_by_test_id("no-active-version")).to_be_visible()
    marketer.get_by_test_id("new-draft").click()
    marketer.get_by_label("Title").fill("Big companies, business email")
    marketer.get_by_label("Threshold").fill("50")
    add_rule(marketer, "Fit rule", label="Over 500 people", field="company_size", op="gt", value="500", points="60")
    add_rule(marketer, "Gate", label="Business email", field="email_domain", op="not_one_of", value="gmail.com")
    # The gate row hides the points input (gates have none).
    expect(marketer.locator('[name="rules-1-points"]')).to_be_hidden()
    marketer.get_by_test_id("save").click()
    expect(marketer.get_by_test_id("version-state")).to_have_text("Draft")
    version = DefinitionVersion.objects.get()

    # 2. She proposes it and previews it against (no) active version.
    marketer.get_by_test_id("propose").click()
    expect(marketer.get_by_test_id("version-state")).to_have_text("Proposed")
    marketer.get_by_test_id("run-preview").click()
    panel = marketer.get_by_test_id("preview-panel")
    expect(panel).to_have_attribute("data-state", "done", timeout=60_000)  # htmx polled until the worker finished
    expect(marketer.get_by_test_id("newly-qualify-count")).to_have_text("+1")
    expect(marketer.get_by_test_id("newly-qualify")).to_contain_text("Quinn Qualified")
    expect(marketer.get_by_test_id("newly-qualify")).not_to_contain_text("Gina")
    assert marketer.evaluate("typeof window.Chart === 'function'")
    assert marketer.locator("canvas[data-chart][data-drawn='1']").count() == 2  # both charts were drawn

    marketer.get_by_test_id("approve").click()
    expect(marketer.get_by_role("alert")).to_contain_text(f"You approved v{version.number}.")
    expect(marketer.get_by_test_id("signoff-marketing")).to_have_attribute("data-approved", "yes")
    expect(marketer.get_by_test_id("signoff-sales")).to_have_attribute("data-approved", "no")
    marketer.wait_for_load_state("load")

    # 3. A sales manager sees the counts (never the pool lead) and approves: it becomes active.
    manager = new_page()
    login_as(manager, "manager")
    manager.goto(f"/definition/v/{version.pk}/")
    # One lead shows to sales as "fewer than 10" (scoring.selectors.figure_for_sales).
    expect(manager.get_by_test_id("newly-qualify-count")).to_have_text("fewer than 10")
    expect(manager.get_by_test_id("preview-lists-hidden")).to_be_visible()
    expect(manager.locator("body")).not_to_contain_text("Quinn")
    manager.get_by_test_id("approve").click()
    expect(manager.get_by_role("alert")).to_contain_text(re.compile(r"v\d+ is now the active definition"))
    expect(manager.get_by_test_id("version-state")).to_have_text("Active")
    manager.wait_for_load_state("load")  # let Chart.js finish loading before this page is left alone

    # 4. The worker rescores the pool with the new active version and routing assigns the lead.
    assert celery_worker.wait_for(
        lambda: Lead.objects.filter(pk=lead.pk, status=Status.ASSIGNED, owner=cast.rep).exists()
    ), Lead.objects.values("status", "owner_id", "team_id", "scorecard__total").get(pk=lead.pk)
    assert Lead.objects.get(first_name="Gina").status == Status.NURTURE  # the gate kept her in the pool

    # 5. The rep finds it in their queue, with why it qualified.
    rep = new_page()
    login_as(rep, "rep1")
    row = rep.get_by_test_id("queue-row").filter(has_text="Quinn Qualified")
    expect(row).to_be_visible()
    row.get_by_role("link", name="Quinn Qualified").click()
    expect(rep.get_by_test_id("promoted-version")).to_have_text(f"v{version.number}")
    why = rep.get_by_test_id("score-explanation")
    expect(why).to_contain_text("Over 500 people")
    expect(why).to_contain_text("Business email")

    # 5b. Everyone sees the active version on the definition home.
    rep.get_by_role("link", name="Definition").click()
    expect(rep.get_by_test_id("active-version")).to_contain_text("Over 500 people")
