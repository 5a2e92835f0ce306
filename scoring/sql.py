"""A definition version compiled to one SQL SELECT: the set-based scoring path.

`scores_select_sql(definition, now=...)` returns (sql, params) for a query with one
row per lead:

    lead_id, total, fit, behaviour, passes_gates, qualifies, rule_points, gates_passed

computed exactly as scoring.engine.evaluate computes them (same normalisation,
windows, decay and rounding; see that module's docstring). rule_points and
gates_passed (jsonb arrays) are the explanation in compact form, as
leads.LeadScore stores it: the points of each fit then behaviour rule (null
where it did not fire) and each gate's verdict, in the definition's order.
Events are aggregated once per lead, one FILTER clause per behaviour rule. Every value that comes from a
rule (field values, labels, ids, points, custom field names) travels as a query
parameter; only column names from rules.LEAD_FIELDS and fixed SQL text are written
into the statement.

`where_sql` restricts the leads (the table is aliased `l`, e.g. "l.status = %s");
its params are `where_params`. The restriction is applied to the events too, so
scoring a handful of leads reads only their events. `id_range=(low, high)` keeps
leads with low < id <= high and reads only their events by index range: the
chunks of a whole-pool rescore (scoring.scoring.pool_rescore).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from .engine import BEHAVIOUR_RULE_LIMIT, MAX_HALF_LIVES, number_value, text_normalise
from .rules import (
    ATTRIBUTE_PREFIX,
    LEAD_FIELDS,
    BehaviourRule,
    Definition,
    FitRule,
    GateRule,
    field_kind,
    operator_split,
)

# Trim set of scoring.engine.TRIM_CHARS as an escape string constant.
_TRIM_SQL = r"E' \t\n\r'"
_NUMBER_COLUMNS = {"company_size": "l.company_size", "annual_revenue": "l.annual_revenue"}
# Consent as yes/no text (engine.yes_no_normalise of the lead's booleans).
_YES_NO_COLUMNS = {
    "do_not_email": "CASE WHEN l.do_not_email THEN 'yes' ELSE 'no' END",
    "do_not_call": "CASE WHEN l.do_not_call THEN 'yes' ELSE 'no' END",
    "unsubscribed": "CASE WHEN l.unsubscribed THEN 'yes' ELSE 'no' END",
    "contactable": "CASE WHEN l.do_not_email OR l.do_not_call OR l.unsubscribed THEN 'no' ELSE 'yes' END",
}
# engine._NUMBER_TEXT, as a PostgreSQL regular expression.
_NUMBER_TEXT = r"^[ \t\n\r]*[-+]?[0-9]+(\.[0-9]*)?[ \t\n\r]*$"


class _Sql:
    """SQL text and its positional params, built in textual order."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list[Any] = []

    def add(self, text: str, *params: Any) -> _Sql:
        self.parts.append(text)
        self.params.extend(params)
        return self

    def text(self) -> str:
        return "".join(self.parts)


def _text_column(field_name: str) -> str:
    if field_name == "email_domain":
        # The part after the last "@" (greedy match), like engine.email_domain.
        raw = "regexp_replace(coalesce(l.email, ''), '^.*@', '')"
    else:
        if LEAD_FIELDS.get(field_name) != "text":
            raise ValueError(f"Unknown text field {field_name!r}")
        raw = f"coalesce(l.{field_name}, '')"
    return f"lower(btrim({raw}, {_TRIM_SQL}))"


def _attribute_key(field_name: str) -> str:
    return field_name[len(ATTRIBUTE_PREFIX) :]


def _attribute_text(field_name: str, q: _Sql) -> None:
    """engine.text_normalise of the attribute's JSON text (the key travels as a param)."""
    q.add(f"lower(btrim(coalesce(l.attributes->>%s, ''), {_TRIM_SQL}))", _attribute_key(field_name))


def _attribute_yes_no(field_name: str, q: _Sql) -> None:
    """engine.yes_no_normalise: a JSON boolean is yes/no, anything else its normalised text."""
    key = _attribute_key(field_name)
    q.add("(CASE WHEN jsonb_typeof(l.attributes->%s) = 'boolean' THEN", key)
    q.add(" CASE WHEN (l.attributes->>%s)::boolean THEN 'yes' ELSE 'no' END ELSE ", key)
    _attribute_text(field_name, q)
    q.add(" END)")


