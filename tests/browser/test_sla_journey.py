"""The first-contact clock end to end in a real browser: a lead assigned to rep1 warns (the
bell rings), breaches and is reassigned to rep2, whose first call stops the new clock; the
manager's SLA dashboard then shows both facts and rep1 is no longer free to cold-call."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import FirstContactPolicy, RepProfile
from leads.models import ClockOutcome, FirstContactClock, Lead, Status
from leads.routing.services import leads_route
from sla.sweep.services import sla_sweep
from tests.factories import AssignmentRuleFactory, LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOUR = datetime.timedelta(hours=1)


def test_a_missed_deadline_rings_the_bell_moves_the_lead_and_shows_on_the_dashboard(new_page, login_as, cast):
    FirstContactPolicy.objects.create(
        team=cast.team, window_minutes=24 * 60, warn_at_percent=[50], reassign_on_breach=True, max_reassignments=1
    )
    AssignmentRuleFactory(team=cast.team, name="Everything to East")
    # The lead was promoted 25 hours ago and routed to rep1 (rep2 on a break then).
    assigned = timezone.now() - 25 * HOUR
    RepProfile.objects.filter(user=cast.teammate).update(paused=True)
    lead = LeadFactory(
        status=Status.QUEUED, promoted_version=1, promoted_at=assigned, first_name="Ada", last_name="Byron"
    )
    assert leads_route(lead_ids=[lead.id], now=assigned) == 1
    RepProfile.objects.filter(user=cast.teammate).update(paused=False)

    # Halfway: the sweep warns rep1, and the bell says so.
    assert sla_sweep(now=assigned + 12 * HOUR)["warnings"] == 1
    rep1 = new_page()
    login_as(rep1, "rep1")
    expect(rep1.get_by_test_id("bell-count")).to_have_text("1 unread")

    # The deadline passes untouched: breach, and the lead moves to rep2 with a fresh clock.
    counts = sla_sweep(now=assigned + 24 * HOUR + datetime.timedelta(seconds=30))
    assert (counts["breaches"], counts["reassigned"]) == (1, 1)
    assert Lead.objects.get(id=lead.id).owner == cast.teammate
    rep1.reload()
    # Told of the breach and of the reassignment.
    expect(rep1.get_by_test_id("bell-count")).to_have_text("3 unread")

    # rep2 opens the lead and calls: the new clock stops, on time.
    rep2 = new_page()
    login_as(rep2, "rep2")
    rep2.goto(f"/leads/{lead.id}/brief/")
    expect(rep2.get_by_test_id("sla-timeline")).to_contain_text("Deadline missed by")
    rep2.get_by_role("button", name="Log call").click()
    expect(rep2.get_by_test_id("lead-status")).to_have_text("Contacted")
    first, second = FirstContactClock.objects.filter(lead_id=lead.id).order_by("started_at")
    assert (first.rep, first.outcome) == (cast.rep, ClockOutcome.BREACHED)
    assert (second.rep, second.outcome) == (cast.teammate, ClockOutcome.MET)

    # The manager's dashboard, over a period holding both deadlines: one met, one missed.
    manager = new_page()
    login_as(manager, "manager")
    today = timezone.localdate()
    manager.goto(
        f"/sla/dashboard/?period=custom&start={(today - datetime.timedelta(days=3)).isoformat()}"
        f"&end={(today + datetime.timedelta(days=2)).isoformat()}"
    )
    expect(manager.get_by_test_id("summary-compliance")).to_have_text("50%")
    expect(manager.get_by_test_id("summary-reassignments")).to_contain_text("1")
    rep1_row = manager.locator(f'[data-testid="rep-row"][data-rep-id="{cast.rep.id}"]')
    expect(rep1_row.get_by_test_id("rep-free")).to_have_attribute("data-free", "no")
    rep2_row = manager.locator(f'[data-testid="rep-row"][data-rep-id="{cast.teammate.id}"]')
    expect(rep2_row.get_by_test_id("rep-free")).to_have_attribute("data-free", "yes")

    # rep1's own queue tells them why they are not free to cold-call.
    rep1.goto("/leads/queue/")
    expect(rep1.get_by_test_id("free-to-cold-call")).to_contain_text("Not free to cold-call yet")
