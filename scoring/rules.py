"""The rule schema of a qualified-lead definition version.

A version's `rules` column holds a JSON list; each item is one of:

  fit       {"id", "type": "fit", "label", "field", "op", "value", "points"}
  behaviour {"id", "type": "behaviour", "label", "event_kind", "min_count",
             "within_days", "points", "cap", "half_life_days"}
  gate      {"id", "type": "gate", "label", "field", "op", "value"}

`field` is a lead field from LEAD_FIELDS (plus "email_domain", derived from the
email), or a custom field marketing declared, `attributes.<name>` (given to
`rules_parse` as `custom_fields`; a fit rule or gate on one stores its kind, so a
stored version keeps its meaning). Consent (`contactable` and its parts) is a yes/no
field a gate can require. `op` is one of OPERATORS. A behaviour rule fires when the lead has at
least `min_count` events of `event_kind` within the last `within_days` days and
then scores `points` per occurrence (weighted by 0.5 ** (age_days / half_life_days)
when a half-life is set), capped at `cap` when given, rounded to the nearest
whole point. Points may be negative on fit rules. The exact semantics (text
normalisation, empty values, window edges, decay rounding) are documented in
scoring.engine, the reference evaluator.

This module is pure (no ORM): the engine, the SQL compiler, the editor and the
API all parse rules through `rules_parse`, so they agree on one meaning.
"""

from __future__ import annotations

import datetime
import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

# Lead fields a rule may test, with their kind (text or number).
LEAD_FIELDS: dict[str, str] = {
    "email": "text",
    "email_domain": "text",
    "title": "text",
    "company": "text",
    "industry": "text",
    "company_size": "number",
    "annual_revenue": "number",
    "country": "text",
    "region": "text",
    "city": "text",
    "source": "text",
    "campaign": "text",
}

# Consent (leads.models.Lead): "contactable" is true when none of do not email, do not
# call or unsubscribed is set. Yes/no fields hold "yes" or "no" (engine and SQL alike).
CONSENT_FIELDS: dict[str, str] = {
    "contactable": "yes_no",
    "do_not_email": "yes_no",
    "do_not_call": "yes_no",
    "unsubscribed": "yes_no",
}
LEAD_FIELDS.update(CONSENT_FIELDS)

ATTRIBUTE_PREFIX = "attributes."
# A custom field's kind (leads.models.CustomFieldKind) -> the kind rules compare it as.
CUSTOM_KIND_RULE_KIND = {"text": "text", "choice": "text", "yes_no": "yes_no", "number": "number", "date": "date"}
# And back, for a stored rule whose custom field is no longer declared (scoring.selectors.rule_catalogue).
RULE_KIND_CUSTOM_KIND = {"text": "text", "yes_no": "yes_no", "number": "number", "date": "date"}
YES_NO_VALUES = ("yes", "no")


@dataclass(frozen=True)
class CustomFieldSpec:
    """What rules need of a declared custom field (leads.models.CustomField)."""

    name: str
    kind: str  # leads.models.CustomFieldKind value
    personal: bool = False
    choices: tuple[str, ...] = ()

    @property
    def rule_kind(self) -> str:
        return CUSTOM_KIND_RULE_KIND[self.kind]


OPERATORS: dict[str, str] = {
    "equals": "equals",
    "not_equals": "does not equal",
    "one_of": "is one of",
    "not_one_of": "is not one of",
    "contains": "contains",
    "not_contains": "does not contain",
    "gt": "is greater than",
    "lt": "is less than",
    "between": "is between",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
}
NUMBER_ONLY_OPS = {"gt", "lt", "between"}
# Operators each rule kind accepts (a date compares as its ISO text, so gt/lt/between order it).
KIND_OPS = {
    "text": set(OPERATORS) - NUMBER_ONLY_OPS,
    "number": set(OPERATORS),
    "date": set(OPERATORS) - {"contains", "not_contains"},
    "yes_no": {"equals", "not_equals", "is_empty", "is_not_empty"},
}
LIST_OPS = {"one_of", "not_one_of"}
NO_VALUE_OPS = {"is_empty", "is_not_empty"}
# Fields that name one person. A rule may only ask whether they are empty: any test of
# their value (equals, one of, contains, even "does not equal") lets a preview answer
# "is this person in the hidden nurture pool?" (issue 16). Domain-level facts such as
# email_domain stay allowed. Only email is a rule field today; the others are listed so
# that adding one to LEAD_FIELDS cannot reopen the hole.
IDENTIFYING_FIELDS = frozenset({"email", "first_name", "last_name", "phone", "external_id"})
# Each negative operator and the positive one it is the exact negation of.
NEGATED_OPS = {"not_equals": "equals", "not_one_of": "one_of", "not_contains": "contains", "is_not_empty": "is_empty"}


