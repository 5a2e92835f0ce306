"""Time zone and working hours: every user their own time zone, a rep their weekly windows,
a manager their team's reps'; validated by accounts.business_time.working_hours_clean."""

import pytest
from django.urls import reverse

from accounts.forms import day_windows_parse
from accounts.models import RepProfile, User

pytestmark = pytest.mark.django_db

WEEK = {
    "timezone": "America/New_York",
    "day_0": "09:00-12:30, 13:30-17:00",
    "day_1": "09:00 - 17:00",
    "day_4": "08:00-12:00",
}


def hours(user) -> list[dict]:
    return RepProfile.objects.get(user=user).working_hours


def test_a_rep_sets_a_week_with_a_lunch_break(client, cast):
    client.force_login(cast.rep)
    page = client.get(reverse("my_schedule"))
    assert page.status_code == 200 and b"09:00-17:00" in page.content  # the default week, one line a day
    response = client.post(reverse("my_schedule"), WEEK)
    assert response.status_code == 302
    assert User.objects.get(pk=cast.rep.pk).timezone == "America/New_York"
    assert hours(cast.rep) == [
        {"day": 0, "start": "09:00", "end": "12:30"},
        {"day": 0, "start": "13:30", "end": "17:00"},
        {"day": 1, "start": "09:00", "end": "17:00"},
        {"day": 4, "start": "08:00", "end": "12:00"},
    ]
    again = client.get(reverse("my_schedule")).content.decode()
    assert 'value="09:00-12:30, 13:30-17:00"' in again


@pytest.mark.parametrize(
    ("day_0", "message"),
    [
        ("09:00-13:00, 12:00-17:00", "Monday 12:00–17:00 overlaps 09:00–13:00."),
        ("17:00-09:00", "Monday (window 1): end 09:00 must be after start 17:00."),
        ("all day", "“all day” is not a window like 09:00-17:00."),
        ("9 to five", "Monday (window 1): end 'five' is not a time like 17:00 (or 24:00)."),
        ("09:00-25:00", "Monday (window 1): end '25:00' is not a time like 17:00 (or 24:00)."),
    ],
)
def test_bad_windows_are_refused_on_their_day(client, cast, day_0, message):
    client.force_login(cast.rep)
    before = hours(cast.rep)
    response = client.post(reverse("my_schedule"), WEEK | {"day_0": day_0})
    assert response.status_code == 400
    assert message in response.context["form"].errors["day_0"]
    assert hours(cast.rep) == before
    assert User.objects.get(pk=cast.rep.pk).timezone == "UTC"


def test_a_week_without_any_window_is_refused(client, cast):
    client.force_login(cast.rep)
    response = client.post(reverse("my_schedule"), {"timezone": "UTC"})
    assert response.status_code == 400
    assert "Give at least one working window" in response.content.decode()


def test_a_window_to_midnight_is_kept(client, cast):
    client.force_login(cast.rep)
    client.post(reverse("my_schedule"), {"timezone": "Asia/Tokyo", "day_6": "18:00-24:00"})
    assert hours(cast.rep) == [{"day": 6, "start": "18:00", "end": "24:00"}]


@pytest.mark.parametrize("role", ["marketer", "manager", "admin"])
def test_every_role_sets_its_own_time_zone_without_working_hours(client, cast, role):
    user = getattr(cast, role)
    client.force_login(user)
    page = client.get(reverse("my_schedule")).content.decode()
    assert "Working hours" not in page and 'name="day_0"' not in page
    assert client.post(reverse("my_schedule"), {"timezone": "Europe/Berlin"}).status_code == 302
    assert User.objects.get(pk=user.pk).timezone == "Europe/Berlin"


def test_an_unknown_time_zone_is_refused(client, cast):
    client.force_login(cast.marketer)
    response = client.post(reverse("my_schedule"), {"timezone": "Mars/Olympus"})
    assert response.status_code == 400
    assert "timezone" in response.context["form"].errors


