"""Derived values: a lead field set from a condition or a small calculation on the row.

A mapping's `options.derived` maps a lead field to one rule, written as text (the
same in mapping.json and in the browser's "Derived values" box):

    stage: won if lookup deal matched else open
    stage: won if [won_date] present else lost if [lost_date] present
    attributes.tier: enterprise if [Employees] matches "^[0-9]{4,}$" else smb
    stage: won if [Status] in (Closed Won, Won, "Signed") else open
    attributes.engagement: [TotalVisits] + [Page Views Per Visit] * 2
    deal_value: [amount] * 1.2

Grammar (parsed by hand here; nothing is ever handed to eval):

    rule       := choice | calc
    choice     := value "if" condition ["else" (choice | value)]
    condition  := [column] present | [column] absent
                | [column] matches "regular expression"     (RE2: linear time, no backtracking blow-up)
                | [column] in (value, value, ...)             (compared ignoring case)
                | [column] = value | [column] != value
                | lookup NAME matched | lookup NAME unmatched
    calc       := term (("+" | "-") term)*
    term       := factor (("*" | "/") factor)*
    factor     := number | [column] | "(" calc ")" | "-" factor
    value      := a word, or text in double quotes

A column is a header of the file or a lookup's column (`deal.won_date`). A
calculation with a blank cell is blank (unknown), never 0; a cell that is not a
number rejects the row with its column named. Without "else", a condition that
does not hold leaves the field blank.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, DivisionByZero, InvalidOperation

import re2

MAX_RULE_LENGTH = 2000
# RE2 refuses patterns whose compiled program is bigger than this: a mapping cannot ask for
# a regular expression that costs more than a small, fixed amount per cell.
RE2_MAX_MEM = 1 << 20


class RuleError(ValueError):
    """The rule's text cannot be parsed, or names a column the file does not have."""