def operator_split(op: str) -> tuple[str, bool]:
    """(the positive operator, whether to negate it): the engine and the SQL compiler
    both evaluate a negative operator as NOT of its positive, so they agree on NULLs."""
    return NEGATED_OPS.get(op, op), op in NEGATED_OPS


# Bounds that keep every score inside the integer score columns and every window
# inside the calendar (the engine and the SQL path both rely on them).
MAX_RULE_POINTS = 100_000
MAX_WINDOW_DAYS = 3650
MAX_MIN_COUNT = 100_000
MAX_CAP = 1_000_000
# Shortest half-life: below it age / half-life overflows PostgreSQL's float8 (the
# engine would quietly compute inf), so such a rule would stop every rescore.
MIN_HALF_LIFE_DAYS = 0.01

# How big a definition may be. The SQL compiler (scoring.sql) writes one column per
# rule and builds its JSON arrays in pieces, so it stays far inside PostgreSQL's
# limits (100 arguments per function call, 1,664 columns per SELECT) at this size,
# and MAX_RULES * BEHAVIOUR_RULE_LIMIT (scoring.engine) keeps a total inside the
# integer score columns. tests/scoring/test_rule_limits.py scores a definition of
# exactly this size on PostgreSQL; raise them only together with that test.
MAX_RULES = 200
MAX_LIST_VALUES = 500

EVENT_KINDS = (
    "page_view",
    "pricing_page_view",
    "content_download",
    "webinar_attended",
    "email_click",
    "form_submission",
    "demo_request",
)


@dataclass(frozen=True)
class FitRule:
    id: str
    label: str
    field: str
    op: str
    value: Any
    points: int
    type: str = "fit"
    # The kind of a custom field (attributes.<name>) at the time the rule was saved; "" for built-in fields.
    kind: str = ""


@dataclass(frozen=True)
class GateRule:
    id: str
    label: str
    field: str
    op: str
    value: Any
    type: str = "gate"
    kind: str = ""


@dataclass(frozen=True)
class BehaviourRule:
    id: str
    label: str
    event_kind: str
    min_count: int
    within_days: int
    points: int
    cap: int | None = None
    half_life_days: float | None = None
    type: str = "behaviour"


Rule = FitRule | GateRule | BehaviourRule


@dataclass(frozen=True)
class Definition:
    """What the engine needs of a version: its number, rules and threshold."""

    version: int
    threshold: int
    fit_rules: tuple[FitRule, ...] = field(default_factory=tuple)
    behaviour_rules: tuple[BehaviourRule, ...] = field(default_factory=tuple)
    gates: tuple[GateRule, ...] = field(default_factory=tuple)

    @classmethod
    def from_rules(cls, *, version: int, threshold: int, rules: list[Rule]) -> Definition:
        return cls(
            version=version,
            threshold=threshold,
            fit_rules=tuple(r for r in rules if isinstance(r, FitRule)),
            behaviour_rules=tuple(r for r in rules if isinstance(r, BehaviourRule)),
            gates=tuple(r for r in rules if isinstance(r, GateRule)),
        )


def _number(value: Any, where: str, errors: list[str]) -> float | None:
    if isinstance(value, bool):
        errors.append(f"{where}: must be a number.")
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors.append(f"{where}: must be a number.")
        return None
    # "nan" and "inf" parse as floats but compare as nothing (scoring.engine).
    if not math.isfinite(number):
        errors.append(f"{where}: must be a number.")
        return None
    return number


def _int(
    value: Any,
    where: str,
    errors: list[str],
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    optional: bool = False,
) -> int | None:
    if value in (None, "") and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str, float)):
        errors.append(f"{where}: must be a whole number.")
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        errors.append(f"{where}: must be a whole number.")
        return None
    if minimum is not None and number < minimum:
        errors.append(f"{where}: must be at least {minimum}.")
        return None
    if maximum is not None and number > maximum:
        errors.append(f"{where}: must be at most {maximum}.")
        return None
    return number


def field_kind(field_name: str, stored_kind: str = "") -> str:
    """The kind a rule compares a field as: text, number, date or yes_no."""
    return stored_kind or LEAD_FIELDS[field_name]


