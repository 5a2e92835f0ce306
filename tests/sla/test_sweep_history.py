"""The sweep's history rows in words (leads.history builders: one writer per transition)."""

import datetime

import pytest

from leads import history
from leads.history import sentence
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

DUE = datetime.datetime(2026, 3, 3, 9, 0, tzinfo=datetime.UTC)


def said(entry, users):
    row = entry.row(lead_id=LeadFactory().pk, at=DUE)
    return sentence(row, {u.pk: u for u in users})


def test_an_escalation_says_who_was_told(cast):
    assert said(history.sla_escalated(due=DUE), []) == (
        "Still no first contact: escalated to the manager and admins (due 3 Mar 2026, 09:00)"
    )


def test_a_reassignment_on_breach_names_both_reps(cast):
    entry = history.sla_reassigned(
        old_owner=cast.rep, owner=cast.teammate, team="East", reassignment=1, note="round robin"
    )
    assert said(entry, [cast.rep, cast.teammate]) == (
        f"Reassigned from {cast.rep} to {cast.teammate} after a missed first-contact deadline"
    )


def test_a_lead_back_in_the_queue_says_why(cast):
    entry = history.sla_reassigned(
        old_owner=cast.rep, owner=None, team="East", reassignment=2, note="no other rep of the team is available"
    )
    assert said(entry, [cast.rep]) == (
        f"Back in East's unassigned queue after {cast.rep} missed the deadline (no other rep of the team is available)"
    )
