"""First-contact policies, closed dates and working hours (issue 10): pages and APIs.

Managers (their own team, cast.team) and admins reach a team's policy, closed
dates and reps' hours; only admins change the default; reps and marketing are
refused by role. Every user edits their own time zone (reps their hours too).
A lead's clocks go through the lead brief's door.
"""

from accounts.models import ClosedDate, FirstContactPolicy, User

from . import Route

ANON = 302
API_ANON = 401
NOT_MANAGERS = {"marketer": 403, "rep": 403, "other_rep": 403}
EVERYONE = ("marketer", "rep", "other_rep", "manager", "admin")

POLICY_FORM = {
    "window_hours": "2",
    "calendar": "business",
    "country": "US",
    "subdivision": "",
    "stop_on": "attempt",
    "warnings": "50, 90",
    "max_reassignments": "2",
    "escalate_after_hours": "4",
    "free_days": "30",
    "free_min_compliance": "90",
}
POLICY_JSON = {
    "window_minutes": 120,
    "calendar": "business",
    "country": "US",
    "subdivision": "",
    "stop_on": "attempt",
    "warn_at_percent": [50, 90],
    "reassign_on_breach": False,
    "max_reassignments": 2,
    "escalate_after_minutes": 240,
    "free_days": 30,
    "free_min_compliance": 90,
}
HOURS_FORM = {"timezone": "Asia/Tokyo", "day_0": "08:00-12:00, 13:00-17:00", "day_2": "09:00-17:00"}
HOURS_JSON = {"timezone": "Asia/Tokyo", "working_hours": [{"day": 0, "start": "08:00", "end": "12:00"}]}


def _page(ok: int) -> dict:
    return {"anonymous": ANON, **NOT_MANAGERS, "manager": ok, "admin": ok}


def _api(ok: int) -> dict:
    return {"anonymous": API_ANON, **NOT_MANAGERS, "manager": ok, "admin": ok}


def _admin_page(ok: int) -> dict:
    return {**_page(ok), "manager": 403}


def _admin_api(ok: int) -> dict:
    return {**_api(ok), "manager": 403}


def _team(leads) -> dict:
    return {"team_id": leads.rep_owned.team_id}


def _team_with_own(leads) -> dict:
    FirstContactPolicy.objects.create(team_id=leads.rep_owned.team_id, window_minutes=60)
    return _team(leads)


def _closed_date(leads) -> dict:
    closed = ClosedDate.objects.create(team_id=leads.rep_owned.team_id, date="2026-12-24", label="Eve")
    return {**_team(leads), "closed_date_id": closed.id}


def _rep(leads) -> dict:
    return {"rep_id": leads.rep_owned.owner_id}


def default_saved(leads, kwargs, user):
    assert FirstContactPolicy.objects.filter(team__isnull=True, window_minutes=120).exists()


def team_policy_saved(leads, kwargs, user):
    assert FirstContactPolicy.objects.filter(team_id=kwargs["team_id"], window_minutes=120).exists()


def team_has_own(leads, kwargs, user):
    assert FirstContactPolicy.objects.filter(team_id=kwargs["team_id"]).exists()


def team_uses_default(leads, kwargs, user):
    assert not FirstContactPolicy.objects.filter(team_id=kwargs["team_id"]).exists()


def closed_date_added(leads, kwargs, user):
    assert ClosedDate.objects.filter(team_id=kwargs["team_id"], date="2026-12-25").exists()


def closed_date_removed(leads, kwargs, user):
    assert not ClosedDate.objects.filter(pk=kwargs["closed_date_id"]).exists()


def rep_in_tokyo(leads, kwargs, user):
    assert User.objects.get(pk=kwargs["rep_id"]).timezone == "Asia/Tokyo"


def own_timezone_tokyo(leads, kwargs, user):
    assert user is not None and User.objects.get(pk=user.pk).timezone == "Asia/Tokyo"


ROUTES = [
    Route("policies:list", _page(200)),
    Route("policies:default", _admin_page(200)),
    Route("policies:default", _admin_page(302), method="post", data=POLICY_FORM, effect=default_saved),
    Route("policies:team", _page(200), kwargs=_team),
    Route("policies:team", _page(302), method="post", kwargs=_team, data=POLICY_FORM, effect=team_policy_saved),
    Route("policies:team_own", _page(302), method="post", kwargs=_team, effect=team_has_own),
    Route("policies:team_remove", _page(302), method="post", kwargs=_team_with_own, effect=team_uses_default),
    Route(
        "policies:closed_date_add",
        _page(302),
        method="post",
        kwargs=_team,
        data={"date": "2026-12-25", "label": "Christmas"},
        effect=closed_date_added,
    ),
    Route("policies:closed_date_remove", _page(302), method="post", kwargs=_closed_date, effect=closed_date_removed),
    Route("policies:rep_schedule", _page(200), kwargs=_rep),
    Route("policies:rep_schedule", _page(302), method="post", kwargs=_rep, data=HOURS_FORM, effect=rep_in_tokyo),
    Route("my_schedule", {"anonymous": ANON, **dict.fromkeys(EVERYONE, 200)}),
    Route(
        "my_schedule",
        {"anonymous": ANON, **dict.fromkeys(EVERYONE, 302)},
        method="post",
        data=HOURS_FORM,
        effect=own_timezone_tokyo,
    ),
    Route("api-policies", _api(200), api=True),
    Route("api-policy-default", _api(200), api=True),
    Route("api-policy-default", _admin_api(200), method="put", api=True, data=POLICY_JSON, effect=default_saved),
    Route("api-team-policy", _api(200), api=True, kwargs=_team),
    Route(
        "api-team-policy", _api(200), method="put", api=True, kwargs=_team, data=POLICY_JSON, effect=team_policy_saved
    ),
    Route("api-team-policy", _api(204), method="delete", api=True, kwargs=_team_with_own, effect=team_uses_default),
    Route("api-closed-dates", _api(200), api=True, kwargs=_team),
    Route(
        "api-closed-dates",
        _api(201),
        method="post",
        api=True,
        kwargs=_team,
        data={"date": "2026-12-25", "label": "Christmas"},
        effect=closed_date_added,
    ),
    Route("api-closed-date", _api(204), method="delete", api=True, kwargs=_closed_date, effect=closed_date_removed),
    Route("api-rep-schedule", _api(200), api=True, kwargs=_rep),
    Route("api-rep-schedule", _api(200), method="put", api=True, kwargs=_rep, data=HOURS_JSON, effect=rep_in_tokyo),
    Route("api-my-schedule", {"anonymous": API_ANON, **dict.fromkeys(EVERYONE, 200)}, api=True),
    Route(
        "api-my-schedule",
        {"anonymous": API_ANON, **dict.fromkeys(EVERYONE, 200)},
        method="put",
        api=True,
        data={"timezone": "Asia/Tokyo"},  # working hours left out: unchanged (non-reps have none)
        effect=own_timezone_tokyo,
    ),
    # The brief's door: the rep's own lead, their manager, admins; marketing by role, another rep 404.
    Route(
        "api-lead-clocks",
        {"anonymous": API_ANON, "marketer": 403, "rep": 200, "other_rep": 404, "manager": 200, "admin": 200},
        api=True,
        kwargs=lambda leads: {"lead_id": leads.rep_owned.id},
    ),
]
