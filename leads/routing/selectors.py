"""Reads for routing: teams and reps a manager may act on, rep loads, unassigned queues.

Managers reach only their own teams (another team's team, rep or rule is a 404);
admins reach every team. Leads always come through leads.selectors, so the
nurture pool never shows up here.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import RepProfile, Team, User
from leads.models import OPEN_STATUSES, AssignmentRule, Lead, Status
from leads.selectors import leads_visible_to


def routing_teams_for(*, user: User) -> QuerySet[Team]:
    """Teams whose reps, queues and rules the user manages."""
    if user.is_admin_role:
        return Team.objects.all()
    if user.is_manager:
        return Team.objects.filter(manager=user)
    return Team.objects.none()


def team_get_for_user(*, user: User, team_id: int) -> Team:
    return get_object_or_404(routing_teams_for(user=user), pk=team_id)


def reps_managed_by(*, user: User) -> QuerySet[RepProfile]:
    """Rep profiles the user may pause or hand leads to."""
    qs = RepProfile.objects.select_related("user", "team")
    if user.is_admin_role:
        return qs
    if user.is_manager:
        return qs.filter(team__manager=user)
    return qs.none()


def rep_get_for_user(*, user: User, rep_id: int, write: bool = False) -> RepProfile:
    """A rep by user id; 404 unless the user manages the rep's team (or is an admin)."""
    qs = reps_managed_by(user=user)
    if write:
        qs = qs.select_for_update(of=("self",))
    return get_object_or_404(qs, user_id=rep_id)


def rules_ordered() -> QuerySet[AssignmentRule]:
    return AssignmentRule.objects.select_related("team").order_by("position", "id")


def rule_get_for_user(*, user: User, rule_id: int, write: bool = False) -> AssignmentRule:
    """A rule the user may change: a manager only their teams' rules."""
    qs = rules_ordered()
    if not user.is_admin_role:
        qs = qs.filter(team__manager=user) if user.is_manager else qs.none()
    if write:
        qs = qs.select_for_update(of=("self",))
    return get_object_or_404(qs, pk=rule_id)


def rep_uncontacted_loads(*, user_ids: Iterable[int]) -> dict[int, int]:
    """Open leads not yet contacted per rep (what capacity limits), in one aggregate query."""
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    rows = (
        Lead.objects.filter(owner_id__in=user_ids, status__in=OPEN_STATUSES, first_contact_at__isnull=True)
        .values("owner_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["owner_id"]: row["n"] for row in rows}


@dataclass(frozen=True)
class RepLoad:
    user_id: int
    username: str
    name: str
    team_id: int
    capacity: int
    open_uncontacted: int
    open_total: int
    out_of_office: bool
    paused: bool
    active: bool
    working_now: bool
    # "Free to cold-call" (leads.clock.selectors.FreeToColdCall), filled in by the dashboard.
    free: object = None

    @property
    def at_capacity(self) -> bool:
        return self.open_uncontacted >= self.capacity

    @property
    def available(self) -> bool:
        return self.active and not self.out_of_office and not self.paused and not self.at_capacity


def team_rep_loads(*, team_ids: Iterable[int], now: datetime.datetime) -> list[RepLoad]:
    """Each rep of the teams with their loads: two queries whatever the number of reps."""
    profiles = list(
        RepProfile.objects.filter(team_id__in=list(team_ids))
        .select_related("user")
        .order_by("team_id", "user__username")
    )
    user_ids = [p.user_id for p in profiles]
    counts = {
        row["owner_id"]: row
        for row in Lead.objects.filter(owner_id__in=user_ids, status__in=OPEN_STATUSES)
        .values("owner_id")
        .annotate(
            open_total=Count("id"),
            open_uncontacted=Count("id", filter=Q(first_contact_at__isnull=True)),
        )
        .order_by()
    }
    loads = []
    for p in profiles:
        row = counts.get(p.user_id, {})
        loads.append(
            RepLoad(
                user_id=p.user_id,
                username=p.user.username,
                name=str(p.user),
                team_id=p.team_id,
                capacity=p.capacity,
                open_uncontacted=row.get("open_uncontacted", 0),
                open_total=row.get("open_total", 0),
                out_of_office=p.out_of_office,
                paused=p.paused,
                active=p.user.is_active,
                working_now=p.is_working_at(now),
            )
        )
    return loads


def team_unassigned_queue(*, user: User, team_ids: Iterable[int]) -> QuerySet[Lead]:
    """Promoted leads waiting in the teams' queues for a rep, oldest first."""
    return (
        leads_visible_to(user=user)
        .filter(status=Status.QUEUED, owner__isnull=True, team_id__in=list(team_ids))
        .select_related("scorecard")  # the dashboard shows the score
        .order_by("promoted_at", "id")
    )


def team_overdue_first_contacts(*, user: User, team_ids: Iterable[int], now: datetime.datetime) -> QuerySet[Lead]:
    """Assigned leads past their first-contact deadline with no contact yet, most overdue first."""
    return (
        leads_visible_to(user=user)
        .filter(
            team_id__in=list(team_ids),
            status__in=OPEN_STATUSES,
            sla_due_at__lt=now,
            first_contact_at__isnull=True,
        )
        .select_related("owner", "scorecard")
        .order_by("sla_due_at", "id")
    )
