"""The first-contact sweep: due clocks become warnings, breaches, escalations and reassignments, once each.

Run every minute by beat (sla.tasks.sla_sweep) and by `manage.py sla_sweep`.
It reads only the due clocks (sla.sweep.selectors.clocks_due), a batch at a
time, and per batch, in one transaction:

1. locks the batch's leads (FOR UPDATE SKIP LOCKED), then their clocks, again
   re-checking that each is open and still due. The lead comes first because a
   touch (leads.queue.services.touch_log -> clock_stop) locks the lead, then the
   clock: a touch and the sweep never interleave on one clock, and a clock held
   by a touch or another sweep is skipped, not waited for;
2. applies every past-due step of each clock in order (warnings, the breach,
   the escalation: a sweep that was down catches up with each once);
3. writes the clocks (one UPDATE ... FROM unnest), the ClockEvent rows (unique
   per clock, kind and number: a repeat is a no-op), the history rows (the
   leads.history builders) and the notifications (sla.notifications.services);
4. hands breached leads whose policy reassigns on breach to routing
   (leads.routing.services.leads_reassign_on_breach): a REASSIGNMENT event each.

A worker killed mid-batch loses that batch's transaction, and the next run
does it; batches already committed are not due any more. The number of queries
does not depend on the number of due clocks (tests/sla/test_sweep.py).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from leadhandoff.sql import array_param, insert_set, tables_analyze
from leads import history
from leads.models import ClockAction, ClockOutcome, FirstContactClock, Lead, LeadHistory
from leads.routing.services import leads_reassign_on_breach
from sla.models import ClockEvent, EventKind, Notification, SweepRun
from sla.notifications.services import notifications_for_events
from sla.sweep.selectors import clocks_due

logger = logging.getLogger(__name__)

COUNTS = ("warnings", "breaches", "escalations", "reassigned", "queued", "notifications", "failed")
# Clocks per transaction. Each batch pays a commit (a WAL flush) and a dozen statements; at 500 a
# backlog of 100,000 due clocks spent a third of its time on them (bench/sla.py). Row locks are
# taken with SKIP LOCKED, so a larger batch never makes a touch or another sweep wait longer than
# one batch's writes (a few hundred milliseconds).
BATCH = 2000
# The tables each batch appends to. A backlog can grow them a hundredfold within one run, while
# the row checks of their foreign keys keep the plans made for the size they had at the last
# ANALYZE: a sequential scan of a table of 100 rows, then of 100,000, once per notification
# (bench/sla.py: 100,000 due at once took 304 s instead of 89 s). So on a backlog (a full batch),
# after the first batch that wrote many rows, the run analyzes them once (tables_analyze).
_WRITTEN_TABLES = (ClockEvent._meta.db_table, Notification._meta.db_table, LeadHistory._meta.db_table)
_COUNT_OF_KIND = {EventKind.WARNING: "warnings", EventKind.BREACH: "breaches", EventKind.ESCALATION: "escalations"}


@dataclass(slots=True)
class _Step:
    clock: FirstContactClock
    kind: str
    seq: int
    due_at: datetime.datetime


@dataclass(slots=True)
class _Event:
    """A ClockEvent just written, with its clock and lead in hand: what the history row and the
    notifications need (sla.notifications.services.notifications_for_events reads these attributes),
    without a model instance per event or a query to read it back."""

    pk: int
    clock: FirstContactClock
    lead_id: int
    rep_id: int
    kind: str
    seq: int
    due_at: datetime.datetime


def sla_sweep(*, now: datetime.datetime, dry_run: bool = False, batch: int = BATCH) -> dict[str, int]:
    """Act on every clock due at `now`; return what was done (`reassigned`: to a rep, `queued`: to the team).

    A dry run does all of it in a transaction that is rolled back: the same
    counts, nothing kept, nobody told (mail leaves after commit only).
    """
    counts = dict.fromkeys(COUNTS, 0)
    if dry_run:
        with transaction.atomic():
            _sweep(now=now, batch=batch, counts=counts)
            transaction.set_rollback(True)
        return counts
    run = SweepRun.objects.create(started_at=now)
    _sweep(now=now, batch=batch, counts=counts)
    # /healthz/jobs reads the last finished run: the real time it finished, not the sweep's "as of".
    SweepRun.objects.filter(pk=run.pk).update(finished_at=max(now, timezone.now()), counts=counts)
    return counts


def _sweep(*, now: datetime.datetime, batch: int, counts: dict[str, int]) -> None:
    # Clocks held by someone else (a touch, another sweep) or that failed: not read again this run.
    skip: set[int] = set()
    analyzed = False
    while True:
        due = clocks_due(now=now, limit=batch, skip=skip)
        if not due:
            return
        done = dict.fromkeys(COUNTS, 0)
        try:
            with transaction.atomic():
                claimed = _sweep_batch(due=due, now=now, counts=done)
        except Exception:  # one bad batch must not stall the sweep: the next run tries it again
            logger.exception("First-contact sweep: a batch of %d clocks failed", len(due))
            done = dict.fromkeys(COUNTS, 0)
            done["failed"], claimed = len(due), set()
        for key, n in done.items():
            counts[key] += n
        skip.update(clock_id for clock_id, _ in due if clock_id not in claimed)
        if not analyzed and len(due) == batch:  # a backlog: more batches follow
            analyzed = tables_analyze(*_WRITTEN_TABLES, rows=done["notifications"])


def _sweep_batch(*, due: list[tuple[int, int]], now: datetime.datetime, counts: dict[str, int]) -> set[int]:
    """Claim and act on these due clocks; return the ids claimed."""
    leads = {
        lead.pk: lead
        for lead in Lead.objects.filter(id__in=sorted({lead_id for _, lead_id in due}))
        # What a notification names the lead by (Lead.__str__ and the company): the wide row is not read.
        .only("id", "first_name", "last_name", "email", "external_id", "company")
        .order_by("id")
        .select_for_update(skip_locked=True, of=("self",))
    }
    if not leads:
        return set()
    clocks = list(
        FirstContactClock.objects.filter(
            id__in=[clock_id for clock_id, _ in due],
            lead_id__in=list(leads),
            ended_at__isnull=True,
            next_action_at__lte=now,
        )
        .order_by("id")
        .select_for_update(skip_locked=True)
    )
    steps: list[_Step] = []
    to_move: list[FirstContactClock] = []
    for clock in clocks:
        clock.lead = leads[clock.lead_id]
        steps.extend(_advance(clock, now=now, to_move=to_move))
    _write_clocks(clocks)
    events = _write_events(steps, now=now)
    history.entries_write([(e.lead_id, _entry(e)) for e in events], at=now)
    moves = leads_reassign_on_breach(clocks=to_move, now=now)
    if moves:
        by_lead = {c.lead_id: c for c in to_move}
        events += _write_events(
            [_Step(by_lead[m.lead_id], EventKind.REASSIGNMENT, 1, by_lead[m.lead_id].due_at) for m in moves], now=now
        )
    for event in events:
        if event.kind in _COUNT_OF_KIND:
            counts[_COUNT_OF_KIND[event.kind]] += 1
    counts["reassigned"] += sum(1 for m in moves if m.owner_id)
    counts["queued"] += sum(1 for m in moves if not m.owner_id)
    counts["notifications"] += notifications_for_events(events=events, now=now)
    return {clock.pk for clock in clocks}


def _advance(clock: FirstContactClock, *, now: datetime.datetime, to_move: list[FirstContactClock]) -> list[_Step]:
    """Every step of the clock due by `now`, in order, applied to it in memory.

    Steps come from the clock's state (next_step), not from the stored next action,
    so a claimed clock always moves on: no row is read again and again.
    """
    steps = []
    action, at = clock.next_step()
    while action and at is not None and at <= now:
        if action == ClockAction.WARNING:
            clock.warnings_sent += 1
            steps.append(_Step(clock, EventKind.WARNING, clock.warnings_sent, at))
        elif action == ClockAction.BREACH:
            clock.outcome, clock.breached_at = ClockOutcome.BREACHED, at
            steps.append(_Step(clock, EventKind.BREACH, 1, at))
        else:
            clock.escalated_at = at
            steps.append(_Step(clock, EventKind.ESCALATION, 1, at))
        breached = action == ClockAction.BREACH
        action, at = clock.next_step()
        if breached and clock.reassign_on_breach:
            # Routing ends this clock and starts the next rep's (or, when the lead cannot move, the escalation
            # is due at the next batch).
            to_move.append(clock)
            break
    clock.next_action, clock.next_action_at = action, at
    return steps


def _write_clocks(clocks: list[FirstContactClock]) -> None:
    """The claimed clocks' new state in one statement."""
    if not clocks:
        return
    table = connection.ops.quote_name(FirstContactClock._meta.db_table)
    sql = (
        f"UPDATE {table} AS c SET warnings_sent = v.warnings_sent, outcome = v.outcome, "  # noqa: S608 - names are ours
        "breached_at = v.breached_at, escalated_at = v.escalated_at, "
        "next_action = v.next_action, next_action_at = v.next_action_at "
        "FROM unnest(%s::bigint[], %s::int[], %s::varchar[], %s::timestamptz[], %s::timestamptz[], "
        "%s::varchar[], %s::timestamptz[]) "
        "AS v(id, warnings_sent, outcome, breached_at, escalated_at, next_action, next_action_at) WHERE c.id = v.id"
    )
    columns = ("pk", "warnings_sent", "outcome", "breached_at", "escalated_at", "next_action", "next_action_at")
    with connection.cursor() as cursor:
        cursor.execute(sql, [array_param([getattr(c, name) for c in clocks]) for name in columns])


