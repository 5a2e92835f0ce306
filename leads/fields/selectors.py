"""Reads of the custom-field and event-kind catalogues."""

from __future__ import annotations

from django.db.models import QuerySet

from leads.models import CustomField, EngagementEvent, EventKind, EventKindDefinition, Lead


def custom_fields_list() -> QuerySet[CustomField]:
    return CustomField.objects.all()


def custom_fields_by_name() -> dict[str, CustomField]:
    return {f.name: f for f in CustomField.objects.all()}


def custom_field_get(*, field_id: int) -> CustomField:
    return CustomField.objects.get(pk=field_id)


def custom_field_filterable(*, for_sales: bool) -> list[CustomField]:
    """Fields a list may filter on: sales never filter on personal data."""
    fields = list(CustomField.objects.all())
    return [f for f in fields if not (for_sales and f.personal)]


def event_kinds_custom() -> QuerySet[EventKindDefinition]:
    return EventKindDefinition.objects.all()


def event_kind_choices() -> list[tuple[str, str]]:
    """Every event kind: the seven built in, then marketing's."""
    return [*EventKind.choices, *((k.name, k.label) for k in EventKindDefinition.objects.all())]


def event_kind_names() -> frozenset[str]:
    return frozenset(EventKind.values) | frozenset(EventKindDefinition.objects.values_list("name", flat=True))


def custom_field_in_use(*, name: str) -> bool:
    """Whether any lead holds a value for the field (its kind then cannot change)."""
    return Lead.objects.filter(attributes__has_key=name).exists()


def event_kind_in_use(*, name: str) -> bool:
    return EngagementEvent.objects.filter(kind=name).exists()


def custom_values(*, lead: Lead) -> list[dict]:
    """The lead's attributes for its page: declared fields by label in their order, then other kept columns."""
    attributes = lead.attributes or {}
    declared = list(CustomField.objects.all())
    rows = [
        {"label": f.label, "name": f.name, "value": attributes.get(f.name), "personal": f.personal, "declared": True}
        for f in declared
    ]
    names = {f.name for f in declared}
    rows += [
        {"label": key, "name": key, "value": value, "personal": False, "declared": False}
        for key, value in attributes.items()
        if key not in names
    ]
    return rows
