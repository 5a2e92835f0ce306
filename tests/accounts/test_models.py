import datetime

import pytest
from django.db import IntegrityError

from accounts.models import Role
from accounts.services import user_create
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


def test_a_rep_profile_knows_its_working_hours_in_its_own_timezone():
    team = TeamFactory()
    rep = user_create(
        username="tokyo",
        password="x",
        role=Role.REP,
        team=team,
        timezone="Asia/Tokyo",
        working_hours=[{"day": day, "start": "09:00", "end": "18:00"} for day in range(5)],
    )
    profile = rep.rep_profile
    monday_10_tokyo = datetime.datetime(2026, 11, 23, 1, 0, tzinfo=datetime.UTC)  # 10:00 in Tokyo
    monday_20_tokyo = datetime.datetime(2026, 11, 23, 11, 0, tzinfo=datetime.UTC)  # 20:00 in Tokyo
    saturday = datetime.datetime(2026, 11, 21, 1, 0, tzinfo=datetime.UTC)
    assert profile.is_working_at(monday_10_tokyo)
    assert not profile.is_working_at(monday_20_tokyo)
    assert not profile.is_working_at(saturday)


def test_a_rep_needs_a_team():
    with pytest.raises(ValueError, match="team"):
        user_create(username="lonely", password="x", role=Role.REP)


def test_working_hours_may_have_a_lunch_break():
    team = TeamFactory()
    rep = user_create(
        username="lunch",
        password="x",
        role=Role.REP,
        team=team,
        working_hours=[{"day": 0, "start": "09:00", "end": "12:00"}, {"day": 0, "start": "13:00", "end": "17:00"}],
    )
    monday = datetime.datetime(2026, 11, 23, tzinfo=datetime.UTC)
    assert rep.rep_profile.is_working_at(monday.replace(hour=11, minute=59))
    assert not rep.rep_profile.is_working_at(monday.replace(hour=12, minute=30))
    assert rep.rep_profile.is_working_at(monday.replace(hour=13))
    assert not rep.rep_profile.is_working_at(monday.replace(hour=17))


def test_there_is_at_most_one_fallback_team():
    TeamFactory(is_fallback=True)
    with pytest.raises(IntegrityError):
        TeamFactory(is_fallback=True)
