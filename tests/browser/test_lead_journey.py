"""A lead's journey through real Chromium: promoted by the active definition and
routed to a rep, found in the rep's queue with its countdown, read in the brief,
the first call logged, then moved to opportunity and won."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import RepProfile
from leads.models import AssignmentRule, EventKind, HistoryAction, Lead, LeadHistory, Status
from scoring.scoring import rescore_and_promote
from tests.factories import ActiveDefinitionFactory, EngagementEventFactory, LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RULES = [
    {
        "id": "fit-title",
        "type": "fit",
        "label": "Director-level title",
        "field": "title",
        "op": "contains",
        "value": "director",
        "points": 40,
    },
    {
        "id": "beh-demo",
        "type": "behaviour",
        "label": "Asked for a demo",
        "event_kind": "demo_request",
        "min_count": 1,
        "within_days": 30,
        "points": 30,
        "cap": None,
        "half_life_days": None,
    },
]


@pytest.fixture
def promoted_lead(cast) -> Lead:
    """Promotion for real: an active definition, a rescore that promotes, routing to rep1."""
    now = timezone.now()
    ActiveDefinitionFactory(title="Journey", rules=RULES, threshold=60, created_at=now)
    AssignmentRule.objects.create(name="US to East", position=1, team=cast.team, conditions={"country": ["US"]})
    # rep2 is paused, so East's round robin can only pick rep1.
    RepProfile.objects.filter(user=cast.teammate).update(paused=True)
    lead = LeadFactory(
        email="grace@compiler.io",
        first_name="Grace",
        last_name="Hopper",
        title="Director of Engineering",
        company="Compiler Co",
        country="US",
        source="webinar",
        campaign="Spring launch",
        status=Status.NURTURE,
    )
    EngagementEventFactory(lead=lead, kind=EventKind.DEMO_REQUEST)

    outcome = rescore_and_promote(now=now, lead_ids=[lead.pk])

    assert outcome.promoted == [lead.pk]
    lead.refresh_from_db()
    assert (lead.status, lead.owner) == (Status.ASSIGNED, cast.rep), "routing should assign rep1"
    assert lead.sla_due_at is not None
    return lead


def test_a_rep_takes_a_promoted_lead_from_queue_to_won(page: Page, login_as, cast, promoted_lead):
    lead = promoted_lead
    login_as(page, "rep1")

    # The queue: the lead with the time left on its first-contact clock, in words.
    page.goto("/leads/queue/")
    expect(page.get_by_test_id("page-title")).to_have_text("My queue")
    row = page.get_by_test_id("queue-row").filter(has_text="Grace Hopper")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("clock-left")).to_have_text(re.compile(r"^(23 h( \d+ min)?|1 day) left$"))
    expect(row.get_by_test_id("clock-state")).to_have_text("On time")
    expect(row).to_contain_text("webinar")

    # The brief: why the lead qualified, who it is.
    row.get_by_role("link", name="Grace Hopper").click()
    expect(page.get_by_test_id("page-title")).to_have_text("Grace Hopper")
    why = page.get_by_test_id("brief-why")
    expect(why.get_by_test_id("promoted-version")).to_have_text("v1")
    expect(why).to_contain_text("Director-level title")
    expect(why).to_contain_text("Asked for a demo")
    expect(page.get_by_test_id("brief-source")).to_contain_text("Spring launch")
    expect(page.get_by_test_id("brief-engagement")).to_contain_text("Demo request")
    expect(page.get_by_test_id("lead-status")).to_have_text("Assigned")

    # The first call, in two clicks: pick the outcome, press "Log call".
    touch_form = page.get_by_test_id("touch-form")
    touch_form.get_by_label("Outcome").select_option(label="Connected")
    touch_form.get_by_label("Notes").fill("Interested; wants pricing for 40 seats")
    touch_form.get_by_role("button", name="Log call").click()
    expect(page.get_by_role("alert").filter(has_text="Call logged (connected).")).to_be_visible()
    expect(page.get_by_test_id("lead-status")).to_have_text("Contacted")
    expect(page.get_by_test_id("first-contact-due")).to_have_count(0)
    expect(page.get_by_test_id("touch").first).to_contain_text("wants pricing for 40 seats")

    # An opportunity with its value, then won.
    stage_form = page.get_by_test_id("stage-form")
    stage_form.get_by_label("Move to").select_option(label="Opportunity")
    stage_form.get_by_label("Value").fill("18000")
    stage_form.get_by_role("button", name="Change stage").click()
    expect(page.get_by_test_id("lead-status")).to_have_text("Opportunity")
    expect(page.get_by_test_id("deal-value")).to_have_text("$18,000")  # settings.CURRENCY (USD)

    stage_form = page.get_by_test_id("stage-form")
    stage_form.get_by_label("Move to").select_option(label="Won")
    stage_form.get_by_role("button", name="Change stage").click()
    expect(page.get_by_role("alert").filter(has_text="Moved to won.")).to_be_visible()
    expect(page.get_by_test_id("lead-status")).to_have_text("Won")
    expect(page.get_by_test_id("touch-form")).to_have_count(0)

    # Closed leads leave the open queue and show under "Won".
    page.goto("/leads/queue/")
    expect(page.get_by_test_id("queue-row").filter(has_text="Grace Hopper")).to_have_count(0)
    page.get_by_label("Status").select_option(label="Won")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("queue-row").filter(has_text="Grace Hopper")).to_have_count(1)

    lead.refresh_from_db()
    assert lead.status == Status.WON
    assert lead.first_contact_at is not None and lead.sla_due_at is None
    assert lead.closed_at is not None and lead.deal_value == 18000
    assert lead.touch_count == 1
    trail = list(LeadHistory.objects.filter(lead=lead).order_by("created_at", "id").values_list("action", "new_value"))
    assert (HistoryAction.PROMOTED, "queued") in trail
    assert (HistoryAction.FIRST_CONTACT, lead.first_contact_at.isoformat()) in trail
    assert [new for action, new in trail if action == HistoryAction.STATUS_CHANGED][-3:] == [
        "contacted",
        "opportunity",
        "won",
    ]


def test_a_rep_sends_a_lead_back_to_marketing_with_a_reason(page: Page, login_as, cast, promoted_lead):
    login_as(page, "rep1")
    page.goto(f"/leads/{promoted_lead.pk}/brief/")
    reject = page.get_by_test_id("reject-form")
    reject.locator("summary").click()
    reject.get_by_label("Reason").select_option(label="Other")
    reject.get_by_role("button", name="Send back").click()
    # A note is required for "other": the error shows on the form, nothing is sent.
    expect(page.get_by_test_id("reject-form")).to_contain_text("A note is required when the reason is other.")
    reject = page.get_by_test_id("reject-form")
    reject.get_by_label("Note").fill("A student project, not a buyer")
    reject.get_by_role("button", name="Send back").click()
    expect(page.get_by_test_id("page-title")).to_have_text("My queue")
    expect(page.get_by_role("alert").filter(has_text="went back to marketing (other)")).to_be_visible()
    expect(page.get_by_test_id("queue-row")).to_have_count(0)

    promoted_lead.refresh_from_db()
    assert (promoted_lead.status, promoted_lead.owner, promoted_lead.rejected_version) == (Status.NURTURE, None, 1)
