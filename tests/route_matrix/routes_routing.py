"""Routing pages and APIs: managers (own team) and admins; reps and marketing refused.

The `leads` fixture's rep_owned lead belongs to cast.rep on cast.team, which
cast.manager manages, so the manager reaches it; other roles are refused by role.
leads:team_dashboard itself is listed in routes_foundation.py.
"""

from accounts.models import RepProfile
from leads.models import AssignmentRule

from . import Route

ANON = 302  # pages send anonymous users to the login page
API_ANON = 401  # token authentication answers first
MANAGERS_ONLY = {"marketer": 403, "rep": 403, "other_rep": 403}


def _rule(leads) -> dict:
    """A rule of cast.team (the manager's team), made when the matrix needs one."""
    team = leads.rep_owned.team
    rule, _ = AssignmentRule.objects.get_or_create(name="Matrix rule", team=team)
    return {"rule_id": rule.pk}


def _rep(leads) -> dict:
    return {"rep_id": leads.rep_owned.owner_id}


def _paused_rep(leads) -> dict:
    RepProfile.objects.filter(user_id=leads.rep_owned.owner_id).update(paused=True)
    return _rep(leads)


def _second_rule(leads) -> dict:
    """The manager's rule second in the list, so that moving it up changes the order."""
    team = leads.rep_owned.team
    AssignmentRule.objects.create(name="First rule", team=team, position=0)
    rule = AssignmentRule.objects.create(name="Matrix rule", team=team, position=1)
    return {"rule_id": rule.pk}


def paused(state: bool):
    def effect(leads, kwargs, user):
        assert RepProfile.objects.get(user_id=kwargs["rep_id"]).paused is state

    return effect


def rule_deleted(leads, kwargs, user):
    assert not AssignmentRule.objects.filter(pk=kwargs["rule_id"]).exists()


def rule_first(leads, kwargs, user):
    assert list(AssignmentRule.objects.order_by("position").values_list("name", flat=True)) == [
        "Matrix rule",
        "First rule",
    ]


def rule_disabled(leads, kwargs, user):
    assert AssignmentRule.objects.get(pk=kwargs["rule_id"]).enabled is False


def _page(ok: int) -> dict:
    return {"anonymous": ANON, **MANAGERS_ONLY, "manager": ok, "admin": ok}


def _api(ok: int) -> dict:
    return {"anonymous": API_ANON, **MANAGERS_ONLY, "manager": ok, "admin": ok}


ROUTES = [
    # An empty reassignment is refused with form errors (400), after the role check.
    Route("leads:team_reassign", _page(400), method="post", data={}),
    Route("leads:rep_pause", _page(302), method="post", kwargs=_rep, effect=paused(True)),
    Route("leads:rep_unpause", _page(302), method="post", kwargs=_paused_rep, effect=paused(False)),
    Route("leads:rule_list", _page(200)),
    Route("leads:rule_create", _page(200)),
    Route("leads:rule_create", _page(200), method="post", data={}),  # re-rendered with errors
    Route("leads:rule_edit", _page(200), kwargs=_rule),
    Route("leads:rule_delete", _page(200), kwargs=_rule),
    Route("leads:rule_delete", _page(302), method="post", kwargs=_rule, effect=rule_deleted),
    Route(
        "leads:rule_move", _page(302), method="post", kwargs=_second_rule, data={"direction": "up"}, effect=rule_first
    ),
    Route("leads:rule_toggle", _page(302), method="post", kwargs=_rule, effect=rule_disabled),
    Route("api-leads-reassign", _api(400), method="post", api=True, data={}),
    Route("api-team-load", _api(200), api=True, kwargs=lambda leads: {"team_id": leads.rep_owned.team_id}),
    Route("api-rep-pause", _api(200), method="post", api=True, kwargs=_rep, effect=paused(True)),
    Route("api-rep-unpause", _api(200), method="post", api=True, kwargs=_paused_rep, effect=paused(False)),
]
