"""Issue 15 in real Chromium: the pages a rep or a manager opens fifty times a day, at laptop
(1366 px) and phone (390 px) width. Each test names the issue's points it holds.

Kept lean (the whole suite has a time budget): one login per role and page size, several
checks per page visit.
"""

import datetime
import re
import zoneinfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import User
from leads import history
from leads.models import Lead, Origin, Status
from scoring.models import Comment, DefinitionVersion
from tests.browser.axe import axe_severe_violations
from tests.factories import LeadFactory, make_queue_lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}
ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
FULL_MOMENT = re.compile(r"^\w+day \d{1,2} \w+ \d{4}, \d\d:\d\d:\d\d America/New_York \(UTC-0[45]:00\)$")


def no_sideways_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def inside_the_screen(page: Page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= size["width"] + 0.5


def name_the_rep(cast) -> User:
    User.objects.filter(pk=cast.rep.pk).update(first_name="Sam", last_name="Rivera", timezone="America/New_York")
    cast.rep.refresh_from_db()
    return cast.rep


def test_the_queue_at_a_glance_on_a_laptop_and_on_a_phone(new_page, login_as, cast):
    """Points 1 (summary strip that filters; cards on a phone), 2 (human times, the rep's zone,
    full moment on hover) and 10 (visible focus; axe on the rep's main page at both widths)."""
    rep = name_the_rep(cast)
    now = timezone.now()
    overdue = make_queue_lead(rep=rep, at=now - datetime.timedelta(days=7), sla_hours=24, company="Overdue Ltd")
    soon = make_queue_lead(rep=rep, at=now - datetime.timedelta(hours=23), sla_hours=24, company="Soon GmbH")
    make_queue_lead(rep=rep, at=now, sla_hours=30, company="Later SA")
    make_queue_lead(
        rep=rep, at=now, origin=Origin.REP_SOURCED, rep_source_channel="referral", sla_due_at=None, company="Own"
    )
    end_of_day = datetime.datetime.combine(
        now.astimezone(rep.tz).date() + datetime.timedelta(days=1), datetime.time(), tzinfo=rep.tz
    )
    due_today = Lead.objects.filter(owner=rep, sla_due_at__gte=now, sla_due_at__lt=end_of_day).count()

    laptop = new_page(viewport=LAPTOP)
    login_as(laptop, "rep1")
    laptop.goto("/leads/queue/")
    summary = laptop.get_by_test_id("queue-summary")
    expect(summary.get_by_test_id("summary-overdue")).to_have_text(re.compile(r"^\s*1\s+overdue\s*$"))
    expect(summary.get_by_test_id("summary-hour")).to_have_text(re.compile(r"^\s*1\s+due within an hour\s*$"))
    expect(summary.get_by_test_id("summary-today")).to_have_text(re.compile(rf"^\s*{due_today}\s+due today\s*$"))
    expect(summary.get_by_test_id("summary-rep-sourced")).to_have_text(re.compile(r"^\s*1\s+rep-sourced"))
    # The time of the last activity: the rep's zone and the full moment on hover.
    moment = laptop.locator(f'[data-lead-id="{overdue.pk}"] time').first
    assert FULL_MOMENT.match(moment.get_attribute("title")), moment.get_attribute("title")
    # Keyboard focus is visible: tab to the first summary figure.
    laptop.get_by_test_id("summary-overdue").focus()
    outline = laptop.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), outline
    assert axe_severe_violations(laptop) == []

    laptop.get_by_test_id("summary-overdue").click()
    laptop.wait_for_url("**/leads/queue/?due=overdue")
    rows = laptop.get_by_test_id("queue-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-lead-id", str(overdue.pk))
    # In the largest sensible unit, with the word besides the colour.
    expect(rows.first.get_by_test_id("clock-left")).to_have_text("6 days overdue")
    expect(rows.first.get_by_test_id("clock-state")).to_have_text("Overdue")
    laptop.get_by_test_id("summary-hour").click()
    expect(laptop.get_by_test_id("queue-row")).to_have_count(1)
    expect(laptop.get_by_test_id("queue-row").first).to_have_attribute("data-lead-id", str(soon.pk))

    phone = new_page(viewport=PHONE)
    login_as(phone, "rep1")
    phone.goto("/leads/queue/")
    assert no_sideways_scroll(phone)
    for row in phone.get_by_test_id("queue-row").all():
        for part in ("queue-lead", "queue-company", "queue-score"):
            assert inside_the_screen(phone, row.get_by_test_id(part)), part
    first = phone.get_by_test_id("queue-row").first
    assert inside_the_screen(phone, first.get_by_test_id("clock-left"))
    expect(first.get_by_test_id("clock-left")).to_be_visible()
    assert axe_severe_violations(phone) == []


