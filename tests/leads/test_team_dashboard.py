"""The manager's team dashboard: loads, unassigned queue, overdue first contacts, actions."""

import datetime
import json

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Role
from leads.models import Lead, LeadHistory, Status
from tests.factories import LeadFactory, TeamFactory, UserFactory, make_rep

pytestmark = pytest.mark.django_db

URL = "/leads/team/"
NOW = datetime.datetime(2026, 11, 23, 15, 0, tzinfo=datetime.UTC)  # Monday 15:00 UTC


@pytest.fixture
def manager_client(client, cast):
    client.force_login(cast.manager)
    return client


def lead_ids_on(response, testid: str) -> set[int]:
    html = response.content.decode()
    ids = set()
    for chunk in html.split(f'data-testid="{testid}"')[1:]:
        section = chunk.split("</table>")[0]
        for part in section.split('data-lead-id="')[1:]:
            ids.add(int(part.split('"')[0]))
    return ids


def test_the_url_is_the_documented_one():
    assert reverse("leads:team_dashboard") == URL


def test_a_manager_sees_their_reps_loads_and_the_unassigned_queue(manager_client, cast, leads):
    LeadFactory(status=Status.WORKING, owner=cast.rep, team=cast.team, first_contact_at=NOW)
    cast.teammate.rep_profile.paused = True
    cast.teammate.rep_profile.save()
    with time_machine.travel(NOW, tick=False):
        response = manager_client.get(URL)
    assert response.status_code == 200
    panels = response.context["panels"]
    assert [p.team for p in panels] == [cast.team]
    reps = {r.username: r for r in panels[0].reps}
    assert (reps["rep1"].open_uncontacted, reps["rep1"].open_total, reps["rep1"].capacity) == (1, 2, 25)
    assert reps["rep2"].paused and reps["rep1"].working_now
    assert lead_ids_on(response, "unassigned-queue") == {leads.team_queued.id}
    html = response.content.decode()
    assert "Paused" in html and "Working now" in html
    assert f'action="{reverse("leads:rep_unpause", args=[cast.teammate.id])}"' in html
    assert "rep3" not in html  # another team's rep


def test_the_dashboard_never_shows_nurture_pool_leads(manager_client, cast, leads):
    # A nurture lead carrying stale routing fields must still stay hidden.
    Lead.objects.filter(id=leads.pool.id).update(team=cast.team, sla_due_at=NOW - datetime.timedelta(days=2))
    with time_machine.travel(NOW, tick=False):
        response = manager_client.get(URL)
    assert "pool@nurture.com" not in response.content.decode()
    assert leads.pool.id not in lead_ids_on(response, "unassigned-queue") | lead_ids_on(response, "overdue")


def test_an_admin_sees_every_team_and_unrouted_leads(client, cast, leads):
    unrouted = LeadFactory(status=Status.QUEUED, team=None, company="Lost Co")
    client.force_login(cast.admin)
    response = client.get(URL)
    assert {p.team for p in response.context["panels"]} == {cast.team, cast.other_team}
    assert [lead.id for lead in response.context["unrouted"]] == [unrouted.id]


def test_a_manager_does_not_see_unrouted_leads(manager_client, cast, leads):
    LeadFactory(status=Status.QUEUED, team=None, company="Lost Co")
    response = manager_client.get(URL)
    assert "Lost Co" not in response.content.decode()


@pytest.mark.parametrize(
    ("at", "overdue"),
    [
        (datetime.timedelta(hours=23, minutes=59), False),
        (datetime.timedelta(hours=24), False),  # due now is not yet overdue
        (datetime.timedelta(hours=24, minutes=1), True),
    ],
)
def test_a_first_contact_is_overdue_only_after_its_deadline(manager_client, cast, at, overdue):
    lead = LeadFactory(
        status=Status.ASSIGNED,
        owner=cast.rep,
        team=cast.team,
        assigned_at=NOW,
        sla_due_at=NOW + datetime.timedelta(hours=24),
    )
    with time_machine.travel(NOW + at, tick=False):
        response = manager_client.get(URL)
    assert (lead.id in lead_ids_on(response, "overdue")) is overdue


def test_a_contacted_lead_is_never_overdue(manager_client, cast):
    LeadFactory(status=Status.CONTACTED, owner=cast.rep, team=cast.team, sla_due_at=NOW, first_contact_at=NOW)
    with time_machine.travel(NOW + datetime.timedelta(days=3), tick=False):
        response = manager_client.get(URL)
    assert lead_ids_on(response, "overdue") == set()


def test_the_chart_gets_the_load_per_rep(manager_client, cast, leads):
    response = manager_client.get(URL)
    html = response.content.decode()
    assert "vendor/chartjs/chart.umd.min.js" in html
    charts = json.loads(html.split('id="team-charts" type="application/json">')[1].split("</script>")[0])
    chart = charts[str(cast.team.id)]
    assert chart["uncontacted"] == [1, 1] and chart["capacity"] == [25, 25]
    assert len(chart["labels"]) == 2


