"""One builder per handoff transition: the history row's action and payload, and its sentence.

Every writer of a lead's history goes through here: the ORM writers build a
LeadHistory from an `Entry` (`entry.row(...)` unsaved, `entry.write(...)` saved);
the set-based SQL writers (leads.imports.writer, leads.pool.services) take the
action and the payload's SQL expression from the `*_sql` builder beside the
Python one, so no action string or payload key is typed twice. `sentences`
turns stored rows into words for the pages ("Sam Rivera logged a call:
connected", "Assigned to Priya Nair by rule 'EMEA enterprise'").
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from accounts.models import User
from leadhandoff.durations import date_words
from leadhandoff.money import money
from leadhandoff.sql import insert_set
from leads.models import HistoryAction, Lead, LeadHistory, Status


def _text(value: Any) -> str:
    return "" if value is None else str(value)[:255]


@dataclass(frozen=True)
class Entry:
    """A transition's row before it has a lead, a time and an actor."""

    action: str
    field: str = ""
    old: Any = ""
    new: Any = ""
    note: str = ""
    data: dict = dataclasses.field(default_factory=dict)  # `field` is a column name here

    def row(self, *, lead_id: int, at: datetime.datetime, actor_id: int | None = None) -> LeadHistory:
        """Unsaved, for bulk_create."""
        return LeadHistory(
            lead_id=lead_id,
            actor_id=actor_id,
            action=self.action,
            field=self.field,
            old_value=_text(self.old),
            new_value=_text(self.new),
            note=self.note,
            data=self.data,
            created_at=at,
        )

    def write(self, *, lead: Lead, at: datetime.datetime, actor: User | None = None) -> LeadHistory:
        """Saved; callers do it inside the transaction of the change."""
        row = self.row(lead_id=lead.pk, at=at, actor_id=actor.pk if actor else None)
        row.save()
        return row


# --- Created and updated -------------------------------------------------------------


def created(*, note: str, **data: Any) -> Entry:
    return Entry(HistoryAction.CREATED, note=note, data=data)


def updated(*, field: str = "", old: Any = "", new: Any = "", note: str = "", **data: Any) -> Entry:
    return Entry(HistoryAction.UPDATED, field=field, old=old, new=new, note=note, data=data)


def origin_corrected(*, field: str, old: Any, new: Any) -> Entry:
    """An admin corrected a lead's origin or rep-source channel (intake and imports refuse to change them)."""
    return Entry(HistoryAction.UPDATED, field=field, old=old, new=new, note=f"{field} corrected by an admin.")


# --- Imported --------------------------------------------------------------------------


def _import_note(created: bool, job_id: int | None) -> str:
    by = f"import {job_id}" if job_id else "an import"
    return f"{'Created' if created else 'Updated'} by {by}, line "


def imported(*, created: bool, old_status: str | None, new_status: str, job_id: int | None, line: int) -> Entry:
    return Entry(
        HistoryAction.IMPORTED,
        field="status",
        old="" if created else (old_status or ""),
        new=new_status,
        note=f"{_import_note(created, job_id)}{line}.",
        data={"import_job": job_id, "line": line, "created": created},
    )


@dataclass(frozen=True)
class SqlRow:
    """A builder's row as SQL: each part an expression over the caller's FROM, with its params.

    Parts: action, field, old_value, new_value, note, data (in LeadHistory's column order).
    """

    parts: tuple[str, ...]
    params: dict[str, Any]

    COLUMNS = "action, field, old_value, new_value, note, data"

    @property
    def select(self) -> str:
        return ", ".join(self.parts)


def imported_sql(*, created: bool, job_id: int | None, old: str, new: str, line: str) -> SqlRow:
    """`imported` as SQL (named params, prefix h_): old/new/line are expressions of the staging rows."""
    kind = "c" if created else "u"
    return SqlRow(
        parts=(
            "%(h_imported)s",
            "'status'",
            "''" if created else f"COALESCE({old}, '')",
            new,
            f"%(h_{kind}_note)s || {line} || '.'",
            f"jsonb_build_object('import_job', %(h_job)s::integer, 'line', {line}, 'created', {str(created).lower()})",
        ),
        params={
            "h_imported": HistoryAction.IMPORTED.value,
            f"h_{kind}_note": _import_note(created, job_id),
            "h_job": job_id,
        },
    )


