"""Reads for the policy pages and APIs: which policies a user may see and change.

Admins reach the default and every team; a manager reads the default and reaches
their own teams only (another team is a 404, as on the routing pages). Reps and
marketing are refused by role before anything here is asked.
"""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import ClosedDate, FirstContactPolicy, RepProfile, Team, User
from accounts.selectors import policy_default
from leads.models import FirstContactClock, Lead
from leads.routing.selectors import rep_get_for_user, routing_teams_for


@dataclass(frozen=True)
class TeamPolicy:
    """A team and the policy its clocks start with: its own, or the default (`own` False)."""

    team: Team
    policy: FirstContactPolicy
    own: bool


def policy_teams_for(*, user: User) -> QuerySet[Team]:
    """Teams whose policy and closed dates the user may change (the teams they manage)."""
    return routing_teams_for(user=user)


def policy_may_edit_default(*, user: User) -> bool:
    return user.is_admin_role


def team_policies_for_user(*, user: User) -> tuple[FirstContactPolicy, list[TeamPolicy]]:
    """The default and each team the user manages with its policy: two queries."""
    teams = list(policy_teams_for(user=user).select_related("first_contact_policy"))
    default = policy_default()
    return default, [_team_policy(team, default) for team in teams]


def team_policy_get_for_user(*, user: User, team_id: int) -> TeamPolicy:
    """One team's policy; 404 unless the user manages the team (or is an admin)."""
    team = get_object_or_404(policy_teams_for(user=user).select_related("first_contact_policy"), pk=team_id)
    return _team_policy(team, policy_default())


def _team_policy(team: Team, default: FirstContactPolicy) -> TeamPolicy:
    own = getattr(team, "first_contact_policy", None)  # the reverse one-to-one raises when absent
    return TeamPolicy(team=team, policy=own or default, own=own is not None)


def closed_dates_of_team(*, team: Team) -> QuerySet[ClosedDate]:
    return ClosedDate.objects.filter(team=team).order_by("date")


def closed_date_get(*, team: Team, closed_date_id: int) -> ClosedDate:
    return get_object_or_404(ClosedDate, team=team, pk=closed_date_id)


def rep_profile_get_for_user(*, user: User, rep_id: int) -> RepProfile:
    """A rep whose working hours and time zone the user may change: a manager's own team's rep."""
    return rep_get_for_user(user=user, rep_id=rep_id)


def reps_of_teams(*, teams: list[Team]) -> dict[int, list[RepProfile]]:
    """Each team's reps (for the links to their working hours), in one query."""
    reps: dict[int, list[RepProfile]] = {team.id: [] for team in teams}
    for profile in RepProfile.objects.filter(team__in=teams).select_related("user").order_by("user__username"):
        reps[profile.team_id].append(profile)
    return reps


def lead_clocks(*, lead: Lead) -> QuerySet[FirstContactClock]:
    """A lead's first-contact clocks, newest first. The caller fetched `lead` through
    leads.selectors.lead_get_for_user, so access is settled."""
    return FirstContactClock.objects.filter(lead=lead).select_related("rep").order_by("-started_at", "-id")
