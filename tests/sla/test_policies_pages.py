"""Policy pages: the default (admins), a team's policy and closed dates (its manager, admins)."""

import datetime

import pytest
from django.urls import reverse

from accounts.models import ClosedDate, FirstContactPolicy
from leads.clock.services import clock_start
from leads.models import Status
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def form(**overrides) -> dict:
    data = {
        "window_hours": "8",
        "calendar": "business",
        "country": "DE",
        "subdivision": "BY",
        "stop_on": "conversation",
        "warnings": "50, 90",
        "reassign_on_breach": "on",
        "max_reassignments": "2",
        "escalate_after_hours": "4",
        "free_days": "30",
        "free_min_compliance": "90",
    }
    return {k: v for k, v in (data | overrides).items() if v is not None}


@pytest.fixture
def as_manager(client, cast):
    client.force_login(cast.manager)
    return client


@pytest.fixture
def as_admin(client, cast):
    client.force_login(cast.admin)
    return client


def test_a_team_without_its_own_policy_shows_it_uses_the_default(as_manager, cast):
    html = as_manager.get(reverse("policies:team", args=[cast.team.id])).content.decode()
    assert "uses the default policy" in html
    assert "24 hours" in html  # FIRST_CONTACT_SLA_HOURS seeds the default window
    assert reverse("policies:team_own", args=[cast.team.id]) in html


def test_a_team_gets_its_own_policy_copied_from_the_default_and_can_return_to_it(as_manager, cast):
    FirstContactPolicy.objects.create(team=None, window_minutes=90, warn_at_percent=[75], country="FR")
    response = as_manager.post(reverse("policies:team_own", args=[cast.team.id]))
    assert response.status_code == 302
    own = FirstContactPolicy.objects.get(team=cast.team)
    assert (own.window_minutes, own.warn_at_percent, own.country, own.updated_by) == (90, [75], "FR", cast.manager)
    page = as_manager.get(reverse("policies:team", args=[cast.team.id])).content.decode()
    assert "Changes apply to clocks started after you save." in page
    as_manager.post(reverse("policies:team_remove", args=[cast.team.id]))
    assert not FirstContactPolicy.objects.filter(team=cast.team).exists()
    assert FirstContactPolicy.objects.filter(team=None).exists()


def test_the_manager_saves_the_team_policy_in_users_words(as_manager, cast):
    response = as_manager.post(reverse("policies:team", args=[cast.team.id]), form(window_hours="1.5"))
    assert response.status_code == 302
    policy = FirstContactPolicy.objects.get(team=cast.team)
    assert policy.window_minutes == 90
    assert policy.calendar == "business" and (policy.country, policy.subdivision) == ("DE", "BY")
    assert policy.stop_on == "conversation" and policy.warn_at_percent == [50, 90]
    assert policy.reassign_on_breach and policy.max_reassignments == 2
    assert policy.escalate_after_minutes == 240 and policy.updated_by == cast.manager


def test_no_escalation_when_left_blank(as_manager, cast):
    as_manager.post(reverse("policies:team", args=[cast.team.id]), form(escalate_after_hours=""))
    assert FirstContactPolicy.objects.get(team=cast.team).escalate_after_minutes is None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"window_hours": "0"}, "window_hours", "The first-contact window must be longer than zero."),
        ({"window_hours": "-2"}, "window_hours", "The first-contact window must be longer than zero."),
        ({"window_hours": "1.01"}, "window_hours", "Use whole minutes"),
        ({"warnings": "50, 100"}, "warnings", "A warning must come before the deadline: below 100%"),
        ({"warnings": "50, 120"}, "warnings", "A warning must come before the deadline: below 100%"),
        ({"warnings": "90, 50"}, "warnings", "List the warnings in ascending order, each once"),
        ({"warnings": "50, 50"}, "warnings", "List the warnings in ascending order, each once"),
        ({"warnings": "half"}, "warnings", "“half” is not a percent"),
        ({"country": "ZZ"}, "country", "Select a valid choice"),
        ({"subdivision": "XX"}, "subdivision", "“XX” is not a subdivision of DE"),
        ({"max_reassignments": "-1"}, "max_reassignments", "The number of reassignments cannot be negative."),
        ({"max_reassignments": "0"}, "max_reassignments", "To reassign on breach, allow at least one reassignment."),
        ({"escalate_after_hours": "-1"}, "escalate_after_hours", "Escalation needs a delay above zero"),
        ({"free_days": "-5"}, "free_days", "Look back at least one day."),
        ({"free_min_compliance": "101"}, "free_min_compliance", "The minimum compliance is a percent from 0 to 100."),
        ({"country": "", "subdivision": "BY"}, "subdivision", "Choose a country before a subdivision."),
    ],
)
def test_bad_input_is_refused_with_a_message_on_its_field(as_manager, cast, overrides, field, message):
    response = as_manager.post(reverse("policies:team", args=[cast.team.id]), form(**overrides))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in e for e in errors.get(field, [])), errors
    assert not FirstContactPolicy.objects.filter(team=cast.team).exists()