def _attribute_number(field_name: str, q: _Sql) -> None:
    """engine.attribute_number: a JSON number, or a string that is a plain decimal; else NULL."""
    key = _attribute_key(field_name)
    q.add("(CASE WHEN jsonb_typeof(l.attributes->%s) = 'number' THEN (l.attributes->>%s)::numeric", key, key)
    q.add(
        " WHEN jsonb_typeof(l.attributes->%s) = 'string' AND (l.attributes->>%s) ~ %s"
        " THEN btrim(l.attributes->>%s, " + _TRIM_SQL + ")::numeric END)",
        key,
        key,
        _NUMBER_TEXT,
        key,
    )


def _text_value(rule: FitRule | GateRule, q: _Sql) -> None:
    """The normalised text (or yes/no) value a text, date or yes/no rule compares."""
    kind = field_kind(rule.field, rule.kind)
    if rule.field.startswith(ATTRIBUTE_PREFIX):
        (_attribute_yes_no if kind == "yes_no" else _attribute_text)(rule.field, q)
    elif kind == "yes_no":
        q.add(_YES_NO_COLUMNS[rule.field])
    else:
        q.add(_text_column(rule.field))


def _condition(rule: FitRule | GateRule, q: _Sql) -> None:
    """Append a boolean expression that is never NULL (see engine.condition_holds)."""
    positive, negate = operator_split(rule.op)
    q.add("(NOT " if negate else "(")
    kind = field_kind(rule.field, rule.kind)
    if kind == "date":
        # Ordered as text, byte by byte (engine._date_holds compares code points: the same order in UTF-8).
        value = _Sql()
        _text_value(rule, value)
        column = value.text() + ' COLLATE "C"'
        params = value.params
        if positive == "is_empty":
            q.add(f"{column} = ''", *params)
        else:
            q.add(f"({column} <> '' AND ", *params)
            if positive == "equals":
                q.add(f"{column} = %s", *params, rule.value)
            elif positive == "one_of":
                q.add(f"{column} = ANY(%s::text[])", *params, sorted(rule.value))
            elif positive == "gt":
                q.add(f"{column} > %s", *params, rule.value)
            elif positive == "lt":
                q.add(f"{column} < %s", *params, rule.value)
            elif positive == "between":
                q.add(f"{column} BETWEEN %s AND %s", *params, rule.value[0], rule.value[1])
            else:
                raise ValueError(f"Operator {rule.op!r} does not apply to date fields")
            q.add(")")
    elif kind in ("text", "yes_no"):
        value = _Sql()
        _text_value(rule, value)
        column, params = value.text(), value.params
        if positive == "equals":
            q.add(f"{column} = %s", *params, text_normalise(rule.value))
        elif positive == "one_of":
            q.add(f"{column} = ANY(%s::text[])", *params, sorted({text_normalise(v) for v in rule.value}))
        elif positive == "contains":
            q.add(f"strpos({column}, %s) > 0", *params, text_normalise(rule.value))
        elif positive == "is_empty":
            q.add(f"{column} = ''", *params)
        else:
            raise ValueError(f"Operator {rule.op!r} does not apply to text fields")
    elif rule.field.startswith(ATTRIBUTE_PREFIX):
        value = _Sql()
        _attribute_number(rule.field, value)
        _number_condition(positive, rule, value.text(), value.params, q)
    else:
        _number_condition(positive, rule, _NUMBER_COLUMNS[rule.field], [], q)
    q.add(")")


def _number_condition(positive: str, rule: FitRule | GateRule, column: str, params: list[Any], q: _Sql) -> None:
    if positive == "is_empty":
        q.add(f"{column} IS NULL", *params)
    elif positive in ("equals", "contains"):
        q.add(f"coalesce({column} = %s::numeric, false)", *params, number_value(rule.value))
    elif positive == "one_of":
        q.add(f"coalesce({column} = ANY(%s::numeric[]), false)", *params, [number_value(v) for v in rule.value])
    elif positive == "gt":
        q.add(f"coalesce({column} > %s::numeric, false)", *params, number_value(rule.value))
    elif positive == "lt":
        q.add(f"coalesce({column} < %s::numeric, false)", *params, number_value(rule.value))
    elif positive == "between":
        low, high = rule.value
        q.add(
            f"coalesce({column} BETWEEN %s::numeric AND %s::numeric, false)",
            *params,
            number_value(low),
            number_value(high),
        )
    else:
        raise ValueError(f"Unknown operator {rule.op!r}")


def _window_start(rule: BehaviourRule, now: datetime.datetime) -> datetime.datetime:
    # Computed in Python (not now - interval) so no session time zone or DST rule
    # can make a SQL "day" differ from engine's 24 hours.
    return now - datetime.timedelta(days=rule.within_days)


