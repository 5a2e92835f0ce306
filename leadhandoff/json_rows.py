"""Model instances from PostgreSQL's JSON of their rows.

The pages a rep opens fifty times a day read several tables in one hand-written statement
(the brief's lead with its owner, team and score; its engagement, touches, history and
clocks) instead of one ORM query each: compiling those queries cost more CPU than running
them. Each table's rows come back as JSON and are turned into the instances the ORM would
have built; the tests hold every field equal to the ORM's.
"""

import datetime

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import DateField, DateTimeField, DecimalField, DurationField, Model


def row_json(model: type[Model], alias: str) -> str:
    """SQL: the row `alias` of `model` as json, its decimals as text (a JSON number would be read
    back as a float, 12000.50 as 12000.5). json, not jsonb: Django has psycopg2 hand jsonb back
    as text, json it decodes."""
    decimals = [f.column for f in model._meta.concrete_fields if isinstance(f, DecimalField)]
    if not decimals:
        return f"to_json({alias})"
    as_text = ", ".join(f"'{c}', {alias}.{c}::text" for c in decimals)
    return f"(to_jsonb({alias}) || jsonb_build_object({as_text}))::json"


def value_from_json(value, field):
    """A column's value as the ORM gives it, from the JSON of its row."""
    if value is None:
        return None
    if isinstance(field, ArrayField):
        return [value_from_json(item, field.base_field) for item in value]
    if isinstance(field, DateTimeField):
        return datetime.datetime.fromisoformat(value)
    if isinstance(field, (DateField, DecimalField, DurationField)):
        return field.to_python(value)
    return value  # text, numbers, booleans and JSON come as they are


def instance_from_json(model: type[Model], row: dict | None) -> Model | None:
    if row is None:
        return None
    fields = model._meta.concrete_fields
    return model.from_db(
        connection.alias, [f.attname for f in fields], [value_from_json(row[f.column], f) for f in fields]
    )


def instances_from_json(model: type[Model], rows: list[dict] | None) -> list[Model]:
    return [instance_from_json(model, row) for row in rows or ()]


def related_cache(instances: list[Model], name: str, objects_by_id: dict) -> None:
    """Cache each instance's foreign key `name` from `objects_by_id`, as select_related would:
    reading instance.<name> is then no query, and the stored id is left as it is."""
    if not instances:
        return
    field = type(instances[0])._meta.get_field(name)
    for instance in instances:
        key = getattr(instance, field.attname)
        if key is not None:
            field.set_cached_value(instance, objects_by_id.get(key))