def test_the_brief_on_a_phone_and_a_laptop_one_score_readable_history_and_a_visible_refusal(new_page, login_as, cast):
    """Points 1 (touch buttons within the first phone screen), 2, 3 (history in words), 4 (one score
    of each kind, labelled, and why they differ), 5 (the reject form's refusal is seen and focused)
    and 6 (the deal value in the currency)."""
    rep = name_the_rep(cast)
    now = timezone.now()
    at_promotion = {
        "version": 3,
        "total": 82,
        "threshold": 60,
        "rules": [{"id": "visits", "label": "Visited pricing", "type": "behaviour", "points": 52}],
    }
    lead = make_queue_lead(
        rep=rep,
        at=now - datetime.timedelta(hours=2),
        company="Analytical Engines",
        promoted_version=3,
        promotion_explanation=at_promotion,
        deal_value=12000,
        score=81,
        score__explanation={
            **at_promotion,
            "version": 4,
            "total": 81,
            "rules": [{**at_promotion["rules"][0], "points": 51}],
        },
    )
    history.assigned(owner=rep, note="Rule 'EMEA enterprise'", rule="EMEA enterprise").write(lead=lead, at=now)
    history.updated(field="deal_value", old="", new="12000.00").write(lead=lead, at=now, actor=rep)
    history.sla_warning(due=now + datetime.timedelta(hours=22)).write(lead=lead, at=now)

    phone = new_page(viewport=PHONE)
    login_as(phone, "rep1")
    phone.goto(f"/leads/{lead.pk}/brief/")
    buttons = phone.get_by_test_id("touch-buttons")
    box = buttons.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"], box  # no scrolling to reach them
    assert phone.evaluate("window.scrollY") == 0
    assert no_sideways_scroll(phone)

    laptop = new_page(viewport=LAPTOP)
    login_as(laptop, "rep1")
    laptop.goto(f"/leads/{lead.pk}/brief/")
    why = laptop.get_by_test_id("brief-why")
    expect(why.get_by_test_id("score-total-label")).to_have_text("Score at promotion")
    expect(why.get_by_test_id("score-total")).to_have_text("82")
    expect(why.get_by_test_id("current-score-total")).to_have_text("81")
    expect(why.get_by_test_id("score-difference")).to_contain_text("v3 then, v4 now")
    expect(why.get_by_test_id("score-difference")).to_contain_text("Visited pricing: +52 then, +51 now.")
    expect(laptop.get_by_test_id("deal-value")).to_have_text("$12,000")
    sentences = laptop.get_by_test_id("history-sentence").all_inner_texts()
    assert "Deal value set to $12,000 by Sam Rivera" in sentences
    assert "Assigned to Sam Rivera by rule 'EMEA enterprise'" in sentences
    due_local = (now + datetime.timedelta(hours=22)).astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert f"First contact is due soon (due {due_local.day} {due_local:%b %Y, %H:%M})" in sentences
    body = laptop.locator("main").inner_text()
    assert not ISO_TIMESTAMP.search(body) and "12000.00" not in body and "rep1" not in body

    # Sent back as "Other" without a note: the summary at the top, the note focused and on screen.
    laptop.get_by_test_id("reject-form").locator("summary").click()
    laptop.get_by_test_id("reject-form").get_by_label("Reason").select_option("other")
    laptop.get_by_role("button", name="Send back").click()
    summary = laptop.get_by_test_id("error-summary")
    expect(summary).to_contain_text("Note: A note is required when the reason is other.")
    assert summary.evaluate("(el) => el.parentElement.tagName === 'MAIN' && el === el.parentElement.firstElementChild")
    expect(laptop.locator("#id_reject_note")).to_be_focused()
    expect(laptop.locator("#id_reject_note")).to_be_in_viewport()
    assert Lead.objects.get(pk=lead.pk).status == Status.ASSIGNED


def test_a_prospect_already_in_the_reps_queue_is_linked_and_the_error_is_focused(new_page, login_as, cast):
    """Points 5 (prospect form) and 6 (the link to your own lead)."""
    mine = make_queue_lead(rep=cast.rep, email="ada@engines.io", company="Engines")
    phone = new_page(viewport=PHONE)
    login_as(phone, "rep1")
    phone.goto("/leads/prospects/new/")
    phone.get_by_label("Email").fill("ADA@engines.io")
    phone.get_by_label("Channel").select_option("event")
    phone.get_by_role("button", name="Add to my queue").click()
    expect(phone.get_by_test_id("error-summary")).to_contain_text("This contact is already in your queue.")
    expect(phone.locator("#id_email")).to_be_focused()
    phone.get_by_test_id("own-lead").get_by_role("link", name="open your lead").click()
    phone.wait_for_url(f"**/leads/{mine.pk}/brief/")