def _event_totals(
    definition: Definition,
    now: datetime.datetime,
    where_sql: str,
    where_params: Sequence[Any],
    id_range: tuple[int, int] | None,
    q: _Sql,
) -> None:
    """SELECT lead_id, n<i> (count in the window), d<i> (decayed points) per behaviour rule i."""
    rules = definition.behaviour_rules
    q.add("SELECT e.lead_id")
    for i, rule in enumerate(rules):
        window = "e.kind = %s AND e.occurred_at > %s"
        since = _window_start(rule, now)
        q.add(f", count(*) FILTER (WHERE {window}) AS n{i}", rule.event_kind, since)
        if rule.half_life_days is not None:
            # Per event: float8 decay, float8 -> numeric (15 significant digits),
            # rounded to 6 decimals; summed exactly (engine.decay_term).
            q.add(
                ", sum(round((%s::float8 * power(0.5::float8, least("
                "extract(epoch FROM (%s::timestamptz - e.occurred_at))::float8 / 86400.0::float8 / %s::float8,"
                f" %s::float8)))::numeric, 6)) FILTER (WHERE {window}) AS d{i}",
                rule.points,
                now,
                float(rule.half_life_days),
                MAX_HALF_LIVES,
                rule.event_kind,
                since,
            )
    oldest = min(_window_start(r, now) for r in rules)
    kinds = sorted({r.event_kind for r in rules})
    q.add(
        " FROM leads_engagementevent e WHERE e.occurred_at > %s AND e.occurred_at <= %s AND e.kind = ANY(%s::text[])",
        oldest,
        now,
        kinds,
    )
    if id_range is not None:
        q.add(" AND e.lead_id > %s AND e.lead_id <= %s", *id_range)
    if where_sql:
        # where_sql is the caller's trusted SQL text (never user input); its values are params.
        q.add(f" AND e.lead_id IN (SELECT l.id FROM leads_lead l WHERE {where_sql})", *where_params)  # noqa: S608
    q.add(" GROUP BY e.lead_id")


def _behaviour_points(i: int, rule: BehaviourRule, q: _Sql) -> None:
    """CASE giving the rule's whole points when it fires, else NULL (engine.behaviour_points)."""
    limit = BEHAVIOUR_RULE_LIMIT if rule.cap is None else min(rule.cap, BEHAVIOUR_RULE_LIMIT)
    if rule.half_life_days is None:
        raw = f"(ev.n{i} * %s::bigint)::numeric"
        raw_params: tuple[Any, ...] = (rule.points,)
    else:
        raw = f"ev.d{i}"
        raw_params = ()
    q.add(
        f"CASE WHEN coalesce(ev.n{i}, 0) >= %s THEN round(greatest(least({raw}, %s::numeric), %s::numeric))::int END",
        rule.min_count,
        *raw_params,
        Decimal(limit),
        Decimal(-limit),
    )


# PostgreSQL refuses a function call with more than 100 arguments (FUNC_MAX_ARGS):
# a JSON array of more elements is built in pieces joined with ||.
_ARRAY_PIECE = 50


def _jsonb_array(items: list[tuple[str, tuple[Any, ...]]], q: _Sql) -> None:
    """Append a jsonb array of the SQL expressions `items` (text, params), in order."""
    pieces = [items[i : i + _ARRAY_PIECE] for i in range(0, len(items), _ARRAY_PIECE)] or [[]]
    q.add("(")
    for n, piece in enumerate(pieces):
        q.add(" || " if n else "").add("jsonb_build_array(")
        for i, (text, params) in enumerate(piece):
            q.add(", " if i else "").add(text, *params)
        q.add(")")
    q.add(")")


def scores_select_sql(
    definition: Definition,
    *,
    now: datetime.datetime,
    where_sql: str = "",
    where_params: Sequence[Any] = (),
    id_range: tuple[int, int] | None = None,
) -> tuple[str, list[Any]]:
    """One SELECT scoring every lead (or those matching `where_sql` on alias `l`)."""
    return _scores_sql(definition, now=now, where_sql=where_sql, where_params=where_params, id_range=id_range)


def changed_scores_select_sql(
    definition: Definition,
    *,
    now: datetime.datetime,
    where_sql: str = "",
    where_params: Sequence[Any] = (),
    id_range: tuple[int, int] | None = None,
) -> tuple[str, list[Any]]:
    """Like scores_select_sql, but only leads whose stored score (leads_leadscore) differs.

    The stored row is joined in the same scan as the lead's fields, so a rescore
    that changes little (decay, every 15 minutes) compares in place and writes
    only the few leads that moved (scoring.scoring.leads_rescore).
    """
    select_sql, params = _scores_sql(
        definition,
        now=now,
        where_sql=where_sql,
        where_params=where_params,
        id_range=id_range,
        stored=True,
    )
    q = _Sql().add("SELECT x.* FROM (").add(select_sql, *params)
    q.add(
        ") x WHERE x.stored_version IS DISTINCT FROM %s"
        " OR x.stored_score IS DISTINCT FROM x.total OR x.stored_passes_gates IS DISTINCT FROM x.passes_gates"
        " OR x.stored_rule_points IS DISTINCT FROM x.rule_points"
        " OR x.stored_gates_passed IS DISTINCT FROM x.gates_passed",
        definition.version,
    )
    return q.text(), q.params