def _iso_date(value: Any, where: str, errors: list[str]) -> str | None:
    try:
        return datetime.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        errors.append(f"{where}: must be a date (YYYY-MM-DD).")
        return None


def _condition_value(
    op: str, field_name: str, value: Any, where: str, errors: list[str], *, kind: str = "", personal: bool = False
) -> Any:
    kind = field_kind(field_name, kind)
    if op in NO_VALUE_OPS:
        return None
    if field_name in IDENTIFYING_FIELDS:
        instead = "; test email domain instead" if field_name == "email" else ""
        errors.append(
            f"{where}: rules cannot test {field_name} for a value, only whether it is empty: "
            f"it identifies one person{instead}."
        )
        return None
    if personal:
        errors.append(
            f"{where}: rules cannot test {field_name} for a value, only whether it is empty: it is personal data."
        )
        return None
    if kind in ("date", "yes_no") and op not in KIND_OPS[kind]:
        errors.append(f"{where}: '{OPERATORS[op]}' does not work on {field_name} ({kind.replace('_', '/')}).")
        return None
    if kind == "yes_no":
        text = str(value or "").strip().lower()
        if text not in YES_NO_VALUES:
            errors.append(f"{where}: give yes or no.")
            return None
        return text
    if kind == "date":
        if op == "between":
            return _between(
                value,
                _iso_date,
                where,
                errors,
                needs="two dates, first and last",
                reversed_="the first date of 'between' is after the last",
            )
        if op in LIST_OPS:
            items = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
            dates = [_iso_date(v, where, errors) for v in items if str(v).strip()]
            if not dates:
                errors.append(f"{where}: give at least one date.")
            return None if not dates or None in dates else dates
        return _iso_date(value, where, errors)
    if op in NUMBER_ONLY_OPS and kind != "number":  # dates were answered above
        errors.append(f"{where}: '{OPERATORS[op]}' works only on number fields, not {field_name}.")
        return None
    if op == "between":
        return _between(
            value,
            _number,
            where,
            errors,
            needs="two numbers, low and high",
            reversed_="the low end of 'between' is above the high end",
        )
    if op in LIST_OPS:
        items = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
        items = [str(v).strip() for v in items if str(v).strip()]
        if not items:
            errors.append(f"{where}: give at least one value.")
            return None
        if kind == "number":
            numbers = [_number(v, where, errors) for v in items]
            return None if None in numbers else numbers
        return items
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append(f"{where}: a value is required.")
        return None
    if kind == "number" or op in NUMBER_ONLY_OPS:
        return _number(value, where, errors)
    return str(value).strip()


