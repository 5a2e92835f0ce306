"""The scoring engine: one lead against one definition version at one moment.

`evaluate(facts, definition, now)` is pure (no ORM, no clock) and is the reference
meaning of a definition. The set-based path that rescores the whole pool
(scoring.sql) compiles the same definition to SQL and is tested to give exactly the
same results (tests/scoring/test_sql_matches_engine.py).

Semantics, shared by both paths:

Text fields (everything in rules.LEAD_FIELDS of kind "text"; email_domain is the
part of the email after its last "@")
  * A value is normalised before any comparison: NULL becomes "", leading and
    trailing spaces, tabs, CR and LF are trimmed, and each character is lowercased
    on its own (Unicode simple lowercase; PostgreSQL's lower() under a UTF-8 ctype).
    So comparisons are case-insensitive and trimmed, and NULL and "" (or blanks)
    are both "empty".
  * equals / one_of: the normalised value equals (one of) the normalised rule
    value(s). contains: the normalised rule value is a substring.
  * is_empty: the normalised value is "".
  * Every not_* operator (and is_not_empty) is the exact negation of its positive
    form, also on empty values: a lead with no country "does not equal" US and
    "is not one of" US, CA. (Add an "is not empty" gate to exclude unknowns.)

Number fields (company_size, annual_revenue)
  * Rule values are compared as exact decimals (the parsed float's shortest repr).
  * gt, lt, between (inclusive), equals, one_of (and contains, which on a number
    means equals) are false when the lead's value is NULL; their not_* forms are
    the negation, hence true on NULL. is_empty means NULL.

Custom fields (`attributes.<name>`, the lead's attributes JSON; the rule stores its kind)
  * text and choice: as text fields above; a JSON number or boolean is compared as its
    JSON text ("5", "true").
  * number: a JSON number, or a string that is a plain decimal (optional sign, digits,
    optional fraction, surrounding spaces); anything else is NULL. Then as number fields.
  * date: the normalised text, ordered as text (ISO dates order as dates); gt, lt,
    between, equals, one_of are false on an empty value.

Yes/no fields (consent: do_not_email, do_not_call, unsubscribed, and contactable =
none of them set; yes/no custom fields) are "yes", "no" or empty (a custom field
not set). A JSON boolean is yes or no; a string is normalised as text.

Behaviour rules
  * Events of the rule's kind with now - within_days < occurred_at <= now count
    (a window of exactly within_days * 24 hours, open at the old end).
  * The rule fires when at least min_count such events exist; then it scores
    points per event in the window, each weighted by 0.5 ** (age_days / half_life)
    when a half-life is set (the exponent capped at MAX_HALF_LIVES). age_days is
    the exact age in seconds / 86400.
  * Decayed amounts are computed per event in binary floating point, turned into
    a decimal of 15 significant digits (PostgreSQL's float8 -> numeric cast) and
    rounded to 6 decimals, half away from zero; these are summed exactly. This
    keeps the SQL aggregate (whose summation order is unspecified) and Python
    identical to the last digit.
  * The sum is capped: at most `cap` points (at least -cap when points are
    negative), and never beyond +/- BEHAVIOUR_RULE_LIMIT; then rounded to a whole
    point, half away from zero (2.5 -> 3, -2.5 -> -3).

Total = fit (sum of points of fit rules that hold) + behaviour (sum of behaviour
rules that fired). passes_gates: every gate holds (true with no gates).
qualifies: passes_gates and total >= threshold.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

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

# Characters trimmed from both ends of a text value (SQL: btrim(x, E' \t\n\r')).
TRIM_CHARS = " \t\n\r"
# Largest magnitude one behaviour rule can score, so a flood of events cannot
# overflow the integer score columns.
BEHAVIOUR_RULE_LIMIT = 1_000_000
SECONDS_PER_DAY = 86400.0
# Decay stops at 2 ** -1000 (far below the 6 decimals kept): PostgreSQL's power()
# raises on floating-point underflow where Python quietly returns 0.0.
MAX_HALF_LIVES = 1000.0
_MICRO = Decimal("0.000001")
_ONE = Decimal(1)


# --- Values -------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _lower_char(ch: str) -> str:
    # Simple (one-to-one) lowercase, like towlower(): "İ" -> "i", and no
    # context-dependent final sigma, which str.lower() applies to whole strings.
    lowered = ch.lower()
    return lowered[0] if lowered else ch


def text_normalise(value: Any) -> str:
    """The form every text comparison uses: NULL -> "", trimmed, lowercased."""
    if value is None:
        return ""
    text = str(value).strip(TRIM_CHARS)
    if text.isascii():
        return text.lower()
    return "".join(_lower_char(ch) for ch in text)


def number_value(value: Any) -> Decimal:
    """A rule's number as an exact decimal; SQL receives the same Decimal."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return Decimal(repr(float(value)))


