"""A marketer imports a two-file MQL funnel in a real browser: the leads file with the
closed-deals file as a lookup joined by id, the outcome derived from a match ("won if
the lead is in the closed-deals file"), run on a real Celery worker.

The files have the shape of a public MQL-funnel export (written here, not copied):
leads with a first-contact date and a traffic channel, and closed deals with a won date,
a business segment and a declared revenue. The lead engineer extends this journey with a
typed custom field scored in the definition (issue 14, "Done means").
"""

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from leads.models import ImportJob, Lead, Status
from tests.browser.conftest import PHONE
from tests.browser.test_signoff_journey import add_rule
from tests.conftest import running_worker

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LEADS = 24
WON_EVERY = 4  # every fourth lead has a closed deal


@pytest.fixture
def import_worker(settings, tmp_path):
    """The real worker, reading uploads from the same media folder as the live server."""
    settings.MEDIA_ROOT = tmp_path / "media"
    with running_worker(settings, log=tmp_path / "worker.log", MEDIA_ROOT=str(settings.MEDIA_ROOT)) as worker:
        yield worker


def _write(path: Path, rows: list[list[str]]) -> Path:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


@pytest.fixture
def funnel(tmp_path) -> tuple[Path, Path, set[str]]:
    channels = ["social", "paid_search", "organic_search", "email"]
    leads = [["mql_id", "first_contact_date", "landing_page_id", "origin"]]
    deals = [["mql_id", "seller_id", "sdr_id", "won_date", "business_segment", "declared_monthly_revenue"]]
    won: set[str] = set()
    for i in range(LEADS):
        mql = f"{i:032x}"
        leads.append([mql, f"2018-01-{i + 1:02d}", f"page{i % 3}", channels[i % 4]])
        if i % WON_EVERY == 0:
            won.add(mql)
            deals.append([mql, f"seller{i}", "sdr1", f"2018-03-{i + 1:02d} 10:00:00", "pet", str(1000 * (i + 1))])
    return _write(tmp_path / "mqls.csv", leads), _write(tmp_path / "closed_deals.csv", deals), won