# --- Promoted --------------------------------------------------------------------------


def _promotion_tail(threshold: int, version: int) -> str:
    return f" reached the threshold {threshold} of definition v{version}"


def promoted(*, version: int, score: int, threshold: int, explanation: dict) -> Entry:
    return Entry(
        HistoryAction.PROMOTED,
        field="status",
        old=Status.NURTURE,
        new=Status.QUEUED,
        note=f"Score {score}{_promotion_tail(threshold, version)}",
        data={"version": version, "score": score, "threshold": threshold, "explanation": explanation},
    )


def promoted_sql(*, version: int, threshold: int, score: str, explanation: str) -> SqlRow:
    """`promoted` as SQL: score and explanation are expressions of the promoted rows."""
    return SqlRow(
        parts=(
            "%(h_promoted)s",
            "'status'",
            "%(h_nurture)s",
            "%(h_queued)s",
            f"'Score ' || {score} || %(h_note_tail)s",
            f"jsonb_build_object('version', %(h_version)s::int, 'score', {score},"
            f" 'threshold', %(h_threshold)s::int, 'explanation', {explanation})",
        ),
        params={
            "h_promoted": HistoryAction.PROMOTED.value,
            "h_nurture": Status.NURTURE.value,
            "h_queued": Status.QUEUED.value,
            "h_note_tail": _promotion_tail(threshold, version),
            "h_version": version,
            "h_threshold": threshold,
        },
    )


# --- Routing and assignment -----------------------------------------------------------


def assigned(*, owner: User, note: str = "", **data: Any) -> Entry:
    return Entry(
        HistoryAction.ASSIGNED, field="owner", new=owner.username, note=note, data={"owner_id": owner.pk, **data}
    )


def reassigned(*, old_owner: User | None, owner: User, note: str, **data: Any) -> Entry:
    return Entry(
        HistoryAction.REASSIGNED if old_owner else HistoryAction.ASSIGNED,
        field="owner",
        old=old_owner.username if old_owner else "",
        new=owner.username,
        note=note,
        data={"old_owner_id": old_owner.pk if old_owner else None, "owner_id": owner.pk, **data},
    )


def queued_in_team(*, old_team: str, team: str, note: str, **data: Any) -> Entry:
    """Routing put the lead in a team's unassigned queue (no rep free)."""
    return Entry(HistoryAction.UPDATED, field="team", old=old_team, new=team, note=note, data={"team": team, **data})


# --- The sales queue -------------------------------------------------------------------


def status_changed(*, old: str, new: str, note: str = "") -> Entry:
    return Entry(HistoryAction.STATUS_CHANGED, field="status", old=old, new=new, note=note)


def first_contact(*, at: datetime.datetime, kind: str, kind_label: str, outcome_label: str, **data: Any) -> Entry:
    return Entry(
        HistoryAction.FIRST_CONTACT,
        field="first_contact_at",
        new=at.isoformat(),
        note=f"{kind_label}: {outcome_label}",
        data={"kind": kind, **data},
    )


def rejected(*, old: str, note: str, **data: Any) -> Entry:
    return Entry(HistoryAction.REJECTED, field="status", old=old, new=Status.NURTURE, note=note, data=data)


# --- Consent ----------------------------------------------------------------------------------

_CONSENT_LABELS = {"do_not_email": "do not email", "do_not_call": "do not call", "unsubscribed": "unsubscribed"}


def consent_changed(*, changes: dict[str, dict[str, bool]], source: str) -> Entry:
    """Consent flags changed (leads.fields.services.consent_apply): which, from what, and why."""
    words = ", ".join(f"{_CONSENT_LABELS[n]} {'set' if c['new'] else 'cleared'}" for n, c in sorted(changes.items()))
    return Entry(
        HistoryAction.CONSENT_CHANGED,
        field=next(iter(changes)) if len(changes) == 1 else "consent",
        note=f"{words} (source: {source})" if source else words,
        data={"changes": changes, "source": source},
    )


