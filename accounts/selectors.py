import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q, QuerySet

from .business_time import WorkingCalendar, calendar_around_the_clock, calendar_for
from .models import ClosedDate, FirstContactPolicy, RepProfile, Team, User


def teams_managed_by(*, user: User) -> QuerySet[Team]:
    return Team.objects.filter(manager=user)


def team_ids_visible_to(*, user: User) -> list[int]:
    """Teams whose sales queue the user may look at (a manager's own teams)."""
    if user.is_manager:
        return list(Team.objects.filter(manager=user).values_list("id", flat=True))
    if user.is_rep and hasattr(user, "rep_profile"):
        return [user.rep_profile.team_id]
    return []


def reps_of_team(*, team: Team) -> QuerySet[RepProfile]:
    return RepProfile.objects.filter(team=team).select_related("user").order_by("user__username")


def policy_from_settings() -> FirstContactPolicy:
    return FirstContactPolicy(window_minutes=settings.FIRST_CONTACT_SLA_HOURS * 60, warn_at_percent=[50, 90])


def policy_default() -> FirstContactPolicy:
    """The policy of teams without their own; unsaved from settings until an admin saves it."""
    return FirstContactPolicy.objects.filter(team__isnull=True).first() or policy_from_settings()


def policies_for_teams(*, team_ids: Iterable[int | None]) -> dict[int | None, FirstContactPolicy]:
    """Each team's policy (its own, else the default), in one query; key None is the default."""
    ids = {i for i in team_ids if i is not None}
    rows = list(FirstContactPolicy.objects.filter(Q(team__isnull=True) | Q(team_id__in=ids)))
    default = next((p for p in rows if p.team_id is None), None) or policy_from_settings()
    own = {p.team_id: p for p in rows if p.team_id is not None}
    return {None: default, **{i: own.get(i, default) for i in ids}}


def policy_for_team(*, team_id: int | None) -> FirstContactPolicy:
    return policies_for_teams(team_ids=[team_id])[team_id]


def closed_dates_for_teams(*, team_ids: Iterable[int]) -> dict[int, list[datetime.date]]:
    dates: dict[int, list[datetime.date]] = {}
    for team_id, date in ClosedDate.objects.filter(team_id__in=set(team_ids)).values_list("team_id", "date"):
        dates.setdefault(team_id, []).append(date)
    return dates


def calendar_for_rep(
    *,
    policy: FirstContactPolicy,
    profile: RepProfile | None,
    closed_dates: Iterable[datetime.date] = (),
    business: bool | None = None,
) -> WorkingCalendar:
    """The time a policy counts for one rep: all of it, or their working hours in their time zone.

    `business` overrides the policy's calendar (a clock keeps the calendar it started with).
    """
    if business is None:
        business = policy.is_business_time
    if not business or profile is None:
        return calendar_around_the_clock()
    return calendar_for(
        timezone=profile.user.timezone,
        working_hours=profile.working_hours,
        country=policy.country,
        subdivision=policy.subdivision,
        closed_dates=closed_dates,
    )