def _lead_number(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return number_value(value)


# A custom number field's string value that counts as a number (the SQL twin: sql._NUMBER_TEXT).
_NUMBER_TEXT = re.compile(r"[ \t\n\r]*[-+]?[0-9]+(\.[0-9]*)?[ \t\n\r]*")


def attribute_number(value: Any) -> Decimal | None:
    """A custom number field's value as a decimal, or None (see the module docstring)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, Decimal)):
        return number_value(value)
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
        return Decimal(value.strip(TRIM_CHARS))
    return None


def yes_no_normalise(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return text_normalise(value)


def email_domain(email: Any) -> str:
    """What follows the last "@" (the whole value when there is none)."""
    if email is None:
        return ""
    return str(email).rsplit("@", 1)[-1]


def round_half_away(value: Decimal, exp: Decimal = _ONE) -> Decimal:
    return value.quantize(exp, rounding=ROUND_HALF_UP)


def decay_term(points: int, age: datetime.timedelta, half_life_days: float) -> Decimal:
    """One event's decayed points, exactly as the SQL aggregate computes it."""
    age_days = (age / datetime.timedelta(seconds=1)) / SECONDS_PER_DAY
    amount = float(points) * 0.5 ** min(age_days / float(half_life_days), MAX_HALF_LIVES)
    return round_half_away(Decimal(f"{amount:.15g}"), _MICRO)


def behaviour_cap(raw: Decimal, rule: BehaviourRule) -> Decimal:
    limit = BEHAVIOUR_RULE_LIMIT if rule.cap is None else min(rule.cap, BEHAVIOUR_RULE_LIMIT)
    return max(min(raw, Decimal(limit)), Decimal(-limit))


# --- Inputs and outputs ------------------------------------------------------------


@dataclass(frozen=True)
class LeadFacts:
    """What the engine knows of one lead: field values and engagement events.

    `values` maps names of rules.LEAD_FIELDS to the lead's values (missing means
    NULL); email_domain is derived from email unless given. `events` are
    (kind, occurred_at) pairs with aware datetimes.
    """

    values: Mapping[str, Any]
    events: tuple[tuple[str, datetime.datetime], ...] = ()

    @classmethod
    def of(cls, *, events: Iterable[tuple[str, datetime.datetime]] = (), **values: Any) -> LeadFacts:
        unknown = {n for n in values if n not in LEAD_FIELDS and not n.startswith(ATTRIBUTE_PREFIX)}
        if unknown:
            raise ValueError(f"Unknown lead fields: {sorted(unknown)}")
        return cls(values=dict(values), events=tuple(events))

    def value(self, field_name: str) -> Any:
        if field_name == "email_domain" and "email_domain" not in self.values:
            return email_domain(self.values.get("email"))
        return self.values.get(field_name)


@dataclass(frozen=True)
class GateResult:
    id: str
    label: str
    passed: bool


@dataclass(frozen=True)
class FiredRule:
    id: str
    label: str
    type: str
    points: int


@dataclass(frozen=True)
class ScoreResult:
    version: int
    threshold: int
    total: int
    fit: int
    behaviour: int
    passes_gates: bool
    qualifies: bool
    gates: tuple[GateResult, ...] = field(default_factory=tuple)
    rules: tuple[FiredRule, ...] = field(default_factory=tuple)

    def explanation(self) -> dict:
        """JSON-able; the shape LeadScore.explanation() renders from the stored compact
        form, shown by templates/leads/_score_explanation.html."""
        return {
            "version": self.version,
            "total": self.total,
            "fit": self.fit,
            "behaviour": self.behaviour,
            "threshold": self.threshold,
            "passes_gates": self.passes_gates,
            "qualifies": self.qualifies,
            "gates": [{"id": g.id, "label": g.label, "passed": g.passed} for g in self.gates],
            "rules": [{"id": r.id, "label": r.label, "type": r.type, "points": r.points} for r in self.rules],
        }


# --- Evaluation --------------------------------------------------------------------


def condition_holds(rule: FitRule | GateRule, facts: LeadFacts) -> bool:
    """Whether a fit rule or gate holds for the lead (see the module docstring)."""
    positive, negate = operator_split(rule.op)
    raw = facts.value(rule.field)
    kind = field_kind(rule.field, rule.kind)
    if kind == "text":
        holds = _text_holds(positive, text_normalise(raw), rule.value)
    elif kind == "yes_no":
        holds = _text_holds(positive, yes_no_normalise(raw), rule.value)
    elif kind == "date":
        holds = _date_holds(positive, text_normalise(raw), rule.value)
    elif rule.field.startswith(ATTRIBUTE_PREFIX):
        holds = _number_holds(positive, attribute_number(raw), rule.value)
    else:
        holds = _number_holds(positive, _lead_number(raw), rule.value)
    return holds != negate


def _date_holds(op: str, value: str, rule_value: Any) -> bool:
    if op == "is_empty":
        return value == ""
    if value == "":
        return False
    if op == "equals":
        return value == rule_value
    if op == "one_of":
        return value in set(rule_value)
    if op == "gt":
        return value > rule_value
    if op == "lt":
        return value < rule_value
    if op == "between":
        return rule_value[0] <= value <= rule_value[1]
    raise ValueError(f"Operator {op!r} does not apply to date fields")


def _text_holds(op: str, value: str, rule_value: Any) -> bool:
    if op == "equals":
        return value == text_normalise(rule_value)
    if op == "one_of":
        return value in {text_normalise(v) for v in rule_value}
    if op == "contains":
        return text_normalise(rule_value) in value
    if op == "is_empty":
        return value == ""
    raise ValueError(f"Operator {op!r} does not apply to text fields")


def _number_holds(op: str, value: Decimal | None, rule_value: Any) -> bool:
    if op == "is_empty":
        return value is None
    if value is None:
        return False
    if op in ("equals", "contains"):
        return value == number_value(rule_value)
    if op == "one_of":
        return any(value == number_value(v) for v in rule_value)
    if op == "gt":
        return value > number_value(rule_value)
    if op == "lt":
        return value < number_value(rule_value)
    if op == "between":
        low, high = rule_value
        return number_value(low) <= value <= number_value(high)
    raise ValueError(f"Unknown operator {op!r}")


def behaviour_points(rule: BehaviourRule, facts: LeadFacts, now: datetime.datetime) -> int | None:
    """Points of a behaviour rule, or None when it does not fire."""
    since = now - datetime.timedelta(days=rule.within_days)
    ages = [now - at for kind, at in facts.events if kind == rule.event_kind and since < at <= now]
    if len(ages) < rule.min_count:
        return None
    if rule.half_life_days is None:
        raw = Decimal(rule.points * len(ages))
    else:
        raw = sum((decay_term(rule.points, age, rule.half_life_days) for age in ages), Decimal(0))
    return int(round_half_away(behaviour_cap(raw, rule)))


def evaluate(facts: LeadFacts, definition: Definition, now: datetime.datetime) -> ScoreResult:
    """Score one lead against one definition version at `now` (aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    fired: list[FiredRule] = []
    fit = 0
    for rule in definition.fit_rules:
        if condition_holds(rule, facts):
            fit += rule.points
            fired.append(FiredRule(rule.id, rule.label, "fit", rule.points))
    behaviour = 0
    for rule in definition.behaviour_rules:
        points = behaviour_points(rule, facts, now)
        if points is not None:
            behaviour += points
            fired.append(FiredRule(rule.id, rule.label, "behaviour", points))
    gates = tuple(GateResult(g.id, g.label, condition_holds(g, facts)) for g in definition.gates)
    passes_gates = all(g.passed for g in gates)
    total = fit + behaviour
    return ScoreResult(
        version=definition.version,
        threshold=definition.threshold,
        total=total,
        fit=fit,
        behaviour=behaviour,
        passes_gates=passes_gates,
        qualifies=passes_gates and total >= definition.threshold,
        gates=gates,
        rules=tuple(fired),
    )