def _scores_sql(
    definition: Definition,
    *,
    now: datetime.datetime,
    where_sql: str,
    where_params: Sequence[Any],
    id_range: tuple[int, int] | None,
    stored: bool = False,
) -> tuple[str, list[Any]]:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    fits, behaviours, gates = definition.fit_rules, definition.behaviour_rules, definition.gates

    # Innermost: one row per lead with each rule's outcome computed once.
    inner = _Sql().add("SELECT l.id AS lead_id")
    stored_columns = ""
    if stored:
        inner.add(
            ", sc.total AS stored_score, sc.passes_gates AS stored_passes_gates, sc.version AS stored_version,"
            " sc.rule_points AS stored_rule_points, sc.gates_passed AS stored_gates_passed"
        )
        stored_columns = (
            ", {0}.stored_score, {0}.stored_passes_gates, {0}.stored_version,"
            " {0}.stored_rule_points, {0}.stored_gates_passed"
        )
    for i, rule in enumerate(fits):
        inner.add(", ")
        _condition(rule, inner)
        inner.add(f" AS f{i}")
    for i, rule in enumerate(gates):
        inner.add(", ")
        _condition(rule, inner)
        inner.add(f" AS g{i}")
    for i, rule in enumerate(behaviours):
        inner.add(", ")
        _behaviour_points(i, rule, inner)
        inner.add(f" AS b{i}")
    inner.add(" FROM leads_lead l")
    if stored:
        inner.add(" LEFT JOIN leads_leadscore sc ON sc.lead_id = l.id")
        if id_range is not None:
            # Spelt out: the planner does not carry the range across the join, and
            # would read the whole score table for every chunk.
            inner.add(" AND sc.lead_id > %s AND sc.lead_id <= %s", *id_range)
    if behaviours:
        inner.add(" LEFT JOIN (")
        _event_totals(definition, now, where_sql, where_params, id_range, inner)
        inner.add(") ev ON ev.lead_id = l.id")
    conditions = _Sql()
    if id_range is not None:
        conditions.add("l.id > %s AND l.id <= %s", *id_range)
    if where_sql:
        conditions.add(" AND " if id_range is not None else "").add(f"({where_sql})", *where_params)
    if conditions.parts:
        inner.add(" WHERE ").add(conditions.text(), *conditions.params)
    # OFFSET 0 keeps the planner from inlining (and so recomputing) the outcomes.
    inner.add(" OFFSET 0")

    # Middle: sub-scores, gate verdict and the compact explanation, in the order of
    # the version's legend (scoring.scoring.legend_values): the points of every fit
    # then behaviour rule (NULL where it did not fire), the verdict of every gate.
    middle = _Sql().add("SELECT c.lead_id").add(stored_columns.format("c")).add(", (0")
    for i, rule in enumerate(fits):
        middle.add(f" + CASE WHEN c.f{i} THEN %s::bigint ELSE 0 END", rule.points)
    middle.add(") AS fit, (0")
    for i in range(len(behaviours)):
        middle.add(f" + coalesce(c.b{i}, 0)")
    middle.add(") AS behaviour, (true")
    for i in range(len(gates)):
        middle.add(f" AND c.g{i}")
    middle.add(") AS passes_gates, ")
    _jsonb_array([(f"c.g{i}", ()) for i in range(len(gates))], middle)
    middle.add(" AS gates_passed, ")
    items = [(f"CASE WHEN c.f{i} THEN %s::int END", (rule.points,)) for i, rule in enumerate(fits)]
    items += [(f"c.b{i}", ()) for i in range(len(behaviours))]
    _jsonb_array(items, middle)
    middle.add(" AS rule_points FROM (").add(inner.text(), *inner.params).add(") c")

    outer = _Sql().add("SELECT s.lead_id").add(stored_columns.format("s"))
    outer.add(
        ", (s.fit + s.behaviour)::int AS total, s.fit::int AS fit, s.behaviour::int AS behaviour,"
        " s.passes_gates, (s.passes_gates AND s.fit + s.behaviour >= %s) AS qualifies,"
        " s.rule_points, s.gates_passed FROM (",
        definition.threshold,
    )
    outer.add(middle.text(), *middle.params).add(") s")
    return outer.text(), outer.params
