"""Policy writes: the default's first save, a team's own copy, removal, and running clocks untouched."""

import datetime

import pytest

from accounts.models import FirstContactPolicy
from leadhandoff.api import ApplicationError
from leads.clock.services import clock_start
from leads.models import Status
from sla.policies import services
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.UTC)


def values(**changes) -> dict:
    return services.policy_values_of(FirstContactPolicy(window_minutes=600, warn_at_percent=[50])) | changes


def test_the_first_save_of_the_default_makes_its_row_and_later_saves_change_it(cast, settings):
    services.policy_save(actor=cast.admin, team=None, values=values())
    services.policy_save(actor=cast.admin, team=None, values=values(window_minutes=30))
    assert list(FirstContactPolicy.objects.values_list("team", "window_minutes")) == [(None, 30)]


def test_a_teams_own_policy_is_created_once_as_a_copy_of_the_default(cast):
    services.policy_save(actor=cast.admin, team=None, values=values(country="us"))
    first = services.team_policy_create(actor=cast.manager, team=cast.team)
    again = services.team_policy_create(actor=cast.manager, team=cast.team)
    assert first.pk == again.pk
    assert (first.window_minutes, first.country, first.updated_by) == (600, "US", cast.manager)


def test_removing_a_teams_policy_leaves_its_running_clocks_as_they_were(cast):
    services.policy_save(actor=cast.manager, team=cast.team, values=values(window_minutes=60))
    lead = LeadFactory(status=Status.ASSIGNED, owner=cast.rep, team=cast.team)
    clock = clock_start(lead_id=lead.id, rep_id=cast.rep.id, team_id=cast.team.id, now=NOW)
    assert services.team_policy_remove(actor=cast.manager, team=cast.team) is True
    clock.refresh_from_db()
    assert (clock.window_minutes, clock.due_at) == (60, NOW + datetime.timedelta(hours=1))
    assert services.team_policy_remove(actor=cast.manager, team=cast.team) is False


def test_every_problem_is_reported_at_once_on_its_field():
    with pytest.raises(ApplicationError) as refused:
        services.policy_values_clean(values(window_minutes=0, warn_at_percent=[100, 90], free_min_compliance=-1))
    fields = refused.value.fields
    assert set(fields) == {"window_minutes", "warn_at_percent", "free_min_compliance"}
    assert len(fields["warn_at_percent"]) == 2  # at the deadline, and out of order


def test_a_region_is_checked_against_its_country():
    assert services.policy_values_clean(values(country="us", subdivision="ny"))["subdivision"] == "NY"
    with pytest.raises(ApplicationError) as refused:
        services.policy_values_clean(values(country="FR", subdivision="NY"))
    assert "“NY” is not a subdivision of FR" in refused.value.fields["subdivision"][0]


def test_warnings_parse_from_what_people_type():
    assert services.warn_at_percent_parse("50, 90") == [50, 90]
    assert services.warn_at_percent_parse("50% 75%; 90") == [50, 75, 90]
    assert services.warn_at_percent_parse("") == []
    with pytest.raises(ApplicationError):
        services.warn_at_percent_parse("50, 9O")


def test_the_country_list_names_each_country_once():
    choices = dict(services.holiday_country_choices())
    assert choices["US"] == "United States (US)" and choices["DE"] == "Germany (DE)"
    assert "UK" not in choices and "GB" in choices  # an alias is accepted, not listed twice
    assert services.policy_values_clean(values(country="UK"))["country"] == "UK"
