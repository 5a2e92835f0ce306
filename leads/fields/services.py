"""Writes: declaring custom fields and event kinds, typing attribute values, consent changes."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from leadhandoff.api import ApplicationError
from leads import history
from leads.models import CustomField, CustomFieldKind, EventKind, EventKindDefinition, Lead

from .selectors import custom_field_in_use, event_kind_in_use

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
TEXT_LIMIT = 1000
MAX_CHOICES = 200
YES = {"yes", "y", "true", "t", "1", "on"}
NO = {"no", "n", "false", "f", "0", "off"}
CONSENT_FIELDS = ("do_not_email", "do_not_call", "unsubscribed")
CONSENT_SOURCE_LIMIT = 100


# --- Declaring custom fields -------------------------------------------------


def _choices_clean(kind: str, choices: Any) -> list[str]:
    if kind != CustomFieldKind.CHOICE:
        return []
    items = choices if isinstance(choices, (list, tuple)) else str(choices or "").split(",")
    items = [str(c).strip() for c in items if str(c).strip()]
    if not items:
        raise ApplicationError("A choice field needs its values.", fields={"choices": ["Give at least one value."]})
    if len(items) > MAX_CHOICES:
        raise ApplicationError("Too many values.", fields={"choices": [f"At most {MAX_CHOICES} values."]})
    if len({c.lower() for c in items}) != len(items):
        raise ApplicationError("A value is listed twice.", fields={"choices": ["Each value once."]})
    return items


def custom_field_create(
    *, name: str, label: str, kind: str, choices: Any = (), personal: bool = False, now: datetime.datetime
) -> CustomField:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not NAME_PATTERN.match(name):
        errors["name"] = ["Lower-case letters, digits and _, starting with a letter (at most 50)."]
    if kind not in CustomFieldKind.values:
        errors["kind"] = [f"One of {', '.join(CustomFieldKind.values)}."]
    if not (label or "").strip():
        errors["label"] = ["Give a label."]
    if errors:
        raise ApplicationError("The custom field was not saved.", fields=errors)
    field = CustomField(
        name=name,
        label=label.strip()[:100],
        kind=kind,
        choices=_choices_clean(kind, choices),
        personal=bool(personal),
        created_at=now,
    )
    try:
        with transaction.atomic():
            field.save()
    except IntegrityError:
        raise ApplicationError(
            "The custom field was not saved.", fields={"name": ["A custom field has this name."]}
        ) from None
    return field


def custom_field_update(
    *, field: CustomField, label: str, choices: Any = (), personal: bool = False, kind: str | None = None
) -> CustomField:
    """Label, values and the personal-data flag change; the kind only while no lead holds a value."""
    if kind is not None and kind != field.kind:
        if kind not in CustomFieldKind.values:
            raise ApplicationError("Unknown kind.", fields={"kind": [f"One of {', '.join(CustomFieldKind.values)}."]})
        if custom_field_in_use(name=field.name):
            raise ApplicationError(
                "Leads hold values of this field: its kind cannot change.",
                fields={"kind": ["Leads hold values of this field: its kind cannot change."]},
            )
        field.kind = kind
    if not (label or "").strip():
        raise ApplicationError("The custom field was not saved.", fields={"label": ["Give a label."]})
    field.label = label.strip()[:100]
    field.choices = _choices_clean(field.kind, choices)
    field.personal = bool(personal)
    field.save()
    return field


def custom_field_delete(*, field: CustomField) -> None:
    if custom_field_in_use(name=field.name):
        raise ApplicationError(
            "Leads hold values of this field: it cannot be deleted.",
            fields={"name": ["Leads hold values of this field: it cannot be deleted."]},
        )
    field.delete()


def event_kind_create(*, name: str, label: str, now: datetime.datetime) -> EventKindDefinition:
    name = (name or "").strip()
    if not NAME_PATTERN.match(name) or len(name) > 32:
        raise ApplicationError(
            "The event kind was not saved.",
            fields={"name": ["Lower-case letters, digits and _, starting with a letter (at most 32)."]},
        )
    if name in EventKind.values:
        raise ApplicationError("The event kind was not saved.", fields={"name": ["This kind is built in."]})
    if not (label or "").strip():
        raise ApplicationError("The event kind was not saved.", fields={"label": ["Give a label."]})
    try:
        with transaction.atomic():
            return EventKindDefinition.objects.create(name=name, label=label.strip()[:100], created_at=now)
    except IntegrityError:
        raise ApplicationError("The event kind was not saved.", fields={"name": ["This kind exists."]}) from None


def event_kind_delete(*, kind: EventKindDefinition) -> None:
    if event_kind_in_use(name=kind.name):
        raise ApplicationError(
            "Events of this kind exist: it cannot be deleted.", fields={"name": ["Events of this kind exist."]}
        )
    kind.delete()


# --- Typing values -----------------------------------------------------------


def yes_no_parse(raw: Any) -> bool:
    """A yes/no cell or JSON value; ValueError when it is neither."""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError("must be yes or no")


def custom_value_clean(field: CustomField, raw: Any) -> Any:
    """The stored JSON value of a declared field; ValueError with a reader's message."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    kind = field.kind
    if kind == CustomFieldKind.NUMBER:
        if isinstance(raw, bool):
            raise ValueError("must be a number")
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValueError(f"must be a number, not “{str(raw)[:40]}”") from None
        if not number.is_finite() or abs(number) >= Decimal("1e15"):
            raise ValueError("must be a number below 10^15")
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == CustomFieldKind.DATE:
        text = str(raw).strip()
        try:
            return datetime.date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            raise ValueError(f"must be a date (YYYY-MM-DD), not “{text[:40]}”") from None
    if kind == CustomFieldKind.YES_NO:
        return "yes" if yes_no_parse(raw) else "no"
    text = str(raw).strip()
    if kind == CustomFieldKind.CHOICE:
        by_lower = {c.lower(): c for c in field.choices}
        if text.lower() not in by_lower:
            raise ValueError(f"“{text[:40]}” is not one of {', '.join(field.choices[:10])}")
        return by_lower[text.lower()]
    if len(text) > TEXT_LIMIT:
        raise ValueError(f"is {len(text)} characters long; the limit is {TEXT_LIMIT}")
    return text