def test_the_definition_editor_records_no_empty_revision_and_points_at_its_errors(new_page, login_as, cast):
    """Points 5 (definition editor) and 7 (a save that changes nothing is not a revision)."""
    from tests.scoring.definition_helpers import make_draft

    draft = make_draft(cast.marketer, threshold=50)
    comments = Comment.objects.filter(version=draft).count()
    page = new_page(viewport=LAPTOP)
    login_as(page, "marketer")
    page.goto(f"/definition/v/{draft.pk}/edit/")
    page.get_by_role("button", name="+ Fit rule").click()  # added, left empty
    page.get_by_test_id("save").click()
    expect(page.locator(".alert-info")).to_contain_text(f"Nothing changed: v{draft.number} stays at revision 1.")
    draft.refresh_from_db()
    assert draft.revision == 1 and Comment.objects.filter(version=draft).count() == comments

    page.goto(f"/definition/v/{draft.pk}/edit/")
    page.get_by_label("Threshold").fill("")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("error-summary")).to_contain_text("Threshold")
    expect(page.get_by_label("Threshold")).to_be_focused()
    assert DefinitionVersion.objects.get(pk=draft.pk).revision == 1


def test_the_import_mapping_points_at_its_error_and_the_button_counts_what_imports(
    new_page, login_as, cast, tmp_path, settings
):
    """Points 5 (import mapping) and 6 (the button counts the rows that will import)."""
    from tests.leads.test_import_views import WEBINAR

    settings.MEDIA_ROOT = tmp_path
    csv = tmp_path / "webinar.csv"
    csv.write_bytes(WEBINAR)
    page = new_page(viewport=LAPTOP)
    login_as(page, "marketer")
    page.goto("/leads/imports/upload/")
    page.locator("#id_file").set_input_files(str(csv))
    page.get_by_role("button", name=re.compile("Upload")).click()
    page.wait_for_url("**/mapping/")
    # A value-map line that does not parse: listed at the top, its field focused and on screen.
    values = page.locator("#id_values")
    guessed = values.input_value()
    values.fill("stage Won won")
    page.get_by_role("button", name="Save mapping and preview").click()
    summary = page.get_by_test_id("error-summary")
    expect(summary).to_contain_text("Line 1: write it as")
    assert summary.evaluate("(el) => el === document.querySelector('main').firstElementChild")
    expect(page.locator("#id_values")).to_be_focused()
    expect(page.locator("#id_values")).to_be_in_viewport()
    # No key column: a message about the whole form, focused where it stands (no copy of it).
    page.locator("#id_values").fill(guessed)
    page.get_by_label("E-mail", exact=True).select_option("")
    page.get_by_role("button", name="Save mapping and preview").click()
    expect(page.get_by_test_id("mapping-errors")).to_contain_text("key")
    expect(page.get_by_test_id("mapping-errors")).to_be_focused()
    page.get_by_label("E-mail", exact=True).select_option("email")
    page.get_by_role("button", name="Save mapping and preview").click()
    page.wait_for_url("**/preview/")
    expect(page.get_by_test_id("start-import")).to_have_text("Import 2 rows")
    expect(page.get_by_test_id("start-import-note")).to_have_text("2 rows with errors are skipped.")


@pytest.mark.parametrize(
    ("username", "home"),
    [("marketer", "/leads/pool/"), ("manager", "/leads/team/"), ("admin", "/leads/team/")],
)
def test_each_roles_main_page_has_no_serious_accessibility_violation(new_page, login_as, cast, username, home):
    """Point 10 for the other roles (the rep's queue is checked above); point 8 on the marketer's
    pool (the score pill's legend and tooltip); point 2 on the manager's dashboard (no "3583h")."""
    now = timezone.now()
    make_queue_lead(rep=cast.rep, at=now - datetime.timedelta(days=150), company="Ancient")
    LeadFactory(status=Status.NURTURE, score=72, company="Pool Co")
    page = new_page(viewport=LAPTOP)
    login_as(page, username)
    page.wait_for_url(f"**{home}")
    if username == "marketer":
        legend = page.get_by_test_id("score-legend")
        expect(legend).to_contain_text("passes every gate")
        expect(legend).to_contain_text("fails a gate")
        pill = page.get_by_test_id("score-pill").first
        assert "gate" in pill.get_attribute("title")
    else:
        expect(page.get_by_test_id("overdue").first).to_contain_text("overdue")
        text = " ".join(page.get_by_test_id("overdue").all_inner_texts())  # one panel per team for an admin
        assert re.search(r"\d+ months overdue", text) and not re.search(r"\d{3,}\s?h", text), text
    assert axe_severe_violations(page) == []