class CellValueError(ValueError):
    """A row's cell does not fit the rule (a calculation on text): the row is rejected."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<column>\[[^\]]+\])
      | (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>\d+(?:\.\d+)?|\.\d+)
      | (?P<op>!=|[-+*/()=,])
      | (?P<word>[^\s\[\]"(),=!+*/]+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise RuleError(f"cannot read “{text[position : position + 20]}”")
        kind = match.lastgroup or ""
        raw = match.group(kind)
        if kind == "column":
            raw = raw[1:-1].strip()
        elif kind == "string":
            raw = raw[1:-1].replace('\\"', '"')  # only \" is an escape: a pattern keeps its \d, \b...
        out.append(_Tok(kind, raw))
        position = match.end()
    return out


# A row as a rule sees it: the cell of a column (stripped, placeholders mapped to ""),
# and whether a lookup found a row.
Cell = Callable[[str], str]
Matched = Callable[[str], bool]
Evaluator = Callable[[Cell, Matched], str]


class _Parser:
    def __init__(self, text: str, columns: Sequence[str] | None, lookups: Sequence[str] | None):
        if len(text) > MAX_RULE_LENGTH:
            raise RuleError(f"is over {MAX_RULE_LENGTH} characters")
        self.tokens = _tokens(text)
        self.position = 0
        self.columns = None if columns is None else set(columns)
        self.lookups = None if lookups is None else set(lookups)

    # -- token helpers --

    def peek(self, offset: int = 0) -> _Tok | None:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> _Tok:
        token = self.peek()
        if token is None:
            raise RuleError("ends too early")
        self.position += 1
        return token

    def is_word(self, word: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token is not None and token.kind == "word" and token.text.lower() == word

    def expect_word(self, word: str) -> None:
        token = self.take()
        if token.kind != "word" or token.text.lower() != word:
            raise RuleError(f"expected “{word}”, found “{token.text}”")

    def expect_op(self, op: str) -> None:
        token = self.take()
        if token.kind != "op" or token.text != op:
            raise RuleError(f"expected “{op}”, found “{token.text}”")

    def column(self, name: str) -> str:
        if self.columns is not None and name not in self.columns:
            raise RuleError(f"names a column “{name}” the file (and its lookups) does not have")
        return name

    # -- grammar --

    def rule(self) -> Evaluator:
        if self.is_word("if", 1):  # a value, then "if": a choice
            result = self.choice()
        else:
            result = self.calc_rule()
        if self.peek() is not None:
            raise RuleError(f"unexpected “{self.peek().text}”")  # type: ignore[union-attr]
        return result

    def value(self) -> str:
        token = self.take()
        if token.kind in ("word", "string", "number"):
            return token.text
        raise RuleError(f"expected a value, found “{token.text}”")

    def list_value(self) -> str:
        """A value in a list: quoted text, or words up to the next comma (Closed Won)."""
        token = self.peek()
        if token is not None and token.kind == "string":
            return self.take().text
        words = [self.value()]
        while (token := self.peek()) is not None and token.kind in ("word", "number"):
            words.append(self.take().text)
        return " ".join(words)

    def choice(self) -> Evaluator:
        then = self.value()
        self.expect_word("if")
        condition = self.condition()
        otherwise: Evaluator | None = None
        if self.is_word("else"):
            self.take()
            if self.is_word("if", 1):  # "else lost if …": another choice
                otherwise = self.choice()
            else:
                fallback = self.value()

                def otherwise(cell: Cell, matched: Matched, fallback: str = fallback) -> str:
                    return fallback

        def evaluate(cell: Cell, matched: Matched) -> str:
            if condition(cell, matched):
                return then
            return otherwise(cell, matched) if otherwise else ""

        return evaluate

    def condition(self) -> Callable[[Cell, Matched], bool]:
        if self.is_word("lookup"):
            self.take()
            name = self.value()
            if self.lookups is not None and name not in self.lookups:
                known = ", ".join(sorted(self.lookups)) or "none"
                raise RuleError(f"names a lookup “{name}” the mapping does not have (lookups: {known})")
            word = self.take()
            if word.kind != "word" or word.text.lower() not in ("matched", "unmatched"):
                raise RuleError(f"expected “matched” or “unmatched” after the lookup, found “{word.text}”")
            want = word.text.lower() == "matched"
            return lambda cell, matched: matched(name) is want
        token = self.take()
        if token.kind != "column":
            raise RuleError(f"a condition starts with a [column] or “lookup”, found “{token.text}”")
        name = self.column(token.text)
        test = self.take()
        word = test.text.lower() if test.kind == "word" else test.text
        if word == "present":
            return lambda cell, matched: bool(cell(name))
        if word == "absent":
            return lambda cell, matched: not cell(name)
        if word == "matches":
            pattern = self.take()
            if pattern.kind != "string":
                raise RuleError("write the pattern after “matches” in double quotes")
            try:
                options = re2.Options()
                options.max_mem = RE2_MAX_MEM
                compiled = re2.compile(pattern.text, options)
            except re2.error as exc:
                raise RuleError(f"the pattern “{pattern.text}” is not a regular expression RE2 accepts: {exc}") from exc
            return lambda cell, matched: compiled.search(cell(name)) is not None
        if word == "in":
            self.expect_op("(")
            choices = {self.list_value().lower()}
            while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                self.take()
                choices.add(self.list_value().lower())
            self.expect_op(")")
            return lambda cell, matched: cell(name).lower() in choices
        if word in ("=", "!="):
            expected = self.value().lower()
            equal = word == "="
            return lambda cell, matched: (cell(name).lower() == expected) is equal
        raise RuleError(f"after [{name}] write present, absent, matches, in, = or !=; found “{test.text}”")

    def calc_rule(self) -> Evaluator:
        calc = self.sum()

        def evaluate(cell: Cell, matched: Matched) -> str:
            result = calc(cell)
            return "" if result is None else _decimal_text(result)

        return evaluate

    def sum(self) -> Callable[[Cell], Decimal | None]:
        left = self.product()
        while self.peek() is not None and self.peek().text in ("+", "-") and self.peek().kind == "op":  # type: ignore[union-attr]
            op = self.take().text
            right = self.product()
            left = _binary(op, left, right)
        return left

    def product(self) -> Callable[[Cell], Decimal | None]:
        left = self.factor()
        while self.peek() is not None and self.peek().text in ("*", "/") and self.peek().kind == "op":  # type: ignore[union-attr]
            op = self.take().text
            right = self.factor()
            left = _binary(op, left, right)
        return left

    def factor(self) -> Callable[[Cell], Decimal | None]:
        token = self.take()
        if token.kind == "number":
            constant = Decimal(token.text)
            return lambda cell: constant
        if token.kind == "column":
            name = self.column(token.text)
            return lambda cell: _number(cell(name), name)
        if token.kind == "op" and token.text == "(":
            inner = self.sum()
            self.expect_op(")")
            return inner
        if token.kind == "op" and token.text == "-":
            inner = self.factor()
            return lambda cell: None if (v := inner(cell)) is None else -v
        raise RuleError(
            f"“{token.text}” is neither a number nor a [column]; a condition needs “if” (e.g. won if [x] present)"
        )


def _number(raw: str, column: str) -> Decimal | None:
    if not raw:
        return None
    text = raw.replace(",", "").replace(" ", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CellValueError(f"column “{column}”: “{raw[:40]}” is not a number") from None
    if not value.is_finite():
        raise CellValueError(f"column “{column}”: “{raw[:40]}” is not a number")
    return value


def _binary(
    op: str, left: Callable[[Cell], Decimal | None], right: Callable[[Cell], Decimal | None]
) -> Callable[[Cell], Decimal | None]:
    def evaluate(cell: Cell) -> Decimal | None:
        a, b = left(cell), right(cell)
        if a is None or b is None:
            return None
        try:
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            return a / b
        except (DivisionByZero, InvalidOperation):
            raise CellValueError("a calculation divides by zero") from None

    return evaluate


def _decimal_text(value: Decimal) -> str:
    """Plain notation ("10", "2.5"), never "1E+1", so the field's own conversion reads it."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def rule_compile(text: str, *, columns: Sequence[str] | None = None, lookups: Sequence[str] | None = None) -> Evaluator:
    """The rule as a function of (cell, matched) -> raw value; RuleError says what is wrong.

    Without `columns` (no file yet) column names are not checked.
    """
    if not isinstance(text, str) or not text.strip():
        raise RuleError("is empty")
    return _Parser(text, columns, lookups).rule()


def rules_from_text(text: str) -> tuple[dict[str, str], list[str]]:
    """The browser's box, one `field: rule` per line, back to {field: rule}; errors name the line."""
    rules: dict[str, str] = {}
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        field, sep, rule = line.partition(":")
        if not sep or not rule.strip():
            errors.append(f"Line {number}: write it as “field: rule”, e.g. “stage: won if [won_date] present”.")
            continue
        try:
            rule_compile(rule)
        except RuleError as exc:
            errors.append(f"Line {number}: the rule {exc}.")
            continue
        if field.strip() in rules:
            errors.append(f"Line {number}: “{field.strip()}” has a rule already.")
            continue
        rules[field.strip()] = rule.strip()
    return rules, errors


def rules_to_text(rules: Mapping[str, str]) -> str:
    return "\n".join(f"{field}: {rule}" for field, rule in rules.items())
