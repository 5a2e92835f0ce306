"""Routing rules managed in the browser: list, create, edit, delete, move, enable/disable."""

import pytest
from django.urls import reverse

from leads.models import AssignmentRule
from tests.factories import AssignmentRuleFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, cast):
    client.force_login(cast.manager)
    return client


def form_data(team, **overrides) -> dict:
    data = {
        "name": "US enterprise",
        "team": team.id,
        "strategy": "weighted",
        "enabled": "on",
        "country": "US, CA",
        "region": "",
        "industry": "Software",
        "source": "",
        "company_size_min": "500",
        "company_size_max": "",
        "score_min": "60",
        "score_max": "100",
    }
    return data | overrides


def order() -> list[str]:
    return list(AssignmentRule.objects.order_by("position", "id").values_list("name", flat=True))


def test_the_list_shows_rules_in_order_with_their_conditions(manager_client, cast):
    AssignmentRuleFactory(name="Second", team=cast.team, position=2, conditions={"source": ["webinar"]})
    AssignmentRuleFactory(name="First", team=cast.other_team, position=1, conditions={"country": ["DE"]})
    fallback = TeamFactory(name="Overflow", is_fallback=True)
    response = manager_client.get(reverse("leads:rule_list"))
    html = response.content.decode()
    assert html.index("First") < html.index("Second")
    assert "in DE" in html and "source webinar" in html
    assert f"<strong>{fallback.name}</strong>" in html
    # Another team's rule is listed (order matters to everyone) but not editable by this manager.
    first = AssignmentRule.objects.get(name="First")
    assert reverse("leads:rule_edit", args=[first.id]) not in html
    assert reverse("leads:rule_edit", args=[AssignmentRule.objects.get(name="Second").id]) in html


def test_creating_a_rule_stores_clean_conditions_at_the_end_of_the_list(manager_client, cast):
    AssignmentRuleFactory(name="Existing", team=cast.team, position=7)
    response = manager_client.post(reverse("leads:rule_create"), form_data(cast.team))
    assert response.status_code == 302
    rule = AssignmentRule.objects.get(name="US enterprise")
    assert rule.position == 8 and rule.team == cast.team and rule.strategy == "weighted"
    assert rule.conditions == {
        "country": ["US", "CA"],
        "industry": ["Software"],
        "company_size_min": 500,
        "score_min": 60,
        "score_max": 100,
    }
    assert order() == ["Existing", "US enterprise"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"company_size_min": "500", "company_size_max": "50"}, "Company size up to (50) is below company size from"),
        ({"score_min": "90", "score_max": "10"}, "Score up to (10) is below score from (90)"),
        ({"company_size_min": "-5"}, "greater than or equal to 0"),
        ({"score_min": "high"}, "Enter a whole number."),
        ({"name": ""}, "This field is required."),
    ],
)
def test_invalid_rules_are_refused_with_clear_messages(manager_client, cast, overrides, message):
    response = manager_client.post(reverse("leads:rule_create"), form_data(cast.team, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not AssignmentRule.objects.exists()


def test_a_manager_cannot_route_to_another_team(manager_client, cast):
    response = manager_client.post(reverse("leads:rule_create"), form_data(cast.other_team))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not AssignmentRule.objects.exists()


def test_an_admin_may_route_to_any_team(client, cast):
    client.force_login(cast.admin)
    response = client.post(reverse("leads:rule_create"), form_data(cast.other_team))
    assert response.status_code == 302
    assert AssignmentRule.objects.get().team == cast.other_team


def test_editing_shows_the_conditions_as_comma_lists_and_saves_changes(manager_client, cast):
    rule = AssignmentRuleFactory(name="EU", team=cast.team, conditions={"country": ["DE", "FR"], "score_min": 50})
    url = reverse("leads:rule_edit", args=[rule.id])
    form = manager_client.get(url).context["form"]
    assert form.initial["country"] == "DE, FR" and form.initial["score_min"] == 50
    response = manager_client.post(url, form_data(cast.team, name="EU big", country="DE", company_size_min="1000"))
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.name == "EU big" and rule.conditions["country"] == ["DE"]
    assert rule.conditions["company_size_min"] == 1000


def test_another_teams_rule_is_a_404_for_a_manager(manager_client, cast):
    rule = AssignmentRuleFactory(team=cast.other_team)
    for name in ("leads:rule_edit", "leads:rule_delete"):
        assert manager_client.get(reverse(name, args=[rule.id])).status_code == 404
    for name in ("leads:rule_move", "leads:rule_toggle", "leads:rule_delete"):
        assert manager_client.post(reverse(name, args=[rule.id]), {"direction": "up"}).status_code == 404
    assert AssignmentRule.objects.filter(id=rule.id, enabled=True).exists()


def test_moving_a_rule_up_and_down_changes_which_matches_first(manager_client, cast):
    a, b, c = (AssignmentRuleFactory(name=n, team=cast.team, position=p) for n, p in (("A", 0), ("B", 5), ("C", 9)))
    manager_client.post(reverse("leads:rule_move", args=[c.id]), {"direction": "up"})
    assert order() == ["A", "C", "B"]
    manager_client.post(reverse("leads:rule_move", args=[a.id]), {"direction": "down"})
    assert order() == ["C", "A", "B"]
    manager_client.post(reverse("leads:rule_move", args=[c.id]), {"direction": "up"})  # already first
    assert order() == ["C", "A", "B"]
    assert list(AssignmentRule.objects.order_by("position").values_list("position", flat=True)) == [0, 1, 2]


def test_a_bad_direction_is_reported(manager_client, cast):
    rule = AssignmentRuleFactory(team=cast.team)
    response = manager_client.post(reverse("leads:rule_move", args=[rule.id]), {"direction": "sideways"}, follow=True)
    assert "Move a rule up or down." in response.content.decode()


def test_enable_and_disable(manager_client, cast):
    rule = AssignmentRuleFactory(team=cast.team)
    manager_client.post(reverse("leads:rule_toggle", args=[rule.id]))
    rule.refresh_from_db()
    assert not rule.enabled
    manager_client.post(reverse("leads:rule_toggle", args=[rule.id]))
    rule.refresh_from_db()
    assert rule.enabled


def test_delete_asks_first_then_deletes(manager_client, cast):
    rule = AssignmentRuleFactory(name="Doomed", team=cast.team)
    url = reverse("leads:rule_delete", args=[rule.id])
    assert "Delete rule “Doomed”?" in manager_client.get(url).content.decode()
    assert manager_client.post(url).status_code == 302
    assert not AssignmentRule.objects.exists()