def test_a_marketer_imports_a_two_file_funnel_with_the_outcome_derived_from_the_closed_deals(
    page: Page, new_page, login_as, cast, import_worker, funnel
):
    leads_file, deals_file, won = funnel
    login_as(page, "marketer")
    page.goto("/leads/imports/upload/")
    page.get_by_label("CSV file").set_input_files(leads_file)
    page.get_by_label("Lookup files (optional)").set_input_files(deals_file)
    page.get_by_role("button", name="Upload and map columns").click()

    # The guesses: the *_id key, the channel as the source (never the marketing/rep-sourced
    # origin), the first-contact date as the created date (no owner column: nobody contacted
    # them), and the closed-deals file joined on mql_id with its won date as the close date.
    expect(page.get_by_test_id("page-title")).to_have_text("Map the columns of mqls.csv")
    expect(page.get_by_label("mql_id", exact=True)).to_have_value("external_id")
    expect(page.get_by_label("origin", exact=True)).to_have_value("source")
    expect(page.get_by_label("first_contact_date", exact=True)).to_have_value("created_at")
    joins = page.get_by_test_id("lookup-joins")
    expect(joins).to_contain_text("closed_deals")
    expect(page.get_by_label("Join “closed_deals.csv” on the file's column")).to_have_value("mql_id")
    expect(page.get_by_label("closed_deals.won_date", exact=True)).to_have_value("closed_at")

    # The same page on a phone: the lookup's join and its columns fit the width.
    phone = new_page(viewport=PHONE)
    login_as(phone, "marketer")
    phone.goto(page.url)
    expect(phone.get_by_label("Join “closed_deals.csv” on the file's column")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_label("closed_deals.business_segment", exact=True).select_option("industry")
    page.get_by_label("closed_deals.declared_monthly_revenue", exact=True).select_option("__attribute__")
    page.get_by_label("Derived values").fill("stage: won if lookup closed_deals matched")
    page.get_by_label("Save this mapping as").fill("MQL funnel")
    page.get_by_role("button", name="Save mapping and preview").click()

    expect(page.get_by_test_id("page-title")).to_have_text("Preview of mqls.csv")
    page.get_by_test_id("start-import").click()
    progress = page.get_by_test_id("import-progress")
    expect(progress).to_contain_text("100%", timeout=60_000)
    expect(progress).to_contain_text(f"Created {LEADS} · updated 0 · rejected 0")

    job = ImportJob.objects.get()
    assert (job.state, job.created_count) == (ImportJob.State.DONE, LEADS)
    assert set(Lead.objects.filter(status=Status.WON).values_list("external_id", flat=True)) == won
    assert not Lead.objects.filter(status=Status.WON, closed_at__isnull=True).exists()
    # The others wait in the nurture pool: no owner, no first contact, no close date.
    rest = Lead.objects.exclude(status=Status.WON)
    assert set(rest.values_list("status", flat=True)) == {Status.NURTURE}
    assert not Lead.objects.filter(first_contact_at__isnull=False).exists()
    assert not rest.filter(closed_at__isnull=False).exists()
    first = Lead.objects.get(external_id=f"{0:032x}")
    assert (first.industry, first.source, first.attributes["declared_monthly_revenue"]) == ("pet", "social", "1000")


def test_a_funnel_with_a_custom_number_field_is_imported_and_the_definition_scores_that_field(
    page: Page, login_as, cast, import_worker, funnel
):
    """Issue 14, "Done means": the two-file funnel with its derived outcome and a typed custom
    field, then a draft definition scoring that field, whose preview changes accordingly."""
    leads_file, deals_file, won = funnel
    rows = list(csv.reader(leads_file.open(encoding="utf-8")))
    rows[0].append("total_visits")
    visits = {row[0]: (i * 3) % 11 for i, row in enumerate(rows[1:])}
    for row in rows[1:]:
        row.append(str(visits[row[0]]))
    _write(leads_file, rows)

    login_as(page, "marketer")
    page.get_by_role("link", name="Custom fields").click()
    form = page.get_by_test_id("custom-field-form")
    form.get_by_label("Name").fill("total_visits")
    form.get_by_label("Label").fill("Total visits")
    form.get_by_label("Kind").select_option("number")
    form.get_by_role("button", name="Declare").click()
    expect(page.get_by_test_id("custom-field-total_visits")).to_contain_text("Number")

    page.goto("/leads/imports/upload/")
    page.get_by_label("CSV file").set_input_files(leads_file)
    page.get_by_label("Lookup files (optional)").set_input_files(deals_file)
    page.get_by_role("button", name="Upload and map columns").click()
    page.get_by_label("total_visits", exact=True).select_option("__attribute__")
    page.get_by_label("Derived values").fill("stage: won if lookup closed_deals matched")
    page.get_by_role("button", name="Save mapping and preview").click()
    page.get_by_test_id("start-import").click()
    expect(page.get_by_test_id("import-progress")).to_contain_text(f"Created {LEADS} · updated 0 · rejected 0")
    assert set(Lead.objects.filter(status=Status.WON).values_list("external_id", flat=True)) == won
    # The declared field is stored typed: a number, not the file's text.
    assert {lead.external_id: lead.attributes["total_visits"] for lead in Lead.objects.all()} == visits

    # A draft that scores the field: the preview names exactly the pool leads with 5+ visits.
    in_pool_with_visits = {mql for mql, n in visits.items() if n > 4 and mql not in won}
    page.get_by_role("link", name="Definition").click()
    page.get_by_test_id("new-draft").click()
    page.get_by_label("Title").fill("Frequent visitors")
    page.get_by_label("Threshold").fill("50")
    add_rule(page, "Fit rule", label="5+ visits", field="attributes.total_visits", op="gt", value="4", points="60")
    page.get_by_test_id("save").click()
    page.get_by_test_id("propose").click()
    page.get_by_test_id("run-preview").click()
    expect(page.get_by_test_id("preview-panel")).to_have_attribute("data-state", "done", timeout=60_000)
    expect(page.get_by_test_id("newly-qualify-count")).to_have_text(f"+{len(in_pool_with_visits)}")