def _between(value, parse, where: str, errors: list[str], *, needs: str, reversed_: str) -> list | None:
    """The two ends of 'between', each read by `parse` (_number, _iso_date), low first."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        errors.append(f"{where}: 'between' needs {needs}.")
        return None
    low, high = (parse(v, where, errors) for v in value)
    if low is None or high is None:
        return None
    if low > high:
        errors.append(f"{where}: {reversed_}.")
        return None
    return [low, high]


def _rule_parse(
    raw: Any,
    index: int,
    errors: list[str],
    custom_fields: Mapping[str, CustomFieldSpec],
    event_kinds: frozenset[str],
) -> Rule | None:
    where = f"Rule {index + 1}"
    if not isinstance(raw, dict):
        errors.append(f"{where}: must be an object.")
        return None
    rule_type = raw.get("type")
    rule_id = str(raw.get("id") or uuid.uuid4().hex[:8])
    label = str(raw.get("label") or "").strip()[:120]
    count_before = len(errors)
    if rule_type in ("fit", "gate"):
        field_name = raw.get("field")
        op = raw.get("op")
        kind, personal = "", False
        if isinstance(field_name, str) and field_name.startswith(ATTRIBUTE_PREFIX):
            spec = custom_fields.get(field_name[len(ATTRIBUTE_PREFIX) :])
            if spec is None:
                errors.append(f"{where}: unknown field {field_name!r}; declare it as a custom field first.")
                return None
            kind, personal = spec.rule_kind, spec.personal
        elif field_name not in LEAD_FIELDS:
            errors.append(f"{where}: unknown field {field_name!r}.")
            return None
        if op not in OPERATORS:
            errors.append(f"{where}: unknown operator {op!r}.")
            return None
        value = _condition_value(op, field_name, raw.get("value"), where, errors, kind=kind, personal=personal)
        label = label or f"{field_name} {OPERATORS[op]} {value if value is not None else ''}".strip()
        if rule_type == "gate":
            return None if len(errors) > count_before else GateRule(rule_id, label, field_name, op, value, kind=kind)
        points = _int(raw.get("points"), f"{where} points", errors, minimum=-MAX_RULE_POINTS, maximum=MAX_RULE_POINTS)
        if len(errors) > count_before:
            return None
        return FitRule(rule_id, label, field_name, op, value, points, kind=kind)
    if rule_type == "behaviour":
        kind = raw.get("event_kind")
        if kind not in event_kinds:
            errors.append(f"{where}: unknown event kind {kind!r}.")
            return None
        min_count = _int(raw.get("min_count", 1), f"{where} at least", errors, minimum=1, maximum=MAX_MIN_COUNT)
        within_days = _int(raw.get("within_days"), f"{where} within days", errors, minimum=1, maximum=MAX_WINDOW_DAYS)
        points = _int(raw.get("points"), f"{where} points", errors, minimum=-MAX_RULE_POINTS, maximum=MAX_RULE_POINTS)
        cap = _int(raw.get("cap"), f"{where} cap", errors, minimum=0, maximum=MAX_CAP, optional=True)
        half_life = raw.get("half_life_days")
        if half_life in ("", None):
            half_life = None
        else:
            half_life = _number(half_life, f"{where} half-life", errors)
            if half_life is not None and half_life <= 0:
                errors.append(f"{where} half-life: must be above zero.")
            elif half_life is not None and half_life > MAX_WINDOW_DAYS:
                errors.append(f"{where} half-life: must be at most {MAX_WINDOW_DAYS} days.")
        if len(errors) > count_before:
            return None
        label = label or f"{kind.replace('_', ' ')} ×{min_count} in {within_days}d"
        return BehaviourRule(rule_id, label, kind, min_count, within_days, points, cap, half_life)
    errors.append(f"{where}: type must be fit, behaviour or gate.")
    return None


def _size_check(rule: Rule | None, where: str, errors: list[str]) -> None:
    """The limits that keep a parsed rule scoreable in SQL (MAX_LIST_VALUES, MIN_HALF_LIFE_DAYS)."""
    if isinstance(rule, (FitRule, GateRule)) and rule.op in LIST_OPS and len(rule.value) > MAX_LIST_VALUES:
        errors.append(f"{where}: a list has at most {MAX_LIST_VALUES} values; this one has {len(rule.value)}.")
    if isinstance(rule, BehaviourRule) and rule.half_life_days is not None and rule.half_life_days < MIN_HALF_LIFE_DAYS:
        errors.append(f"{where} half-life: must be at least {MIN_HALF_LIFE_DAYS:g} days.")


def rules_parse(
    raw_rules: Any,
    *,
    custom_fields: Mapping[str, CustomFieldSpec] | None = None,
    event_kinds: Iterable[str] = (),
) -> list[Rule]:
    """Validate and normalise a JSON rule list; raise ValidationError naming each bad rule.

    `custom_fields` (by name) are the declared custom fields rules may test as
    `attributes.<name>`; `event_kinds` the kinds marketing added to EVENT_KINDS.
    Callers get both from scoring.selectors.rule_catalogue.
    """
    custom_fields = custom_fields or {}
    kinds = frozenset(EVENT_KINDS) | frozenset(event_kinds)
    if not isinstance(raw_rules, list):
        raise ValidationError({"rules": ["Rules must be a list."]})
    if len(raw_rules) > MAX_RULES:
        # Refused before parsing: a 10,000-rule list is not worth reading rule by rule.
        raise ValidationError(
            {"rules": [f"A definition has at most {MAX_RULES} rules; this one has {len(raw_rules)}."]}
        )
    errors: list[str] = []
    rules = [_rule_parse(raw, i, errors, custom_fields, kinds) for i, raw in enumerate(raw_rules)]
    for i, rule in enumerate(rules):
        _size_check(rule, f"Rule {i + 1}", errors)
    ids = [r.id for r in rules if r is not None]
    if len(ids) != len(set(ids)):
        errors.append("Two rules share one id.")
    if errors:
        raise ValidationError({"rules": errors})
    return [r for r in rules if r is not None]


def rules_dump(rules: list[Rule]) -> list[dict]:
    """The stored JSON form; a built-in field's kind is left out (it is LEAD_FIELDS')."""
    dumped = []
    for rule in rules:
        item = asdict(rule)
        if "kind" in item and not item["kind"]:
            del item["kind"]
        dumped.append(item)
    return dumped
