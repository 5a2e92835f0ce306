"""Set-based SQL the apps share."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models


def insert_set(
    model: type[models.Model],
    *,
    template: models.Model,
    varying: Mapping[str, Sequence[Any]],
    now: datetime.datetime,
    suffix: str = "",
) -> list[tuple]:
    """One INSERT ... SELECT FROM unnest(...) for any number of rows.

    `varying` maps attnames to one list of values per row; every other column
    takes `template`'s value (its defaults, as the ORM would save them) and
    auto_now columns take the operation's `now`. One statement whatever the
    number of rows, with no model instance per row: the hot path of the events
    API (leads.intake.services) and of routing's history rows (leads.routing.services).
    `suffix` (ON CONFLICT ..., RETURNING ...) is fixed text from the caller.
    """
    # The wrapper itself, not the thread-local proxy: the per-value prep below
    # would otherwise pay a proxy lookup for every value of a 1,000-event batch.
    conn = connections[DEFAULT_DB_ALIAS]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    by_attname = {f.attname: f for f in fields}
    qn = conn.ops.quote_name
    select: list[str] = []
    constants: list[Any] = []
    for f in fields:
        if f.attname in varying:
            select.append(f"t.{qn(f.attname)}")
            continue
        stamped = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        select.append(f"%s::{f.cast_db_type(conn)}")
        constants.append(f.get_db_prep_save(now if stamped else getattr(template, f.attname), conn))
    arrays = [array_param(_prepared(by_attname[name], values, conn)) for name, values in varying.items()]
    unnest = ", ".join(f"%s::{by_attname[name].cast_db_type(conn)}[]" for name in varying)
    # Only quoted identifiers and types from the model's metadata, placeholders
    # and the caller's constant suffix are formatted in; every value is a parameter.
    table, columns = qn(model._meta.db_table), ", ".join(qn(f.column) for f in fields)
    aliases = ", ".join(qn(name) for name in varying)
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT {', '.join(select)}"  # noqa: S608
        f" FROM unnest({unnest}) AS t({aliases}) {suffix}"
    )
    with conn.cursor() as cursor:
        cursor.execute(sql, [*constants, *arrays])
        return cursor.fetchall() if "RETURNING" in suffix else []


# Columns whose prep returns a value of their Python type unchanged: ids, numbers, strings (a
# str-valued choice is a str). Their values go to the driver as they are; the per-value
# get_db_prep_save was a fifth of the sweep's Python time on 100,000 due clocks (bench/sla.py).
_PLAIN = ((models.BooleanField, bool), (models.IntegerField, int), (models.CharField, str), (models.TextField, str))


def _fits(types: set[type], python_type: type) -> bool:
    # A bool is an int subclass but not an integer column's value; a str subclass is a str.
    types.discard(type(None))
    if python_type is str:
        return all(issubclass(t, str) for t in types)
    return types <= {python_type}


def _prepared(field: models.Field, values: Sequence[Any], conn) -> list:
    """The values as the driver takes them: as they are where the prep would not change them."""
    target = field.target_field if field.is_relation else field
    plain = next((python_type for kind, python_type in _PLAIN if isinstance(target, kind)), None)
    if plain is not None and _fits(set(map(type, values)), plain):
        return list(values)
    prep = field.get_db_prep_save
    return [prep(value, conn) for value in values]


def _element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | Decimal):
        return str(value)
    text = value.isoformat() if isinstance(value, datetime.date) else value
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def array_param(values: Sequence[Any]) -> str | list:
    """A list of values as one parameter for `%s::type[]`: PostgreSQL's array text ('{1,"a b",NULL}').

    The driver would send a list as ARRAY[v1, v2, …], which the server parses as one
    expression per element: for a batch of 4,000 notifications that took 100 ms where
    the array text takes 20 ms (bench/sla.py). Values of other types (a JSON adapter,
    a float) leave the list as it is. Datetimes are aware (the app's are), so their ISO
    text keeps the offset. Columns of one type are joined in one go (the sweep's hot path).
    """
    types = set(map(type, values))
    if not values:
        return "{}"
    if types <= {int}:
        return "{" + ",".join(map(str, values)) + "}"
    if all(issubclass(t, str) for t in types):
        # Joined on NUL (which no PostgreSQL text holds), escaped once, split into quoted elements.
        text = "\x00".join(values)
        if text.count("\x00") == len(values) - 1:
            return '{"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\x00", '","') + '"}'
    if all(value is None or isinstance(value, _ARRAY_TEXT_TYPES) for value in values):
        return "{" + ",".join(map(_element, values)) + "}"
    return list(values)


_ARRAY_TEXT_TYPES = (str, int, Decimal, datetime.date)


# Fewer rows than this and autovacuum's own ANALYZE is soon enough.
ANALYZE_AFTER_ROWS = 1000


def tables_analyze(*tables: str, rows: int | None = None) -> bool:
    """ANALYZE the tables a bulk write just filled, so the next query is planned on
    today's data, not on an empty table's statistics.

    After a bulk import or the demo seed the planner had none: a definition preview
    then ran for minutes (54 minutes on the freshly seeded demo) instead of seconds.
    `rows`: how many rows the write touched; under ANALYZE_AFTER_ROWS nothing is done.
    Table names are fixed text from the caller. Returns whether it ran.
    """
    if rows is not None and rows < ANALYZE_AFTER_ROWS:
        return False
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(tables))  # noqa: S608 - fixed table names
    return True
