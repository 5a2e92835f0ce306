"""Leads and engagement events coming in from marketing's systems.

Two writes, both used by the REST API (leads.intake.apis) and reusable by imports:

- `lead_upsert` creates or updates one lead by its key (email, compared
  case-insensitively, or a source system's external id). Concurrent calls with
  the same key make one lead: the insert runs in a savepoint and, when a
  unique index (lead_email_ci_unique / lead_external_id_unique) says another
  transaction got there first, the existing row is locked and updated instead.
- `events_ingest` takes a batch of up to EVENTS_BATCH_MAX events and stores it
  set-based: one lookup of the leads named, one INSERT ... ON CONFLICT DO NOTHING
  of the leads missing, one insert of the events (ON CONFLICT on
  event_external_id_unique, so a retried batch stores nothing twice), one
  update of last_activity_at/needs_rescore. No per-event ORM queries: the API
  benchmark wants 5,000+ events/s.

Both send leads.signals.lead_activity after commit so scoring can rescore.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, models, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import User
from leadhandoff.api import ApplicationError, ConflictError
from leadhandoff.parsers import text_fault
from leadhandoff.sql import insert_set
from leads import history
from leads.fields.selectors import custom_fields_by_name, event_kind_names
from leads.fields.services import CONSENT_FIELDS, attributes_clean, consent_apply, yes_no_parse
from leads.models import (
    LEAD_PROFILE_FIELDS,
    LEAD_SCORE_PROPERTIES,
    EngagementEvent,
    EventKind,
    Lead,
    LeadHistory,
    Origin,
    Status,
)
from leads.signals import lead_activity

# Lead fields a source system may set. Everything else on a lead (status, owner,
# team, scores, dates of the handoff) belongs to the workflow.
LEAD_INPUT_FIELDS: tuple[str, ...] = (
    *LEAD_PROFILE_FIELDS,
    "rep_source_channel",
    "attributes",
    *CONSENT_FIELDS,
    "consent_source",
)
# Where a consent change came from when the sender does not say (consent_source).
CONSENT_SOURCE_DEFAULT = "API"
LEAD_KEY_FIELDS = ("email", "external_id")
WORKFLOW_FIELDS: frozenset[str] = (
    frozenset(f.name for f in Lead._meta.concrete_fields if f.name not in LEAD_INPUT_FIELDS)
    | frozenset(f.attname for f in Lead._meta.concrete_fields if f.name not in LEAD_INPUT_FIELDS)
    # The score is read-only on Lead yet set by the workflow: a sender writing it
    # is told so, not that the field is unknown.
    | frozenset(LEAD_SCORE_PROPERTIES)
)

WORKFLOW_FIELD_MESSAGE = "This field is set by the lead workflow and cannot be written through intake."
UNKNOWN_FIELD_MESSAGE = "Unknown field."
KEY_MISSING_MESSAGE = "Give the lead's email or external_id."

# Where a lead came from is a fact of its creation: the comparison of marketing
# and rep-sourced leads depends on it, so no later upsert or import rewrites it.
# Only an admin corrects it (leads.admin, with a history row).
ORIGIN_FIELDS = ("origin", "rep_source_channel")

EVENTS_BATCH_MAX = 1000
EVENT_FIELDS = frozenset({"kind", "occurred_at", "properties", "external_id", "email", "lead_external_id"})
EVENT_KINDS = frozenset(EventKind.values)
# Clocks drift; an event stamped a little ahead of ours is still believable.
EVENT_FUTURE_TOLERANCE = datetime.timedelta(minutes=5)
# No engagement event predates the web; earlier dates are typos (year 1 with a
# time zone even overflowed the conversion to UTC, a 500).
EVENT_EARLIEST = datetime.datetime(1990, 1, 1, tzinfo=datetime.UTC)


# --- Leads ------------------------------------------------------------------


def lead_data_clean(data: Mapping[str, Any]) -> dict[str, Any]:
    """Check a lead payload against the model; raise ApplicationError naming every bad field.

    Returns the cleaned values (email and external_id stripped, blank keys as None).
    Callers with their own validation (the API serializer) still pass through
    here, so a lead is never written from a value the model would refuse.
    """
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name, value in data.items():
        if name in WORKFLOW_FIELDS:
            errors[name] = [WORKFLOW_FIELD_MESSAGE]
            continue
        if name not in LEAD_INPUT_FIELDS:
            errors[name] = [UNKNOWN_FIELD_MESSAGE]
            continue
        model_field = Lead._meta.get_field(name)
        if name in LEAD_KEY_FIELDS:
            value = (value or "").strip() if isinstance(value, str) or value is None else value
            value = value or None
        elif value is None and not model_field.null:
            value = "" if isinstance(model_field, models.CharField) else value
        if name == "attributes" and not isinstance(value, dict):
            errors[name] = ["Give a JSON object."]
            continue
        if name == "attributes":
            # Declared custom fields are typed (leads.fields); other keys are kept as sent.
            value, faults = attributes_clean(value, custom_fields_by_name())
            if faults:
                errors[name] = [faults[key] for key in sorted(faults)]
                continue
        if name in CONSENT_FIELDS:
            try:
                clean[name] = yes_no_parse(value)
            except ValueError:
                errors[name] = ["Give true or false."]
            continue
        fault = text_fault(value, name)
        if fault:  # NUL or a lone surrogate: PostgreSQL cannot store it
            errors[name] = [fault[1] if fault[0] == name else f"{fault[0]}: {fault[1]}"]
            continue
        try:
            clean[name] = model_field.clean(value, None)
        except ValidationError as exc:
            errors[name] = list(exc.messages)
    if not errors and not (clean.get("email") or clean.get("external_id")):
        errors["email"] = [KEY_MISSING_MESSAGE]
    if errors:
        raise ApplicationError("The lead was not saved: fix the fields named.", fields=errors)
    return clean


def _lead_by_key_locked(*, email: str | None, external_id: str | None) -> Lead | None:
    """The lead a key names, locked for the rest of the transaction.

    The external id is the stronger key (a source system's own id); the email
    decides only when no lead carries the external id.
    """
    qs = Lead.objects.select_for_update(of=("self",))
    if external_id:
        lead = qs.filter(external_id__isnull=False, external_id=external_id).first()
        if lead is not None:
            return lead
    if email:
        return (
            qs.filter(email__isnull=False)
            .alias(email_ci=Lower("email"))
            .filter(email_ci=email.lower())
            .order_by()
            .first()
        )
    return None


def _on_commit_activity(lead_ids: Sequence[int]) -> None:
    ids = list(lead_ids)
    if ids:
        transaction.on_commit(lambda: lead_activity.send(sender=Lead, lead_ids=ids))


def _history_value(value: Any) -> Any:
    """JSON-friendly value for a history row's data."""
    if value is None or isinstance(value, str | int | float | bool | dict | list):
        return value
    return str(value)


def lead_upsert(*, data: Mapping[str, Any], actor: User | None, now: datetime.datetime) -> tuple[Lead, bool]:
    """Create or update the lead that `data`'s key names; returns (lead, created).

    Only fields present in `data` change; `attributes` merges into the stored
    ones. Workflow fields (status, owner, scores...) are refused. A change marks
    the lead for rescoring, writes a history row and, after commit, sends
    lead_activity. Raises ApplicationError (400) naming bad fields and
    ConflictError (409) when the keys point at two different leads.
    """
    clean = lead_data_clean(data)
    # Consent is written apart, with its own time, source and history row (leads.fields.services).
    consent = {name: clean.pop(name) for name in CONSENT_FIELDS if name in clean}
    source = clean.pop("consent_source", "") or CONSENT_SOURCE_DEFAULT
    email, external_id = clean.get("email"), clean.get("external_id")
    with transaction.atomic():
        lead = _lead_by_key_locked(email=email, external_id=external_id)
        if lead is None:
            lead = Lead(created_at=now, status=Status.NURTURE, needs_rescore=True, **clean)
            lead.origin = clean.get("origin") or Origin.MARKETING
            try:
                with transaction.atomic():  # savepoint: a lost race must not doom the outer transaction
                    lead.save(force_insert=True)
            except IntegrityError:
                # Another transaction created the key between our lookup and insert
                # (the unique index waited for it to commit): update that lead instead.
                lead = _lead_by_key_locked(email=email, external_id=external_id)
                if lead is None:
                    raise
            else:
                history.created(
                    note="Created through intake.",
                    fields=sorted(k for k, v in clean.items() if v not in (None, "", {})),
                ).write(lead=lead, at=now, actor=actor)
                consent_apply(lead=lead, flags=consent, source=source, now=now, actor=actor)
                _on_commit_activity([lead.pk])
                return lead, True
        _lead_apply_changes(lead=lead, clean=clean, actor=actor, now=now)
        if consent_apply(lead=lead, flags=consent, source=source, now=now, actor=actor):
            _on_commit_activity([lead.pk])
    return lead, False


def _lead_apply_changes(*, lead: Lead, clean: dict[str, Any], actor: User | None, now: datetime.datetime) -> None:
    if clean.get("external_id") and lead.external_id and clean["external_id"] != lead.external_id:
        raise ConflictError(
            "This email belongs to a lead with another external id.",
            fields={"external_id": [f"The lead with this email has external id {lead.external_id!r}."]},
        )
    refusals = {
        name: [message]
        for name in ORIGIN_FIELDS
        if name in clean and (message := origin_change_refusal(name, getattr(lead, name), clean[name]))
    }
    if refusals:
        raise ApplicationError("The lead was not saved: its origin cannot be changed.", fields=refusals)
    changed: dict[str, dict[str, Any]] = {}
    for name, value in clean.items():
        old = getattr(lead, name)
        if name == "attributes":
            value = {**(old or {}), **value}
        if name == "email" and value is None:
            continue  # a key is never removed by omission or blank
        if name == "email" and old and value and old.lower() == value.lower():
            continue  # same key, different case: keep the stored spelling
        if name == "external_id" and value is None:
            continue
        if old != value:
            changed[name] = {"old": _history_value(old), "new": _history_value(value)}
            setattr(lead, name, value)
    if not changed:
        return
    lead.needs_rescore = True
    try:
        with transaction.atomic():
            lead.save(update_fields=[*changed, "needs_rescore", "updated_at"])
    except IntegrityError as exc:
        taken = "email" if "email" in changed else "external_id"
        raise ConflictError(
            "Another lead already has this key.", fields={taken: ["Another lead already has this value."]}
        ) from exc
    history.updated(
        field=next(iter(changed)) if len(changed) == 1 else "",
        note="Updated through intake: " + ", ".join(sorted(changed)),
        changed=changed,
    ).write(lead=lead, at=now, actor=actor)
    _on_commit_activity([lead.pk])


def origin_change_refusal(name: str, old: Any, new: Any) -> str | None:
    """Why `name` (origin or rep_source_channel) may not go from `old` to `new`; None when it is unchanged."""
    if name not in ORIGIN_FIELDS or (old or "") == (new or ""):
        return None
    label = "origin" if name == "origin" else "rep source channel"
    return (
        f"The {label} is set when a lead is created and cannot be changed here"
        f" (this lead's is {old or 'empty'!r}); an admin can correct it."
    )


# --- Events -----------------------------------------------------------------


@dataclass
class IngestResult:
    received: int = 0
    # Valid events: newly stored plus those a retry had already stored.
    accepted: int = 0
    stored: int = 0
    duplicates: int = 0
    leads_created: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    lead_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _Event:
    index: int
    kind: str
    occurred_at: datetime.datetime
    properties: dict
    external_id: str | None
    email: str | None  # lower-cased
    email_raw: str | None
    lead_external_id: str | None
    lead_id: int | None = None


def _parse_when(value: Any) -> datetime.datetime:
    if not isinstance(value, str):
        raise ValueError
    when = datetime.datetime.fromisoformat(value)
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    return when.astimezone(datetime.UTC)  # OverflowError at the edges of the calendar


def _event_clean(
    index: int,
    raw: Any,
    now: datetime.datetime,
    emails_ok: dict[str, bool],
    kinds: Callable[[], frozenset[str]] = lambda: EVENT_KINDS,
) -> _Event | dict:
    """One event checked in plain Python (the batch path cannot afford a serializer per event).

    Returns the event or the rejection {"index", "fields"}.
    """
    if not isinstance(raw, dict):
        return {"index": index, "fields": {"non_field_errors": ["Give the event as a JSON object."]}}
    errors: dict[str, list[str]] = {}
    for name in raw.keys() - EVENT_FIELDS:
        # A name that cannot be stored cannot be echoed back either (the answer is UTF-8).
        errors[str(name) if text_fault(str(name)) is None else ascii(name)] = [UNKNOWN_FIELD_MESSAGE]

    kind = raw.get("kind")
    if kind is None or kind == "":
        errors["kind"] = ["This field is required."]
    elif not isinstance(kind, str) or (kind not in EVENT_KINDS and kind not in kinds()):
        errors["kind"] = [f"{str(kind)[:50]!r} is not a known event kind."]

    occurred_at = None
    raw_when = raw.get("occurred_at")
    if raw_when is None or raw_when == "":
        errors["occurred_at"] = ["This field is required."]
    else:
        try:
            occurred_at = _parse_when(raw_when)
        except (ValueError, TypeError, OverflowError):
            errors["occurred_at"] = ["Give an ISO 8601 date and time, e.g. 2025-01-31T14:05:00Z."]
        else:
            if occurred_at > now + EVENT_FUTURE_TOLERANCE:
                errors["occurred_at"] = ["The event cannot have happened in the future."]
            elif occurred_at < EVENT_EARLIEST:
                errors["occurred_at"] = [f"Give a date from {EVENT_EARLIEST:%Y-%m-%d} on."]

    properties = raw.get("properties")
    if properties is None:
        properties = {}
    elif not isinstance(properties, dict):
        errors["properties"] = ["Give a JSON object."]
    elif fault := text_fault(properties, "properties"):  # NUL or a lone surrogate: jsonb cannot store it
        errors["properties"] = [fault[1] if fault[0] == "properties" else f"{fault[0]}: {fault[1]}"]

    values: dict[str, str | None] = {}
    for name, limit in (("external_id", 100), ("lead_external_id", 100), ("email", 254)):
        value = raw.get(name)
        if value is None:
            values[name] = None
        elif not isinstance(value, str):
            errors[name] = ["Give a string."]
        elif fault := text_fault(value, name):
            errors[name] = [fault[1]]
        else:
            value = value.strip()
            if len(value) > limit:
                errors[name] = [f"Ensure this field has no more than {limit} characters."]
            values[name] = value or None

    email_raw = values.get("email")
    email = email_raw.lower() if email_raw else None
    if email and "email" not in errors:
        if email not in emails_ok:
            try:
                validate_email(email)
                emails_ok[email] = True
            except ValidationError:
                emails_ok[email] = False
        if not emails_ok[email]:
            errors["email"] = ["Enter a valid email address."]
    if not email and not values.get("lead_external_id") and "email" not in errors:
        errors["email"] = ["Give the lead's email or lead_external_id."]

    if errors:
        return {"index": index, "fields": errors}
    return _Event(
        index=index,
        kind=kind,
        occurred_at=occurred_at,
        properties=properties,
        external_id=values["external_id"],
        email=email,
        email_raw=email_raw,
        lead_external_id=values["lead_external_id"],
    )


def _leads_by_keys(emails: Iterable[str], external_ids: Iterable[str]) -> tuple[dict[str, int], dict[str, int]]:
    """One query: lead ids by lower-cased email and by external id."""
    emails, external_ids = list(emails), list(external_ids)
    if not emails and not external_ids:
        return {}, {}
    with connection.cursor() as cursor:
        # The IS NOT NULL terms match the partial unique indexes' predicates so
        # the planner uses lead_email_ci_unique and lead_external_id_unique.
        cursor.execute(
            "SELECT id, lower(email), external_id FROM leads_lead"
            " WHERE (email IS NOT NULL AND lower(email) = ANY(%s::text[]))"
            " OR (external_id IS NOT NULL AND external_id = ANY(%s::text[]))",
            [emails, external_ids],
        )
        rows = cursor.fetchall()
    wanted_emails, wanted_ext = set(emails), set(external_ids)
    by_email = {email: pk for pk, email, _ in rows if email in wanted_emails}
    by_ext = {ext: pk for pk, _, ext in rows if ext in wanted_ext}
    return by_email, by_ext


def _leads_create_missing(
    events: list[_Event], by_email: dict[str, int], by_ext: dict[str, int], *, now: datetime.datetime
) -> list[int]:
    """Create the nurture leads unknown emails name, set-based; returns the ids this call created.

    ON CONFLICT DO NOTHING (any unique index): a lead another transaction
    created meanwhile is picked up by the lookup that follows, never duplicated.
    """
    wanted: dict[str, tuple[str, str | None]] = {}
    for event in events:
        if event.lead_id is None and event.email and event.email not in wanted:
            wanted[event.email] = (event.email_raw, event.lead_external_id)
    if not wanted:
        return []
    created: list[int] = []
    for with_external_id in (True, False):
        missing = sorted(e for e in wanted if e not in by_email)  # a fixed order: concurrent batches lock alike
        if not missing:
            break
        used_ext: set[str] = set()
        emails_raw, external_ids = [], []
        for email in missing:
            email_raw, ext = wanted[email]
            if not with_external_id or not ext or ext in used_ext or ext in by_ext:
                ext = None
            else:
                used_ext.add(ext)
            emails_raw.append(email_raw)
            external_ids.append(ext)
        rows = insert_set(
            Lead,
            template=Lead(status=Status.NURTURE, origin=Origin.MARKETING, created_at=now, needs_rescore=True),
            varying={"email": emails_raw, "external_id": external_ids},
            now=now,
            suffix="ON CONFLICT DO NOTHING RETURNING id, lower(email)",
        )
        for pk, email in rows:
            by_email[email] = pk
            created.append(pk)
        still = [e for e in missing if e not in by_email]
        if still:
            found, _ = _leads_by_keys(still, [])
            by_email.update(found)
    return created


def events_ingest(*, events: Sequence[Any], actor: User | None, now: datetime.datetime) -> IngestResult:
    """Store a batch of engagement events; valid ones are kept even when others are refused.

    Raises ApplicationError when the batch itself is unusable (empty or more
    than EVENTS_BATCH_MAX). Each event names its lead by `email` (an unknown
    email creates the nurture lead) or `lead_external_id` (which must exist).
    """
    if not isinstance(events, list | tuple):
        raise ApplicationError("Give one event object or a list of events.")
    if not events:
        raise ApplicationError("The batch is empty.", fields={"non_field_errors": ["Give at least one event."]})
    if len(events) > EVENTS_BATCH_MAX:
        raise ApplicationError(
            f"A batch holds at most {EVENTS_BATCH_MAX} events; this one has {len(events)}.",
            fields={"non_field_errors": [f"Send at most {EVENTS_BATCH_MAX} events per request."]},
        )
    result = IngestResult(received=len(events))
    valid: list[_Event] = []
    emails_ok: dict[str, bool] = {}
    # Marketing's kinds are read once, and only for a batch that names a kind not built in.
    kinds = functools.cache(event_kind_names)
    for index, raw in enumerate(events):
        cleaned = _event_clean(index, raw, now, emails_ok, kinds)
        if isinstance(cleaned, _Event):
            valid.append(cleaned)
        else:
            result.rejected.append(cleaned)
    if not valid:
        return result
    with transaction.atomic():
        by_email, by_ext = _leads_by_keys(
            {e.email for e in valid if e.email}, {e.lead_external_id for e in valid if e.lead_external_id}
        )
        for event in valid:
            event.lead_id = (event.lead_external_id and by_ext.get(event.lead_external_id)) or (
                event.email and by_email.get(event.email)
            )
        created = _leads_create_missing(valid, by_email, by_ext, now=now)
        if created:
            insert_set(
                LeadHistory,
                template=history.created(note="Created by an engagement event.", via="events").row(
                    lead_id=0, at=now, actor_id=actor.pk if actor else None
                ),
                varying={"lead_id": created},
                now=now,
            )
        stored_events = []
        for event in valid:
            if event.lead_id is None and event.email:
                event.lead_id = by_email.get(event.email)
            if event.lead_id is None:
                field_name = "email" if event.email else "lead_external_id"
                message = "The lead could not be created; retry." if event.email else "No lead has this external id."
                result.rejected.append({"index": event.index, "fields": {field_name: [message]}})
                continue
            stored_events.append(event)

        rows = insert_set(
            EngagementEvent,
            template=EngagementEvent(),
            varying={
                "lead_id": [e.lead_id for e in stored_events],
                "kind": [e.kind for e in stored_events],
                "occurred_at": [e.occurred_at for e in stored_events],
                "properties": [e.properties for e in stored_events],
                "external_id": [e.external_id for e in stored_events],
            },
            now=now,
            # Only the sender's event id may collide: a retried batch stores nothing twice.
            suffix="ON CONFLICT (external_id) WHERE external_id IS NOT NULL DO NOTHING RETURNING lead_id, occurred_at",
        )
        latest: dict[int, datetime.datetime] = {}
        for lead_id, occurred_at in rows:
            if lead_id not in latest or occurred_at > latest[lead_id]:
                latest[lead_id] = occurred_at
        if latest:
            _leads_touch(latest)
        result.accepted = len(stored_events)
        result.stored = len(rows)
        result.duplicates = result.accepted - result.stored
        result.leads_created = len(created)
        result.lead_ids = sorted(set(latest) | set(created))
        _on_commit_activity(result.lead_ids)
    result.rejected.sort(key=lambda r: r["index"])
    return result


def _leads_touch(latest: dict[int, datetime.datetime]) -> None:
    """One UPDATE: newest activity and the rescore flag for every lead with new events.

    The rows are locked in id order first so two batches touching the same
    leads wait for each other instead of deadlocking. last_activity_at only
    moves forward (GREATEST ignores NULL).
    """
    ids = sorted(latest)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE leads_lead AS l SET last_activity_at = GREATEST(l.last_activity_at, v.ts), needs_rescore = true"
            " FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, ts)"
            " WHERE l.id = v.id AND l.id IN ("
            "  SELECT id FROM leads_lead WHERE id = ANY(%s::bigint[]) ORDER BY id FOR NO KEY UPDATE)"
            # A row version costs an entry in each of the lead's indexes: skip leads already up to date.
            " AND (NOT l.needs_rescore OR l.last_activity_at IS NULL OR l.last_activity_at < v.ts)",
            [ids, [latest[pk] for pk in ids], ids],
        )