def test_the_page_makes_a_fixed_number_of_queries(client, cast, leads, django_assert_num_queries):
    client.force_login(cast.admin)
    client.get(URL)  # warm up the session
    # user (the session comes from the cache), teams, reps, loads, unassigned, overdue, unrouted;
    # free to cold-call: policies, one aggregate
    with django_assert_num_queries(9):
        client.get(URL)
    # Many more teams, reps and leads: the same number of queries.
    for t in range(4):
        team = TeamFactory(name=f"Extra {t}", manager=cast.manager)
        for r in range(3):
            rep = make_rep(team=team, username=f"extra{t}-{r}")
            for _ in range(2):
                LeadFactory(status=Status.ASSIGNED, owner=rep, team=team, sla_due_at=NOW, score=70)
        LeadFactory(status=Status.QUEUED, team=team, score=65)  # scores are joined, not fetched per row
    with django_assert_num_queries(9):
        client.get(URL)


def test_a_manager_page_makes_a_fixed_number_of_queries_with_a_rep_selected(
    manager_client, cast, leads, django_assert_num_queries
):
    manager_client.get(URL)
    with django_assert_num_queries(9):  # no unrouted list for managers; the rep's open leads instead
        response = manager_client.get(URL, {"rep": cast.rep.id})
    assert lead_ids_on(response, "rep-leads") == {leads.rep_owned.id}


def test_picking_another_teams_rep_shows_nothing_of_theirs(manager_client, cast, leads):
    response = manager_client.get(URL, {"rep": cast.other_rep.id})
    assert response.context["rep_leads"] is None
    assert lead_ids_on(response, "rep-leads") == set()


# --- Pause and unpause ------------------------------------------------------------


def test_the_pause_button_pauses_the_rep(manager_client, cast):
    response = manager_client.post(reverse("leads:rep_pause", args=[cast.rep.id]), follow=True)
    assert response.redirect_chain[-1][0] == URL
    assert "is paused" in response.content.decode()
    cast.rep.rep_profile.refresh_from_db()
    assert cast.rep.rep_profile.paused
    manager_client.post(reverse("leads:rep_unpause", args=[cast.rep.id]))
    cast.rep.rep_profile.refresh_from_db()
    assert not cast.rep.rep_profile.paused


def test_pausing_another_teams_rep_is_a_404(manager_client, cast):
    assert manager_client.post(reverse("leads:rep_pause", args=[cast.other_rep.id])).status_code == 404


def test_pause_needs_a_post(manager_client, cast):
    assert manager_client.get(reverse("leads:rep_pause", args=[cast.rep.id])).status_code == 405


# --- Bulk reassign form ----------------------------------------------------------


def reassign_post(client, leads_seen: dict, to_rep, reason="Rep on leave"):
    data = {"leads": [lead.id for lead in leads_seen], "to_rep": to_rep.id, "reason": reason}
    for lead, owner in leads_seen.items():
        data[f"owner_{lead.id}"] = "" if owner is None else owner.id
    return client.post(reverse("leads:team_reassign"), data, follow=True)


def test_the_bulk_reassign_form_moves_the_ticked_leads(manager_client, cast, leads):
    response = reassign_post(manager_client, {leads.rep_owned: cast.rep, leads.team_queued: None}, cast.teammate)
    assert response.status_code == 200
    assert "Reassigned 2 leads to" in response.content.decode()
    assert Lead.objects.filter(owner=cast.teammate).count() == 3
    assert set(LeadHistory.objects.values_list("note", flat=True)) == {"Rep on leave"}


def test_the_form_shows_a_clear_conflict_when_a_lead_moved_meanwhile(manager_client, cast, leads):
    seen = {leads.rep_owned: cast.rep}
    Lead.objects.filter(id=leads.rep_owned.id).update(owner=cast.teammate)
    response = reassign_post(manager_client, seen, cast.rep)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone changed these leads after you loaded them; nothing was reassigned." in html
    assert "now belongs to rep2" in html
    assert Lead.objects.get(id=leads.rep_owned.id).owner == cast.teammate


def test_the_form_asks_for_a_lead_and_a_reason(manager_client, cast):
    response = manager_client.post(reverse("leads:team_reassign"), {"to_rep": cast.rep.id, "reason": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Tick at least one lead to reassign." in html
    assert "This field is required." in html


def test_the_form_offers_only_the_managers_reps(manager_client, cast, leads):
    response = manager_client.get(URL)
    choices = dict(response.context["form"].fields["to_rep"].choices)
    assert set(choices) == {"", cast.rep.id, cast.teammate.id}
    response = reassign_post(manager_client, {leads.rep_owned: cast.rep}, cast.other_rep)
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_a_manager_without_a_team_gets_an_empty_dashboard(client):
    lonely = UserFactory(role=Role.MANAGER)
    client.force_login(lonely)
    response = client.get(URL)
    assert response.status_code == 200
    assert "You do not manage a team yet." in response.content.decode()