def consent_overridden(*, kind: str, flag: str, reason: str) -> Entry:
    """A rep logged a touch the lead's consent refuses, overriding it explicitly (leads.queue.services.touch_log)."""
    return Entry(
        HistoryAction.CONSENT_OVERRIDDEN,
        field=flag,
        note=f"{kind} logged despite {_CONSENT_LABELS[flag]}" + (f": {reason}" if reason else ""),
        data={"kind": kind, "flag": flag, "reason": reason},
    )


# --- The first-contact clock --------------------------------------------------------------


def sla_warning(*, due: datetime.datetime, **data: Any) -> Entry:
    return Entry(HistoryAction.SLA_WARNING, field="sla_due_at", new=due.isoformat(), data=data)


def sla_breached(*, due: datetime.datetime, **data: Any) -> Entry:
    return Entry(HistoryAction.SLA_BREACHED, field="sla_due_at", new=due.isoformat(), data=data)


def sla_escalated(*, due: datetime.datetime, **data: Any) -> Entry:
    """Breached and still untouched at the escalation time: the manager and admins were told."""
    return Entry(HistoryAction.SLA_ESCALATED, field="sla_due_at", new=due.isoformat(), data=data)


def sla_reassigned(
    *, old_owner: User, owner: User | None, team: str, reassignment: int, note: str, **data: Any
) -> Entry:
    """The sweep moved a breached lead: to the next eligible rep (`owner`), or to `team`'s unassigned queue (None)."""
    return Entry(
        HistoryAction.REASSIGNED,
        field="owner",
        old=old_owner.username,
        new=owner.username if owner else "",
        note=note,
        data={
            "sla_breach": True,
            "old_owner_id": old_owner.pk,
            "owner_id": owner.pk if owner else None,
            "team": team,
            "reassignment": reassignment,
            **data,
        },
    )


def entries_write(rows: list[tuple[int, Entry]], *, at: datetime.datetime, actor_id: int | None = None) -> None:
    """One history row per (lead id, entry), in one INSERT whatever the number (the sweep's batches)."""
    if not rows:
        return
    # Columns straight from the entries (what `Entry.row` would set): no model instance per row.
    entries = [entry for _, entry in rows]
    insert_set(
        LeadHistory,
        template=LeadHistory(actor_id=actor_id, created_at=at),
        varying={
            "lead_id": [lead_id for lead_id, _ in rows],
            "action": [e.action for e in entries],
            "field": [e.field for e in entries],
            "old_value": [_text(e.old) for e in entries],
            "new_value": [_text(e.new) for e in entries],
            "note": [e.note for e in entries],
            "data": [e.data for e in entries],
        },
        now=at,
    )


# --- In words ---------------------------------------------------------------------------


def _status_label(value: str) -> str:
    return Status(value).label.lower() if value in Status.values else value


# Lead fields whose history values are amounts of settings.CURRENCY.
MONEY_FIELDS = frozenset({"deal_value", "annual_revenue"})