def test_the_manager_edits_their_reps_hours_but_not_another_teams(client, cast):
    client.force_login(cast.manager)
    url = reverse("policies:rep_schedule", args=[cast.rep.id])
    assert client.post(url, WEEK).status_code == 302
    assert hours(cast.rep)[0] == {"day": 0, "start": "09:00", "end": "12:30"}
    assert User.objects.get(pk=cast.rep.pk).timezone == "America/New_York"
    other = reverse("policies:rep_schedule", args=[cast.other_rep.id])
    assert client.get(other).status_code == 404
    assert client.post(other, WEEK).status_code == 404
    assert User.objects.get(pk=cast.other_rep.pk).timezone == "UTC"
    team_page = client.get(reverse("policies:team", args=[cast.team.id])).content.decode()
    assert url in team_page


def test_the_rep_page_refuses_overlaps_for_the_manager_too(client, cast):
    client.force_login(cast.manager)
    response = client.post(
        reverse("policies:rep_schedule", args=[cast.rep.id]), WEEK | {"day_2": "08:00-12:00, 11:00-13:00"}
    )
    assert response.status_code == 400
    assert "Wednesday 11:00–13:00 overlaps 08:00–12:00." in response.context["form"].errors["day_2"]


def test_day_lines_accept_dashes_and_words():
    assert day_windows_parse(3, "9:00–12:00; 13:00 to 17:00") == [
        {"day": 3, "start": "9:00", "end": "12:00"},
        {"day": 3, "start": "13:00", "end": "17:00"},
    ]
    assert day_windows_parse(3, " ") == []


# --- API ---------------------------------------------------------------------------------


def test_the_api_reads_and_puts_ones_own_schedule(api, cast):
    client = api.as_user(cast.rep)
    assert client.get("/api/v1/me/working-hours/").json()["working_hours"][0] == {
        "day": 0,
        "start": "09:00",
        "end": "17:00",
    }
    body = {
        "timezone": "Europe/Berlin",
        "working_hours": [{"day": 2, "start": "13:00", "end": "17:00"}, {"day": 2, "start": "08:00", "end": "12:00"}],
    }
    response = client.put("/api/v1/me/working-hours/", body, format="json")
    assert response.status_code == 200
    assert response.json()["working_hours"] == [
        {"day": 2, "start": "08:00", "end": "12:00"},
        {"day": 2, "start": "13:00", "end": "17:00"},
    ]
    assert User.objects.get(pk=cast.rep.pk).timezone == "Europe/Berlin"


def test_the_api_refuses_overlaps_and_unknown_zones_with_field_messages(api, cast):
    body = {
        "timezone": "Nowhere/City",
        "working_hours": [{"day": 0, "start": "09:00", "end": "13:00"}, {"day": 0, "start": "12:00", "end": "17:00"}],
    }
    response = api.as_user(cast.rep).put("/api/v1/me/working-hours/", body, format="json")
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert fields["working_hours"] == ["Monday 12:00–17:00 overlaps 09:00–13:00."]
    assert "“Nowhere/City” is not a time zone" in fields["timezone"][0]
    assert User.objects.get(pk=cast.rep.pk).timezone == "UTC"


def test_non_reps_have_no_working_hours_in_the_api(api, cast):
    client = api.as_user(cast.marketer)
    assert client.get("/api/v1/me/working-hours/").json() == {"timezone": "UTC", "working_hours": None}
    refused = client.put(
        "/api/v1/me/working-hours/",
        {"timezone": "UTC", "working_hours": [{"day": 0, "start": "09:00", "end": "17:00"}]},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["fields"]["working_hours"] == ["Only sales reps have working hours."]


def test_the_manager_puts_a_reps_schedule_through_the_api_but_not_another_teams(api, cast):
    client = api.as_user(cast.manager)
    body = {"timezone": "Asia/Tokyo", "working_hours": [{"day": 5, "start": "10:00", "end": "14:00"}]}
    assert client.put(f"/api/v1/reps/{cast.rep.id}/working-hours/", body, format="json").status_code == 200
    assert hours(cast.rep) == [{"day": 5, "start": "10:00", "end": "14:00"}]
    assert client.put(f"/api/v1/reps/{cast.other_rep.id}/working-hours/", body, format="json").status_code == 404
    assert api.as_user(cast.rep).get(f"/api/v1/reps/{cast.teammate.id}/working-hours/").status_code == 403
