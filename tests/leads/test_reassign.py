"""Managers reassign leads with a reason: the clock, the history, conflicts, who may do it."""

import datetime
import threading

import pytest
from django.db import connections
from django.http import Http404

from leadhandoff.api import ApplicationError, ConflictError
from leads.models import HistoryAction, Lead, LeadHistory, Status
from leads.routing.services import leads_reassign, rep_set_paused
from tests.factories import LeadFactory, make_rep

NOW = datetime.datetime(2026, 11, 23, 15, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(hours=24)

pytestmark = pytest.mark.django_db


def reassign(actor, leads, to_rep, *, reason="Territory change", expected=None, now=NOW):
    return leads_reassign(
        actor=actor,
        lead_ids=[lead.id for lead in leads],
        to_rep_id=to_rep.id,
        reason=reason,
        expected_owners=expected if expected is not None else {lead.id: lead.owner_id for lead in leads},
        now=now,
    )


def test_reassigning_an_uncontacted_lead_restarts_the_clock_and_records_the_reason(cast, leads):
    lead = leads.rep_owned
    moved = reassign(cast.manager, [lead], cast.teammate, reason="Rep on leave")
    assert [m.id for m in moved] == [lead.id]
    lead.refresh_from_db()
    assert (lead.owner, lead.team, lead.status) == (cast.teammate, cast.team, Status.ASSIGNED)
    assert lead.assigned_at == NOW and lead.sla_due_at == NOW + DAY
    row = LeadHistory.objects.get(lead=lead)
    assert row.action == HistoryAction.REASSIGNED and row.actor == cast.manager
    assert (row.field, row.old_value, row.new_value, row.note) == ("owner", "rep1", "rep2", "Rep on leave")
    assert row.data["clock_restarted"] is True and row.data["by"] == "manager"


def test_reassigning_a_contacted_lead_keeps_its_status_and_clock(cast, leads):
    lead = leads.rep_owned
    Lead.objects.filter(id=lead.id).update(
        status=Status.WORKING, first_contact_at=NOW - DAY, assigned_at=NOW - 2 * DAY, sla_due_at=None
    )
    lead.refresh_from_db()
    reassign(cast.manager, [lead], cast.teammate)
    lead.refresh_from_db()
    assert (lead.owner, lead.status, lead.assigned_at, lead.sla_due_at) == (
        cast.teammate,
        Status.WORKING,
        NOW - 2 * DAY,
        None,
    )
    assert LeadHistory.objects.get(lead=lead).data["clock_restarted"] is False


def test_assigning_from_the_unassigned_queue_is_an_assignment_by_the_manager(cast, leads):
    lead = leads.team_queued
    reassign(cast.manager, [lead], cast.rep, reason="Hot lead", expected={lead.id: None})
    lead.refresh_from_db()
    assert (lead.owner, lead.status, lead.sla_due_at) == (cast.rep, Status.ASSIGNED, NOW + DAY)
    row = LeadHistory.objects.get(lead=lead)
    assert (row.action, row.old_value, row.note) == (HistoryAction.ASSIGNED, "", "Hot lead")


def test_many_leads_move_together(cast, leads):
    moved = reassign(cast.manager, [leads.rep_owned, leads.teammate_owned, leads.team_queued], cast.rep)
    assert {m.id for m in moved} == {leads.teammate_owned.id, leads.team_queued.id}  # rep_owned was already theirs
    assert Lead.objects.filter(owner=cast.rep).count() == 3
    assert LeadHistory.objects.count() == 2


def test_an_admin_may_move_a_lead_to_another_teams_rep(cast, leads):
    reassign(cast.admin, [leads.rep_owned], cast.other_rep)
    leads.rep_owned.refresh_from_db()
    assert (leads.rep_owned.owner, leads.rep_owned.team) == (cast.other_rep, cast.other_team)


# --- Conflicts: nobody acts on a lead that is no longer where they saw it -----------


def test_a_lead_whose_owner_changed_since_the_manager_saw_it_is_a_conflict(cast, leads):
    lead = leads.rep_owned
    seen = {lead.id: cast.rep.id}
    Lead.objects.filter(id=lead.id).update(owner=cast.teammate)  # someone else moved it
    with pytest.raises(ConflictError) as raised:
        reassign(cast.manager, [lead], cast.rep, expected=seen)
    assert raised.value.fields["leads"] == [
        f"{lead} (lead {lead.id}) now belongs to rep2; it was with rep1 when you loaded the page."
    ]
    assert raised.value.status_code == 409


def test_one_conflict_moves_none_of_the_leads(cast, leads):
    expected = {leads.rep_owned.id: cast.rep.id, leads.teammate_owned.id: cast.rep.id}  # wrong for the second
    with pytest.raises(ConflictError):
        reassign(cast.manager, [leads.rep_owned, leads.teammate_owned], cast.teammate, expected=expected)
    leads.rep_owned.refresh_from_db()
    assert leads.rep_owned.owner == cast.rep
    assert not LeadHistory.objects.exists()


def test_a_lead_moved_to_another_team_since_is_out_of_the_managers_reach(cast, leads):
    lead = leads.rep_owned
    # The manager saw it; meanwhile an admin moved it to the other team. A 404, as for
    # any lead of another team: the answer gives no hint of where it went.
    reassign(cast.admin, [lead], cast.other_rep)
    with pytest.raises(Http404):
        reassign(cast.manager, [lead], cast.teammate, expected={lead.id: cast.rep.id})
    lead.refresh_from_db()
    assert lead.owner == cast.other_rep


@pytest.mark.django_db(transaction=True)
def test_two_managers_reassigning_the_same_lead_at_once_one_wins_the_other_gets_a_conflict(cast, leads):
    lead = leads.rep_owned
    second_manager = cast.admin  # both see the lead owned by rep1
    # Both move it within the manager's team, so whoever wins the lead stays in the
    # manager's reach: the loser meets the conflict, never a lead gone out of sight (404).
    newcomer = make_rep(team=cast.team, username="rep-new")
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def act(name, actor, to_rep):
        try:
            barrier.wait()
            leads_reassign(
                actor=actor,
                lead_ids=[lead.id],
                to_rep_id=to_rep.id,
                reason=f"{name} says so",
                expected_owners={lead.id: cast.rep.id},
                now=NOW,
            )
            outcomes[name] = "won"
        except ConflictError as exc:
            outcomes[name] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=act, args=("manager", cast.manager, cast.teammate)),
        threading.Thread(target=act, args=("admin", second_manager, newcomer)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert sorted(str(type(o).__name__) if o != "won" else "won" for o in outcomes.values()) == [
        "ConflictError",
        "won",
    ]
    winner = next(name for name, o in outcomes.items() if o == "won")
    lead.refresh_from_db()
    assert lead.owner == (cast.teammate if winner == "manager" else newcomer)
    assert LeadHistory.objects.filter(lead=lead).count() == 1


# --- Who may do it -------------------------------------------------------------------


def test_a_manager_cannot_touch_another_teams_lead(cast, leads):
    with pytest.raises(Http404):
        reassign(cast.manager, [leads.other_team], cast.rep)
    leads.other_team.refresh_from_db()
    assert leads.other_team.owner == cast.other_rep


def test_a_manager_cannot_hand_leads_to_another_teams_rep(cast, leads):
    with pytest.raises(Http404):
        reassign(cast.manager, [leads.rep_owned], cast.other_rep)


def test_a_manager_never_reaches_the_nurture_pool(cast, leads):
    with pytest.raises(Http404):
        reassign(cast.manager, [leads.pool], cast.rep, expected={leads.pool.id: None})


def test_an_admin_cannot_reassign_a_nurture_or_closed_lead(cast, leads):
    won = LeadFactory(status=Status.WON, owner=cast.rep, team=cast.team)
    with pytest.raises(ApplicationError) as raised:
        reassign(cast.admin, [won, leads.pool], cast.teammate)
    assert any("won and cannot be reassigned" in m for m in raised.value.fields["leads"])
    assert any("nurture and cannot be reassigned" in m for m in raised.value.fields["leads"])


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"reason": "  "}, "reason", "Say why"),
        ({"reason": "x" * 501}, "reason", "under 500"),
        ({"expected": {}}, "expected_owners", "Give the owner you saw"),
    ],
)
def test_bad_input_is_refused_with_a_message_on_the_field(cast, leads, kwargs, field, message):
    with pytest.raises(ApplicationError) as raised:
        reassign(cast.manager, [leads.rep_owned], cast.teammate, **kwargs)
    assert message in raised.value.fields[field][0]