def _write_events(steps: list[_Step], *, now: datetime.datetime) -> list[_Event]:
    """Insert the steps' events; return those inserted (a step already recorded is left out)."""
    if not steps:
        return []
    returned = insert_set(
        ClockEvent,
        template=ClockEvent(created_at=now),
        varying={
            "clock_id": [s.clock.pk for s in steps],
            "lead_id": [s.clock.lead_id for s in steps],
            "rep_id": [s.clock.rep_id for s in steps],
            "kind": [s.kind for s in steps],
            "seq": [s.seq for s in steps],
            "due_at": [s.due_at for s in steps],
        },
        now=now,
        suffix="ON CONFLICT DO NOTHING RETURNING id, clock_id, kind, seq",
    )
    by_key = {(s.clock.pk, s.kind, s.seq): s for s in steps}
    events = []
    for event_id, clock_id, kind, seq in returned:
        step = by_key[(clock_id, kind, seq)]
        events.append(_Event(event_id, step.clock, step.clock.lead_id, step.clock.rep_id, kind, seq, step.due_at))
    events.sort(key=lambda e: e.pk)
    return events


def _entry(event: _Event) -> history.Entry:
    clock = event.clock
    data = {"clock_id": clock.pk, "rep_id": clock.rep_id, "event_id": event.pk}
    if event.kind == EventKind.WARNING:
        return history.sla_warning(due=clock.due_at, warning=event.seq, **data)
    if event.kind == EventKind.BREACH:
        return history.sla_breached(due=clock.due_at, **data)
    return history.sla_escalated(due=clock.due_at, escalate_at=event.due_at.isoformat(), **data)