def _field_label(name: str) -> str:
    """The field's label as the forms show it ("deal value"), not its column name."""
    try:
        return str(Lead._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 - a payload may name a field since removed
        return name.replace("_", " ")


def _field_value(name: str, value: str) -> str:
    return money(value) if name in MONEY_FIELDS and value else value


def _moment(value: str, tz: datetime.tzinfo) -> str:
    """A stored ISO timestamp as the reader writes it ("11 Mar 2025, 13:00"), never the raw string."""
    try:
        return date_words(datetime.datetime.fromisoformat(value), tz=tz)
    except ValueError:
        return value


def sentence(row: LeadHistory, users: dict[int, User], tz: datetime.tzinfo = datetime.UTC) -> str:
    """The row in words. `users` holds the users its payload names (see `sentences`); times in `tz`."""
    data = row.data or {}
    who = str(row.actor) if row.actor_id and row.actor else ""

    def person(key: str, fallback: str) -> str:
        user = users.get(data.get(key)) if data.get(key) else None
        return str(user) if user else fallback

    action = row.action
    if action == HistoryAction.CREATED:
        return f"Created by {who}: {row.note}" if who and row.note else (row.note or "Created")
    if action == HistoryAction.UPDATED and row.field == "team":
        return f"Waiting in {row.new_value}'s unassigned queue" + (f" ({row.note})" if row.note else "")
    if action == HistoryAction.UPDATED:
        if row.note and not (row.old_value or row.new_value):
            return f"{row.note} (by {who})" if who else row.note
        if not row.field:
            return f"{who} updated the details" if who else "Details updated"
        label = _field_label(row.field)
        old, new = _field_value(row.field, row.old_value), _field_value(row.field, row.new_value)
        if old and new:
            change = f"{label} changed from {old} to {new}"
        elif new:
            change = f"{label} set to {new}"
        else:
            change = f"{label} cleared (was {old})" if old else f"{label} cleared"
        change = change[:1].upper() + change[1:]
        return f"{change} by {who}" if who else change
    if action == HistoryAction.IMPORTED:
        return row.note.removesuffix(".") if row.note else "Imported"
    if action == HistoryAction.PROMOTED:
        return f"Promoted to the sales queue: {row.note}" if row.note else "Promoted to the sales queue"
    if action == HistoryAction.REASSIGNED and data.get("sla_breach"):
        old = person("old_owner_id", row.old_value)
        if data.get("owner_id"):
            return f"Reassigned from {old} to {person('owner_id', row.new_value)} after a missed first-contact deadline"
        return (
            f"Back in {data.get('team') or 'the team'}'s unassigned queue after {old} missed the deadline ({row.note})"
        )
    if action in (HistoryAction.ASSIGNED, HistoryAction.REASSIGNED):
        owner = person("owner_id", row.new_value)
        if data.get("rule"):
            return f"Assigned to {owner} by rule '{data['rule']}'"
        if action == HistoryAction.REASSIGNED or data.get("old_owner_id") or data.get("by"):
            old = person("old_owner_id", row.old_value)
            moved = f"Reassigned from {old} to {owner}" if old else f"Assigned to {owner}"
            return f"{moved} by {who}" if who else moved
        if who and data.get("owner_id") == row.actor_id:
            return f"{who} took the lead as their own"
        return f"Assigned to {owner}" + (f" ({row.note})" if row.note else "")
    if action == HistoryAction.STATUS_CHANGED:
        moved = f"{_status_label(row.old_value)} → {_status_label(row.new_value)}"
        said = f"{who} moved the lead: {moved}" if who else f"Stage changed: {moved}"
        return f"{said} ({row.note})" if row.note else said
    if action == HistoryAction.FIRST_CONTACT:
        kind, _, outcome = row.note.partition(": ")
        article = "an" if kind[:1].lower() in "aeiou" else "a"
        return f"{who or 'A rep'} logged {article} {kind.lower()}: {outcome.lower()}"
    if action in (HistoryAction.SLA_WARNING, HistoryAction.SLA_BREACHED, HistoryAction.SLA_ESCALATED):
        due = _moment(row.new_value, tz) if row.new_value else ""
        what = {
            HistoryAction.SLA_WARNING: "First contact is due soon",
            HistoryAction.SLA_BREACHED: "First contact is overdue",
            HistoryAction.SLA_ESCALATED: "Still no first contact: escalated to the manager and admins",
        }[action]
        return f"{what} (due {due})" if due else what
    if action == HistoryAction.REJECTED:
        return f"{who or 'Sales'} sent the lead back to marketing: {row.note}" if row.note else "Sent back to marketing"
    if action in (HistoryAction.CONSENT_CHANGED, HistoryAction.CONSENT_OVERRIDDEN):
        said = (
            f"Consent changed: {row.note}"
            if action == HistoryAction.CONSENT_CHANGED
            else row.note[:1].upper() + row.note[1:]
        )
        return f"{said} (by {who})" if who else said
    label = row.get_action_display()
    return f"{label}: {row.note}" if row.note else label


def sentences(
    rows: Iterable[LeadHistory], *, tz: datetime.tzinfo = datetime.UTC, users: dict[int, User] | None = None
) -> list[LeadHistory]:
    """Give each row a `.sentence` (times in the reader's `tz`), the users its payload names fetched in one query.

    Load the rows with select_related("actor"): then a page of history costs two queries.
    `users`: the caller has them already (the brief reads them with its lists), by id.
    """
    rows = list(rows)
    if users is None:
        ids = {row.data.get(key) for row in rows for key in ("owner_id", "old_owner_id") if isinstance(row.data, dict)}
        ids.discard(None)
        users = User.objects.in_bulk(ids) if ids else {}
    for row in rows:
        row.sentence = sentence(row, users, tz)
    return rows
