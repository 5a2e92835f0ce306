"""Custom fields in real Chromium (issue 14): a marketer declares a number field on the
Custom fields page, writes a definition that scores it, and the preview (a real Celery
worker) shows the pool lead with many visits newly qualifying and not the one with few."""

import pytest
from playwright.sync_api import Page, expect

from leads.models import CustomField
from tests.factories import LeadFactory

from .test_signoff_journey import add_rule

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_marketer_declares_a_number_field_and_the_preview_scores_it(page: Page, login_as, cast, celery_worker):
    LeadFactory(first_name="Vera", last_name="Visitor", email="vera@acme.example", attributes={"total_visits": 7})
    LeadFactory(first_name="Rita", last_name="Rare", email="rita@acme.example", attributes={"total_visits": 2})

    login_as(page, "marketer")
    page.get_by_role("link", name="Custom fields").click()
    form = page.get_by_test_id("custom-field-form")
    form.get_by_label("Name").fill("total_visits")
    form.get_by_label("Label").fill("Total visits")
    form.get_by_label("Kind").select_option("number")
    form.get_by_role("button", name="Declare").click()
    expect(page.get_by_test_id("custom-field-total_visits")).to_contain_text("Number")
    assert CustomField.objects.get().kind == "number"

    page.get_by_role("link", name="Definition").click()
    page.get_by_test_id("new-draft").click()
    page.get_by_label("Title").fill("Frequent visitors")
    page.get_by_label("Threshold").fill("50")
    add_rule(page, "Fit rule", label="5+ visits", field="attributes.total_visits", op="gt", value="4", points="60")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("version-state")).to_have_text("Draft")

    page.get_by_test_id("propose").click()
    page.get_by_test_id("run-preview").click()
    expect(page.get_by_test_id("preview-panel")).to_have_attribute("data-state", "done", timeout=60_000)
    expect(page.get_by_test_id("newly-qualify-count")).to_have_text("+1")
    expect(page.get_by_test_id("newly-qualify")).to_contain_text("Vera Visitor")
    expect(page.get_by_test_id("newly-qualify")).not_to_contain_text("Rita")
