"""A manager drills from a rep's row of the cherry-pick index down to the MQLs the rep skipped;
a marketer opens the credit page and sees marketing's contribution next to sales'."""

import pytest
from playwright.sync_api import expect

from reports.analyses import services
from reports.models import Analysis
from tests.reports import test_cherry_pick, test_credit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOW = test_cherry_pick.NOW
SINCE, UNTIL = test_cherry_pick.SINCE, test_cherry_pick.UNTIL


def _built(kind, *, team_id, actor):
    analysis = services.analysis_request(kind=kind, since=SINCE, until=UNTIL, team_id=team_id, actor=actor)
    return services.analysis_build(analysis_id=analysis.pk, now=NOW)


def test_a_manager_drills_from_a_reps_index_row_to_the_mqls_they_skipped(page, login_as, cast):
    test_cherry_pick._random_history(cast, 11, skipper=cast.teammate)
    analysis = _built(Analysis.Kind.CHERRY_PICK, team_id=cast.team.id, actor=cast.manager)
    skipper = next(r for r in analysis.data["reps"] if r["username"] == "rep2")
    assert skipper["never"] > 0

    login_as(page, "manager")
    page.get_by_role("link", name="Cherry-pick index").click()
    expect(page.get_by_test_id("page-title")).to_have_text("Cherry-pick index")
    page.get_by_test_id("snapshot-link").first.click()
    top = analysis.data["reps"][0]["username"]  # the most out of order first (tests/reports/test_analyses_demo.py)
    expect(page.get_by_test_id("rep-row").first).to_have_attribute("data-rep", top)
    expect(page.locator("canvas[data-analysis-chart]")).to_have_count(2)
    row = page.locator('[data-testid="rep-row"][data-rep="rep2"]')
    row.get_by_test_id("drill-never").click()
    expect(page.get_by_test_id("page-title")).to_contain_text("Never contacted (skipped)")
    expect(page.get_by_test_id("drill-lead")).to_have_count(skipper["never"])


def test_a_marketer_opens_the_credit_page(page, login_as, cast):
    test_credit._random_history(cast, 12)
    analysis = _built(Analysis.Kind.CREDIT, team_id=None, actor=cast.marketer)
    login_as(page, "marketer")
    page.get_by_role("link", name="Credit").click()
    expect(page.get_by_test_id("page-title")).to_have_text("Credit to both sides")
    page.get_by_test_id("snapshot-link").first.click()
    expect(page.get_by_test_id("credit-marketing").first).to_be_visible()
    first_source = next(iter(analysis.data["marketing"]["first_source"]))
    expect(page.locator(f'[data-testid="credit-source"][data-name="{first_source}"]').first).to_be_visible()
    expect(page.get_by_test_id("credit-rep").first).to_be_visible()
    expect(page.get_by_test_id("credit-total")).to_contain_text(analysis.data["total"]["won_value"])
    expect(page.locator("canvas[data-analysis-chart]")).to_have_count(2)


def test_a_manager_reads_the_cycle_dashboard_on_a_phone_and_opens_a_bar(new_page, login_as, cast):
    from tests.browser.conftest import PHONE
    from tests.reports import test_cycle

    test_cycle._random_history(cast, 13)
    analysis = services.analysis_request(
        kind=Analysis.Kind.CYCLE,
        since=test_cycle.SINCE,
        until=test_cycle.UNTIL,
        team_id=cast.team.id,
        actor=cast.manager,
    )
    analysis = services.analysis_build(analysis_id=analysis.pk, now=test_cycle.NOW)
    phone = new_page(viewport=PHONE)
    login_as(phone, "manager")
    phone.goto(f"/reports/analyses/{analysis.pk}/")
    expect(phone.get_by_test_id("page-title")).to_have_text("Cycle length")
    drawn = phone.evaluate(
        "Array.from(document.querySelectorAll('canvas[data-analysis-chart]'))"
        ".map((c) => Chart.getChart(c) !== undefined)"
    )
    assert drawn == [True, True]
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    first = analysis.data["histogram"][0]
    phone.get_by_test_id("cycle-bar").first.click()
    expect(phone.get_by_test_id("page-title")).to_contain_text(first["label"])
    expect(phone.get_by_test_id("drill-lead")).to_have_count(first["deals"])
