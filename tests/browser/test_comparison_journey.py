"""A manager builds the comparison on the demo history in the browser: the form, the
progress bar while a real worker builds it, then the verdict, the table and the charts."""

import pytest
from playwright.sync_api import expect

from demo.seed import demo_seed
from reports.models import ComparisonReport

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_manager_builds_the_comparison_on_the_demo_and_reads_the_verdict(page, login_as, celery_worker):
    demo_seed(log=lambda _m: None)
    login_as(page, "manager")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_test_id("page-title")).to_have_text("Marketing-qualified against rep-sourced leads")
    page.get_by_label("Cohort mode").check()
    page.get_by_test_id("build-report").click()

    # The snapshot page polls while the worker builds, then reloads on the figures.
    report = ComparisonReport.objects.get()
    assert celery_worker.wait_for(lambda: ComparisonReport.objects.get(pk=report.pk).state == "done")
    verdict = page.get_by_test_id("verdict")
    expect(verdict).to_be_visible(timeout=15_000)
    report.refresh_from_db()
    expect(verdict).to_have_text(report.data["verdict"]["text"])
    assert report.team.manager.username == "manager"
    expect(page.get_by_test_id("report-age")).to_contain_text("Snapshot built")
    expect(page.locator('[data-testid="group-row"][data-group="rep_sourced:cold_call"]')).to_be_visible()
    expect(page.locator('[data-testid="group-row"][data-group="total"]')).to_be_visible()
    expect(page.locator("canvas[data-report-chart]")).to_have_count(2)

    # The story of the field: MQLs close in fewer touches than cold calls.
    groups = report.data["groups"]
    mql_touches = [g["median_touches_won"] for name, g in groups.items() if name.startswith("mql:")]
    assert max(mql_touches) < groups["rep_sourced:cold_call"]["median_touches_won"]

    # A drill-down lists the group's leads the manager may see.
    page.locator('[data-group="rep_sourced:cold_call"] a').click()
    expect(page.get_by_test_id("group-lead").first).to_be_visible()
