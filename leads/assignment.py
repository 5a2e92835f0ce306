"""Manager actions on routing: reassign leads with a reason, pause and unpause reps,
and keep the ordered list of routing rules.

Reassignment is guarded twice: the caller states the owner it saw for every lead
and the leads are locked before the comparison, so two managers acting at the
same moment cannot both win, and nobody moves a lead that is no longer where
they saw it (ConflictError, HTTP 409).
"""

import datetime
import logging

from django.db import transaction
from django.db.models import Max
from django.http import Http404

from accounts.models import RepProfile, Team, User
from leadhandoff.api import ApplicationError, ConflictError

from . import history
from .models import OPEN_STATUSES, AssignmentRule, Lead, LeadHistory, Status
from .routing import conditions_clean, first_contact_due
from .routing_selectors import rep_get_for_user, rule_get_for_user, rules_ordered
from .selectors import leads_visible_to

logger = logging.getLogger(__name__)

REASON_MAX_LENGTH = 500
# Statuses in which the first-contact clock (re)starts on a new owner.
NOT_YET_CONTACTED = (Status.QUEUED, Status.ASSIGNED)


def _label(user: User | None) -> str:
    return user.username if user else "nobody"


@transaction.atomic
def leads_reassign(
    *,
    actor: User,
    lead_ids: list[int],
    to_rep_id: int,
    reason: str,
    expected_owners: dict[int, int | None],
    now: datetime.datetime,
) -> list[Lead]:
    """Give leads to another rep; all of them or none.

    `expected_owners` maps every lead id to the owner id the actor saw (None for a
    lead in an unassigned queue). A lead whose owner changed since, or that left
    the actor's teams, is a conflict and nothing is changed. A lead not yet
    contacted gets a fresh first-contact clock. Returns the leads that moved.
    """
    reason = (reason or "").strip()
    lead_ids = list(dict.fromkeys(int(i) for i in lead_ids))
    errors: dict[str, list[str]] = {}
    if not lead_ids:
        errors["leads"] = ["Choose at least one lead."]
    if not reason:
        errors["reason"] = ["Say why the leads are reassigned; the reason goes into each lead's history."]
    elif len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = [f"Keep the reason under {REASON_MAX_LENGTH} characters."]
    missing = [i for i in lead_ids if i not in expected_owners]
    if missing:
        errors["expected_owners"] = [f"Give the owner you saw for lead(s) {', '.join(map(str, missing))}."]
    if errors:
        raise ApplicationError("The reassignment was not made.", fields=errors)

    to_rep = rep_get_for_user(user=actor, rep_id=to_rep_id)  # 404: not a rep of the actor's teams
    if not to_rep.user.is_active:
        raise ApplicationError("The reassignment was not made.", fields={"to_rep": [f"{to_rep.user} is deactivated."]})

    # 404 for leads the actor may not see at all (before any lock: no hint that they exist).
    visible_before = set(leads_visible_to(user=actor).filter(id__in=lead_ids).values_list("id", flat=True))
    if len(visible_before) != len(lead_ids):
        raise Http404("No such lead.")

    # Lock in id order (the order every writer uses), then compare with what the actor saw.
    leads = list(
        Lead.objects.filter(id__in=lead_ids).select_related("owner").order_by("id").select_for_update(of=("self",))
    )
    still_visible = set(leads_visible_to(user=actor).filter(id__in=lead_ids).values_list("id", flat=True))
    conflicts = []
    changed = [lead for lead in leads if lead.owner_id != expected_owners[lead.id] or lead.id not in still_visible]
    if changed:
        seen_ids = {expected_owners[lead.id] for lead in changed} - {None}
        seen_names = dict(User.objects.filter(id__in=seen_ids).values_list("id", "username"))
        for lead in changed:
            seen = expected_owners[lead.id]
            where = "" if lead.id in still_visible else " on another team"
            was = "unassigned" if seen is None else f"with {seen_names.get(seen, 'another owner')}"
            conflicts.append(
                f"{lead} (lead {lead.id}) now belongs to {_label(lead.owner)}{where}; "
                f"it was {was} when you loaded the page."
            )
    if conflicts:
        raise ConflictError(
            "Someone changed these leads after you loaded them; nothing was reassigned. Reload and try again.",
            fields={"leads": conflicts},
        )
    refused = [
        f"{lead} (lead {lead.id}) is {lead.get_status_display().lower()} and cannot be reassigned."
        for lead in leads
        if lead.status not in OPEN_STATUSES
    ]
    if refused:
        raise ApplicationError("The reassignment was not made.", fields={"leads": refused})

    moved, rows = [], []
    new_owner = to_rep.user
    for lead in leads:
        if lead.owner_id == new_owner.id:
            continue  # already theirs: nothing to do, no history
        old_owner, old_team_id = lead.owner, lead.team_id
        restart = lead.status in NOT_YET_CONTACTED and lead.first_contact_at is None
        lead.owner = new_owner
        lead.team_id = to_rep.team_id
        lead.updated_at = now
        if restart:
            lead.status = Status.ASSIGNED
            lead.assigned_at = now
            lead.sla_due_at = first_contact_due(assigned_at=now)
        moved.append(lead)
        rows.append(
            history.reassigned(
                old_owner=old_owner,
                owner=new_owner,
                note=reason,
                by=actor.username,
                old_team_id=old_team_id,
                team_id=to_rep.team_id,
                clock_restarted=restart,
                sla_due_at=lead.sla_due_at.isoformat() if lead.sla_due_at else None,
            ).row(lead_id=lead.id, at=now, actor_id=actor.id)
        )
    Lead.objects.bulk_update(moved, ["owner", "team", "status", "assigned_at", "sla_due_at", "updated_at"])
    LeadHistory.objects.bulk_create(rows)
    logger.info("%s reassigned %d lead(s) to %s: %s", actor.username, len(moved), new_owner.username, reason)
    return moved