def attributes_clean(
    values: Mapping[str, Any], fields: Mapping[str, CustomField]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Type the declared fields among `values` (others are kept as given).

    Returns (clean values, {name: message}) — imports reject the row, the API answers 400.
    """
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, raw in values.items():
        field = fields.get(name)
        if field is None:
            clean[name] = raw
            continue
        try:
            clean[name] = custom_value_clean(field, raw)
        except ValueError as exc:
            errors[name] = f"{field.label}: {exc}"
    return clean, errors


# --- Consent -----------------------------------------------------------------


def consent_changes(*, lead: Lead, flags: Mapping[str, bool]) -> dict[str, dict[str, bool]]:
    """{flag: {"old", "new"}} for the flags whose value differs from the lead's."""
    return {
        name: {"old": getattr(lead, name), "new": bool(value)}
        for name, value in flags.items()
        if name in CONSENT_FIELDS and bool(value) != getattr(lead, name)
    }


def consent_apply(
    *,
    lead: Lead,
    flags: Mapping[str, bool],
    source: str,
    now: datetime.datetime,
    actor=None,
    save: bool = True,
) -> dict[str, dict[str, bool]]:
    """Set consent flags on a lead with the time and source of the change and a history row.

    Returns the changes (empty when nothing changed: no row, no new time).
    """
    changes = consent_changes(lead=lead, flags=flags)
    if not changes:
        return changes
    for name, change in changes.items():
        setattr(lead, name, change["new"])
    lead.consent_changed_at = now
    lead.consent_source = (source or "")[:CONSENT_SOURCE_LIMIT]
    lead.needs_rescore = True  # a gate may require contactability
    if save:
        lead.save(update_fields=[*changes, "consent_changed_at", "consent_source", "needs_rescore", "updated_at"])
    history.consent_changed(changes=changes, source=lead.consent_source).write(lead=lead, at=now, actor=actor)
    return changes


def consent_import(
    *,
    key_field: str,
    flags_by_key: Mapping[str, Mapping[str, bool]],
    source: str,
    now: datetime.datetime,
    actor_id: int | None,
) -> int:
    """Consent flags an import brought, set on the leads its keys name (already written in this transaction).

    Set-based: one read, one UPDATE per flag pattern, one history INSERT. Returns the leads changed.
    """
    if not flags_by_key:
        return 0
    keys = list(flags_by_key)
    if key_field == "email":
        lowered = {k.lower(): k for k in keys}
        leads = _leads_by_email(list(lowered))
        by_key = {lowered[(lead.email or "").lower()]: lead for lead in leads if (lead.email or "").lower() in lowered}
    else:
        leads = Lead.objects.filter(external_id__in=keys).only("id", "external_id", *CONSENT_FIELDS)
        by_key = {lead.external_id: lead for lead in leads}
    entries: list[tuple[int, history.Entry]] = []
    patterns: dict[tuple[tuple[str, bool], ...], list[int]] = {}
    for key, flags in flags_by_key.items():
        lead = by_key.get(key)
        if lead is None:
            continue
        changes = consent_changes(lead=lead, flags=flags)
        if not changes:
            continue
        entries.append((lead.pk, history.consent_changed(changes=changes, source=source)))
        pattern = tuple(sorted((name, change["new"]) for name, change in changes.items()))
        patterns.setdefault(pattern, []).append(lead.pk)
    for pattern, ids in patterns.items():
        Lead.objects.filter(pk__in=ids).update(
            **dict(pattern), consent_changed_at=now, consent_source=source[:CONSENT_SOURCE_LIMIT], needs_rescore=True
        )
    history.entries_write(entries, at=now, actor_id=actor_id)
    return len(entries)


def _leads_by_email(emails: list[str]):
    # lower(email) is what the unique index lead_email_ci_unique holds: an index read.
    return (
        Lead.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
        .only("id", "email", *CONSENT_FIELDS)
    )


# --- Erasure -----------------------------------------------------------------


def personal_data_erase(*, lead: Lead, actor=None, now: datetime.datetime) -> list[str]:
    """Remove the lead's values of personal-data custom fields (an erasure request); returns their names.

    The history row names the fields, never their values.
    """
    personal = set(CustomField.objects.filter(personal=True).values_list("name", flat=True))
    erased = sorted(personal & set(lead.attributes or {}))
    if not erased:
        return []
    lead.attributes = {k: v for k, v in lead.attributes.items() if k not in personal}
    lead.needs_rescore = True
    lead.save(update_fields=["attributes", "needs_rescore", "updated_at"])
    history.updated(field="attributes", note="Personal data erased: " + ", ".join(erased), erased=erased).write(
        lead=lead, at=now, actor=actor
    )
    return erased
