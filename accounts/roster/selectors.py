"""The roster page's reads."""

from django.db.models import Count, Q, QuerySet

from accounts.models import Team


def teams_with_reps() -> QuerySet[Team]:
    """Every team with its manager and its number of reps (active ones too), by region then name: one query."""
    return (
        Team.objects.select_related("manager")
        .annotate(rep_count=Count("reps"), active_rep_count=Count("reps", filter=Q(reps__user__is_active=True)))
        .order_by("region", "name")
    )