def test_a_deactivated_rep_cannot_receive_leads(cast, leads):
    cast.teammate.is_active = False
    cast.teammate.save()
    with pytest.raises(ApplicationError) as raised:
        reassign(cast.manager, [leads.rep_owned], cast.teammate)
    assert "deactivated" in raised.value.fields["to_rep"][0]


# --- Pausing --------------------------------------------------------------------------


def test_a_manager_pauses_and_unpauses_their_rep(cast):
    assert rep_set_paused(actor=cast.manager, rep_id=cast.rep.id, paused=True).paused
    cast.rep.rep_profile.refresh_from_db()
    assert cast.rep.rep_profile.paused
    assert not rep_set_paused(actor=cast.manager, rep_id=cast.rep.id, paused=False).paused


def test_a_manager_cannot_pause_another_teams_rep(cast):
    with pytest.raises(Http404):
        rep_set_paused(actor=cast.manager, rep_id=cast.other_rep.id, paused=True)


def test_pausing_keeps_the_reps_current_leads(cast, leads):
    rep_set_paused(actor=cast.manager, rep_id=cast.rep.id, paused=True)
    leads.rep_owned.refresh_from_db()
    assert leads.rep_owned.owner == cast.rep


@pytest.mark.django_db(transaction=True)
def test_unpausing_routes_the_teams_waiting_leads_through_the_queue(cast, leads, celery_worker):
    rep_set_paused(actor=cast.manager, rep_id=cast.rep.id, paused=True)
    rep_set_paused(actor=cast.manager, rep_id=cast.teammate.id, paused=True)
    waiting = LeadFactory(status=Status.QUEUED, team=cast.team)
    rep_set_paused(actor=cast.manager, rep_id=cast.teammate.id, paused=False)
    assert celery_worker.wait_for(lambda: Lead.objects.get(id=waiting.id).owner_id == cast.teammate.id)
