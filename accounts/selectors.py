from django.db.models import QuerySet

from .models import RepProfile, Team, User


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
