"""Starting and stopping first-contact clocks, in the caller's transaction.

Every assignment to a rep starts a clock (routing, a manager's reassignment, a
reassignment on breach); the first touch its policy counts stops it; closing,
rejecting or reassigning the lead ends it. The sweep that warns and breaches
(sla.services) only reads `next_action_at`, so every instant it acts on is
computed here, when the clock starts, in the policy's time.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence

from django.db.models import F

from accounts.business_time import deadline_after, working_time_between
from accounts.models import FirstContactPolicy, RepProfile
from accounts.selectors import calendar_for_rep, closed_dates_for_teams, policies_for_teams
from leads.models import ClockOutcome, FirstContactClock, Lead


def clock_terms(*, policy: FirstContactPolicy, calendar, start: datetime.datetime) -> dict:
    """The fields a clock copies from its policy, with its deadline, warnings and escalation."""
    window = datetime.timedelta(minutes=policy.window_minutes)
    due = deadline_after(start, window, calendar)
    warn_at = [deadline_after(start, window * (percent / 100), calendar) for percent in policy.warn_at_percent or []]
    escalate_at = None
    if policy.escalate_after_minutes:
        escalate_at = deadline_after(due, datetime.timedelta(minutes=policy.escalate_after_minutes), calendar)
    terms = {
        "policy": policy if policy.pk else None,
        "business_time": policy.is_business_time,
        "holiday_country": policy.country,
        "holiday_subdivision": policy.subdivision,
        "stop_on": policy.stop_on,
        "window_minutes": policy.window_minutes,
        "reassign_on_breach": policy.reassign_on_breach,
        "max_reassignments": policy.max_reassignments,
        "started_at": start,
        "due_at": due,
        # A warning at the deadline itself (or after it, rounding) would only repeat the breach.
        "warn_at": sorted(at for at in warn_at if start < at < due),
        "escalate_at": escalate_at,
    }
    terms["next_action"], terms["next_action_at"] = FirstContactClock(**terms).next_step()
    return terms


def clocks_plan(
    *,
    assignments: Sequence[tuple[int, int, int | None]],
    now: datetime.datetime,
    reassignment: dict[int, int] | None = None,
    profiles: Iterable[RepProfile] | None = None,
) -> dict[int, FirstContactClock]:
    """Unsaved clocks for (lead id, rep id, team id) assignments starting `now`, by lead id.

    Deadlines are computed once per (rep, team): a batch of a thousand promoted
    leads costs a handful of calendar walks. Pass the reps' profiles (with their
    users) when the caller has them, to save a query.
    """
    if not assignments:
        return {}
    rep_ids = {rep_id for _, rep_id, _ in assignments}
    team_ids = {team_id for _, _, team_id in assignments if team_id is not None}
    policies = policies_for_teams(team_ids=team_ids)
    by_user = {p.user_id: p for p in profiles or ()}
    if any(policy.is_business_time for policy in policies.values()):
        missing = rep_ids - set(by_user)
        if missing:
            by_user.update(
                (p.user_id, p) for p in RepProfile.objects.filter(user_id__in=missing).select_related("user")
            )
        closed = closed_dates_for_teams(team_ids=team_ids)
    else:
        closed = {}
    terms_by_key: dict[tuple[int, int | None], dict] = {}
    clocks = {}
    for lead_id, rep_id, team_id in assignments:
        key = (rep_id, team_id)
        if key not in terms_by_key:
            policy = policies[team_id]
            calendar = calendar_for_rep(
                policy=policy, profile=by_user.get(rep_id), closed_dates=closed.get(team_id, ())
            )
            terms_by_key[key] = clock_terms(policy=policy, calendar=calendar, start=now)
        clocks[lead_id] = FirstContactClock(
            lead_id=lead_id,
            rep_id=rep_id,
            team_id=team_id,
            reassignment=(reassignment or {}).get(lead_id, 0),
            **terms_by_key[key],
        )
    return clocks


def clocks_start(
    *,
    assignments: Sequence[tuple[int, int, int | None]],
    now: datetime.datetime,
    reassignment: dict[int, int] | None = None,
) -> dict[int, FirstContactClock]:
    """Start a clock for each (lead id, rep id, team id); return them by lead id.

    The caller has ended any open clock of these leads (the unique constraint
    says so otherwise) and copies each deadline onto its lead.
    """
    clocks = clocks_plan(assignments=assignments, now=now, reassignment=reassignment)
    FirstContactClock.objects.bulk_create(clocks.values())
    return clocks


def clock_start(*, lead_id: int, rep_id: int, team_id: int | None, now: datetime.datetime, reassignment: int = 0):
    return clocks_start(assignments=[(lead_id, rep_id, team_id)], now=now, reassignment={lead_id: reassignment})[
        lead_id
    ]


def clock_stop(*, lead: Lead, kind: str, outcome: str, at: datetime.datetime) -> FirstContactClock | None:
    """The touch the policy counts stops the lead's open clock; returns it, or None if it runs on.

    The caller holds the lead's row lock (the sweep takes the lead before the
    clock too), so a touch and a breach of one clock never interleave: a touch
    at or before the deadline is met even when the sweep is due the same instant.
    A late touch the sweep has not yet seen still records the breach, without
    anyone being told of it any more.
    """
    clock = FirstContactClock.objects.select_for_update().filter(lead=lead, ended_at__isnull=True).first()
    if clock is None or not clock.counts(kind, outcome):
        return None
    if not clock.outcome:
        if at <= clock.due_at:
            clock.outcome = ClockOutcome.MET
        else:
            clock.outcome, clock.breached_at = ClockOutcome.BREACHED, clock.due_at
    clock.contacted_at = at
    clock.seconds_to_contact = max(0, int((at - clock.started_at).total_seconds()))
    clock.business_seconds_to_contact = _business_seconds(clock, at)
    clock.ended_at = at
    clock.next_action, clock.next_action_at = "", None
    clock.save()
    return clock


def _business_seconds(clock: FirstContactClock, at: datetime.datetime) -> int:
    if not clock.business_time:
        return max(0, int((at - clock.started_at).total_seconds()))
    profile = RepProfile.objects.select_related("user").filter(user_id=clock.rep_id).first()
    # The terms the clock started with, not whatever its policy says now (or nothing, if it is gone).
    policy = FirstContactPolicy(country=clock.holiday_country, subdivision=clock.holiday_subdivision)
    closed = closed_dates_for_teams(team_ids=[clock.team_id]).get(clock.team_id, ()) if clock.team_id else ()
    calendar = calendar_for_rep(policy=policy, profile=profile, closed_dates=closed, business=True)
    return int(working_time_between(clock.started_at, at, calendar).total_seconds())


def clocks_end(*, lead_ids: Iterable[int], outcome: str, now: datetime.datetime) -> int:
    """End the open clocks of these leads (closed, rejected, reassigned); a breach already recorded stays.

    Set-based: one UPDATE, whatever the number of leads.
    """
    ids = list(lead_ids)
    if not ids:
        return 0
    open_clocks = FirstContactClock.objects.filter(lead_id__in=ids, ended_at__isnull=True)
    # A deadline that passed before the sweep saw it was still missed: closing the lead late
    # does not turn a breach into "closed without contact".
    late = open_clocks.filter(outcome="", due_at__lt=now).update(
        outcome=ClockOutcome.BREACHED, breached_at=F("due_at"), ended_at=now, next_action="", next_action_at=None
    )
    # Decided clocks keep their outcome (breached); undecided ones take this one.
    undecided = open_clocks.filter(outcome="").update(
        outcome=outcome, ended_at=now, next_action="", next_action_at=None
    )
    decided = open_clocks.update(ended_at=now, next_action="", next_action_at=None)
    return late + undecided + decided


def clock_breached_rep_ids(*, lead_id: int, since: datetime.datetime | None) -> set[int]:
    """Reps who let this lead's clock lapse in its current cycle: it never goes back to them."""
    clocks = FirstContactClock.objects.filter(lead_id=lead_id, outcome=ClockOutcome.BREACHED)
    if since is not None:
        clocks = clocks.filter(started_at__gte=since)
    return set(clocks.values_list("rep_id", flat=True))