def test_a_manager_cannot_reach_another_teams_policy(as_manager, cast):
    url = reverse("policies:team", args=[cast.other_team.id])
    assert as_manager.get(url).status_code == 404
    assert as_manager.post(url, form()).status_code == 404
    assert as_manager.post(reverse("policies:team_own", args=[cast.other_team.id])).status_code == 404
    assert (
        as_manager.post(
            reverse("policies:closed_date_add", args=[cast.other_team.id]), {"date": "2026-12-24"}
        ).status_code
        == 404
    )
    assert not FirstContactPolicy.objects.filter(team=cast.other_team).exists()
    assert not ClosedDate.objects.exists()


def test_the_list_shows_the_default_and_only_the_managers_teams(as_manager, cast):
    html = as_manager.get(reverse("policies:list")).content.decode()
    assert "Default policy" in html and "Uses the default" in html
    assert reverse("policies:team", args=[cast.team.id]) in html
    assert reverse("policies:team", args=[cast.other_team.id]) not in html
    assert reverse("policies:default") not in html  # managers read the default, admins edit it


def test_only_admins_edit_the_default(as_manager, as_admin, cast, client):
    client.force_login(cast.manager)
    assert client.post(reverse("policies:default"), form()).status_code == 403
    client.force_login(cast.admin)
    response = client.post(reverse("policies:default"), form(window_hours="48", subdivision=""))
    assert response.status_code == 302
    default = FirstContactPolicy.objects.get(team=None)
    assert default.window_minutes == 48 * 60 and default.updated_by == cast.admin
    html = client.get(reverse("policies:list")).content.decode()
    assert reverse("policies:team", args=[cast.other_team.id]) in html  # admins see every team


def test_closed_dates_are_added_and_removed_on_the_team_page(as_manager, cast):
    url = reverse("policies:closed_date_add", args=[cast.team.id])
    assert as_manager.post(url, {"date": "2026-12-24", "label": "Christmas Eve"}).status_code == 302
    closed = ClosedDate.objects.get(team=cast.team)
    assert (closed.date, closed.label) == (datetime.date(2026, 12, 24), "Christmas Eve")
    again = as_manager.post(url, {"date": "2026-12-24"})
    assert again.status_code == 400
    assert "24 December 2026 is already a closed date of East." in again.context["closed_form"].errors["date"]
    page = as_manager.get(reverse("policies:team", args=[cast.team.id])).content.decode()
    assert "Christmas Eve" in page
    remove = reverse("policies:closed_date_remove", args=[cast.team.id, closed.id])
    assert as_manager.post(remove).status_code == 302
    assert not ClosedDate.objects.exists()


def test_a_manager_cannot_remove_another_teams_closed_date(as_manager, cast):
    closed = ClosedDate.objects.create(team=cast.other_team, date=datetime.date(2026, 12, 24))
    # Through their own team's URL too: the date must belong to the team in the URL.
    for team in (cast.other_team, cast.team):
        url = reverse("policies:closed_date_remove", args=[team.id, closed.id])
        assert as_manager.post(url).status_code == 404
    assert ClosedDate.objects.filter(pk=closed.pk).exists()


def test_a_change_applies_to_clocks_started_after_it(as_manager, cast):
    now = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)
    before = LeadFactory(status=Status.ASSIGNED, owner=cast.rep, team=cast.team)
    after = LeadFactory(status=Status.ASSIGNED, owner=cast.rep, team=cast.team)
    first = clock_start(lead_id=before.id, rep_id=cast.rep.id, team_id=cast.team.id, now=now)
    assert first.due_at == now + datetime.timedelta(hours=24)
    response = as_manager.post(
        reverse("policies:team", args=[cast.team.id]),
        form(window_hours="2", calendar="always", country="", subdivision=""),
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.due_at == now + datetime.timedelta(hours=24)  # the running clock keeps its deadline
    second = clock_start(lead_id=after.id, rep_id=cast.rep.id, team_id=cast.team.id, now=now)
    assert second.due_at == now + datetime.timedelta(hours=2)


def test_the_team_dashboard_links_to_the_team_policy_and_each_reps_hours(as_manager, cast):
    html = as_manager.get(reverse("leads:team_dashboard")).content.decode()
    assert reverse("policies:team", args=[cast.team.id]) in html
    assert reverse("policies:rep_schedule", args=[cast.rep.id]) in html


def test_managers_find_policies_in_the_navigation_and_everyone_their_time_zone(client, cast):
    client.force_login(cast.manager)
    page = client.get(reverse("leads:team_dashboard")).content.decode()
    assert f'href="{reverse("policies:list")}"' in page and f'href="{reverse("my_schedule")}"' in page
    client.force_login(cast.rep)
    page = client.get(reverse("leads:my_queue")).content.decode()
    assert f'href="{reverse("policies:list")}"' not in page
    assert "Working hours and time zone" in page