@transaction.atomic
def rep_set_paused(*, actor: User, rep_id: int, paused: bool) -> RepProfile:
    """Pause (no new leads routed; existing ones stay) or unpause a rep of the actor's teams."""
    profile = rep_get_for_user(user=actor, rep_id=rep_id, write=True)
    if profile.paused != paused:
        profile.paused = paused
        profile.save(update_fields=["paused"])
        logger.info("%s %s rep %s", actor.username, "paused" if paused else "unpaused", profile.user.username)
        if not paused:
            team_id = profile.team_id
            # Leads that waited for this rep get a chance now rather than at the next sweep.
            transaction.on_commit(lambda: _enqueue_route_waiting(team_id))
    return profile


def _enqueue_route_waiting(team_id: int) -> None:
    from . import tasks  # tasks import this module

    tasks.route_waiting_leads.delay(team_ids=[team_id])


# --- Routing rules ---------------------------------------------------------------------


def _check_team(actor: User, team: Team) -> None:
    if not (actor.is_admin_role or team.manager_id == actor.id):
        raise ApplicationError(
            "Choose one of your teams.", fields={"team": ["You may only route leads to your own teams."]}
        )


@transaction.atomic
def rule_create(
    *,
    actor: User,
    name: str,
    team: Team,
    conditions: dict,
    strategy: str,
    enabled: bool = True,
    skip_outside_working_hours: bool = False,
) -> AssignmentRule:
    """A new rule goes to the end of the list (it applies when no earlier rule matches)."""
    _check_team(actor, team)
    conditions = conditions_clean(conditions)
    # Serialise writers of the list so two new rules never share a position.
    list(AssignmentRule.objects.select_for_update().values_list("id", flat=True))
    last = AssignmentRule.objects.aggregate(m=Max("position"))["m"]
    return AssignmentRule.objects.create(
        name=name,
        team=team,
        conditions=conditions,
        strategy=strategy,
        enabled=enabled,
        skip_outside_working_hours=skip_outside_working_hours,
        position=0 if last is None else last + 1,
    )


@transaction.atomic
def rule_update(*, actor: User, rule_id: int, **values) -> AssignmentRule:
    rule = rule_get_for_user(user=actor, rule_id=rule_id, write=True)
    if "team" in values:
        _check_team(actor, values["team"])
    if "conditions" in values:
        values["conditions"] = conditions_clean(values["conditions"])
    for key, value in values.items():
        setattr(rule, key, value)
    rule.save()
    return rule


@transaction.atomic
def rule_delete(*, actor: User, rule_id: int) -> None:
    rule_get_for_user(user=actor, rule_id=rule_id, write=True).delete()


@transaction.atomic
def rule_move(*, actor: User, rule_id: int, direction: str) -> AssignmentRule:
    """Swap a rule with its neighbour above ("up") or below ("down"); renumber the list 0..n-1."""
    if direction not in ("up", "down"):
        raise ApplicationError("Move a rule up or down.", fields={"direction": ["Choose up or down."]})
    rule = rule_get_for_user(user=actor, rule_id=rule_id)
    ordered = list(rules_ordered().select_for_update(of=("self",)))
    index = next(i for i, r in enumerate(ordered) if r.id == rule.id)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    changed = []
    for position, r in enumerate(ordered):
        if r.position != position:
            r.position = position
            changed.append(r)
    AssignmentRule.objects.bulk_update(changed, ["position"])
    return next(r for r in ordered if r.id == rule.id)


@transaction.atomic
def rule_set_enabled(*, actor: User, rule_id: int, enabled: bool) -> AssignmentRule:
    rule = rule_get_for_user(user=actor, rule_id=rule_id, write=True)
    rule.enabled = enabled
    rule.save(update_fields=["enabled", "updated_at"])
    return rule
