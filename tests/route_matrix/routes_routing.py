"""Routing pages and APIs: managers (own team) and admins; reps and marketing refused.

The `leads` fixture's rep_owned lead belongs to cast.rep on cast.team, which
cast.manager manages, so the manager reaches it; other roles are refused by role.
leads:team_dashboard itself is listed in routes_foundation.py.
"""

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


def _page(ok: int) -> dict:
    return {"anonymous": ANON, **MANAGERS_ONLY, "manager": ok, "admin": ok}


def _api(ok: int) -> dict:
    return {"anonymous": API_ANON, **MANAGERS_ONLY, "manager": ok, "admin": ok}


ROUTES = [
    # An empty reassignment is refused with form errors (400), after the role check.
    Route("leads:team_reassign", _page(400), method="post", data={}),
    Route("leads:rep_pause", _page(302), method="post", kwargs=_rep),
    Route("leads:rep_unpause", _page(302), method="post", kwargs=_rep),
    Route("leads:rule_list", _page(200)),
    Route("leads:rule_create", _page(200)),
    Route("leads:rule_create", _page(200), method="post", data={}),  # re-rendered with errors
    Route("leads:rule_edit", _page(200), kwargs=_rule),
    Route("leads:rule_delete", _page(200), kwargs=_rule),
    Route("leads:rule_delete", _page(302), method="post", kwargs=_rule),
    Route("leads:rule_move", _page(302), method="post", kwargs=_rule, data={"direction": "up"}),
    Route("leads:rule_toggle", _page(302), method="post", kwargs=_rule),
    Route("api-leads-reassign", _api(400), method="post", api=True, data={}),
    Route("api-team-load", _api(200), api=True, kwargs=lambda leads: {"team_id": leads.rep_owned.team_id}),
    Route("api-rep-pause", _api(200), method="post", api=True, kwargs=_rep),
    Route("api-rep-unpause", _api(200), method="post", api=True, kwargs=_rep),
]
