"""Turning one CSV row into checked lead values, in plain Python (no ORM per row).

`Plan.compile(mapping, header)` does the per-import work once (which cell feeds
which field, value maps, converters); `plan.parse(row)` then costs a few dict
look-ups per cell, which is what lets the writer keep pace with COPY.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from leadhandoff.api import ApplicationError
from leadhandoff.csv_reader import CsvRow
from leads.fields.services import yes_no_parse
from leads.imports.derived import CellValueError, Evaluator, RuleError, rule_compile
from leads.imports.mapping import (
    ATTRIBUTE_PREFIX,
    CHOICE_FIELDS,
    CONSENT_TARGETS,
    OWNER_TEAM_FIELDS,
    STAGES,
    TEXT_LIMITS,
    key_field,
    lookup_name,
    lookup_names,
    mapping_check,
    targets_of,
)
from leads.models import Status

# A strict subset of what Django's EmailValidator accepts (dot-atom local part, ASCII host
# names): most addresses match it quickly; the rest go through the validator itself, so an
# import accepts exactly the emails the model and the API accept.
_EMAIL_FAST = re.compile(
    r"[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+(?:\.[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_NUMBER_JUNK = re.compile(r"[\s$€£¥]|(?<=\d)'(?=\d)")
INT_FIELDS = {"company_size", "touch_count"}
DECIMAL_FIELDS = {"annual_revenue": (16, 2), "deal_value": (14, 2)}
DATE_FIELDS = {"created_at", "first_contact_at", "closed_at"}
_MAX_INT = 2_147_483_647
# Team.name, User names, Team.region (accounts.roster.parse checks them again).
OWNER_TEAM_LIMITS = {"owner_team": 100, "owner_manager": 150, "owner_region": 100}
DERIVED_PREFIX = "derived:"
_KIND_TEXT, _KIND_VALUE, _KIND_OTHER = 0, 1, 2
_NO_MAP: tuple[dict[str, Any], dict[str, Any]] = ({}, {})


class CellError(ValueError):
    pass


@dataclass(slots=True)
class ParsedRow:
    line: int
    values: dict[str, Any]  # lead field -> value (blank cells absent)
    attributes: dict[str, Any]
    owner: str | None = None
    stage: str | None = None  # "open", "won", "lost" or a lead status
    errors: list[str] = field(default_factory=list)
    # The owner's team, manager and region when the file gives them ("team", "manager", "region").
    roster: dict[str, str] = field(default_factory=dict)
    key_failed: bool = False  # the key cell had a value that did not convert (already reported)

    @property
    def email_key(self) -> str | None:
        email = self.values.get("email")
        return email.lower() if email else None

    @property
    def external_id(self) -> str | None:
        return self.values.get("external_id")


def _text(limit: int) -> Callable[[str], str]:
    def convert(raw: str) -> str:
        if len(raw) > limit:
            raise CellError(f"is {len(raw)} characters long; the limit is {limit}")
        return raw

    return convert


def _email(raw: str) -> str:
    if len(raw) > 254:
        raise CellError(f"“{raw[:80]}…” is not an email address (over 254 characters)")
    if not _EMAIL_FAST.fullmatch(raw):
        try:
            validate_email(raw)
        except ValidationError:
            raise CellError(f"“{raw[:80]}” is not an email address") from None
    return raw


def _number_text(raw: str, decimal_comma: bool) -> str:
    text = _NUMBER_JUNK.sub("", raw)
    if decimal_comma:
        text = text.replace(".", "").replace(",", ".")
    else:
        text = text.replace(",", "")
    return text


def _integer(decimal_comma: bool) -> Callable[[str], int]:
    def convert(raw: str) -> int:
        text = _number_text(raw, decimal_comma)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise CellError(f"“{raw[:40]}” is not a whole number") from None
        if number != number.to_integral_value() or number < 0 or number > _MAX_INT:
            raise CellError(f"“{raw[:40]}” is not a whole number of 0 or more")
        return int(number)

    return convert


def _decimal(max_digits: int, places: int, decimal_comma: bool) -> Callable[[str], Decimal]:
    limit = Decimal(10) ** (max_digits - places)

    def convert(raw: str) -> Decimal:
        text = _number_text(raw, decimal_comma)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise CellError(f"“{raw[:40]}” is not a number") from None
        if not number.is_finite() or abs(number) >= limit:
            raise CellError(f"“{raw[:40]}” is out of range")
        return number.quantize(Decimal(1).scaleb(-places))

    return convert


def _date(date_format: str | None, tz: datetime.tzinfo) -> Callable[[str], datetime.datetime]:
    def convert(raw: str) -> datetime.datetime:
        try:
            if date_format:
                when = datetime.datetime.strptime(raw, date_format)  # noqa: DTZ007 - made aware below
            else:
                when = datetime.datetime.fromisoformat(raw.replace(" UTC", "+00:00"))
        except ValueError:
            expected = f"the format {date_format}" if date_format else "an ISO date such as 2024-03-31"
            raise CellError(f"“{raw[:40]}” is not a date in {expected}") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=tz)
        return when

    return convert


def _yes_no(raw: str) -> bool:
    try:
        return yes_no_parse(raw)
    except ValueError:
        raise CellError(f"“{raw[:40]}” is not yes or no") from None


def _choice(name: str) -> Callable[[str], str]:
    table = CHOICE_FIELDS[name]

    def convert(raw: str) -> str:
        value = table.get(raw.lower())
        if value is None:
            raise CellError(f"“{raw[:40]}” is not one of {', '.join(sorted(set(table.values())))}")
        return value

    return convert


def _stage(raw: str) -> str:
    low = raw.strip().lower()
    if low in STAGES:
        return low
    if low in Status.values:
        return low
    raise CellError(f"“{raw[:40]}” is not a stage: map it to open, won or lost in the value mapping")


def _plain(raw: str) -> str:
    return raw


@dataclass
class Plan:
    """A mapping compiled against one file's header."""

    mapping: dict[str, Any]
    header: list[str]
    key: str
    mapped: set[str]
    # (cell index, targets, raw label for messages)
    cells: list[tuple[int, list[str], str]]
    converters: dict[str, Callable[[str], Any]]
    value_maps: dict[str, tuple[dict[str, Any], dict[str, Any]]]  # field -> (exact, lower-cased)
    star_map: tuple[dict[str, Any], dict[str, Any]]
    defaults: dict[str, Any]
    lookups: list[tuple[int, dict[str, dict[str, str]], list[str], str]]  # (cell index, key->row, columns, name)
    options: dict[str, Any]
    # (field, rule) in mapping order; each fills the virtual column "derived:<field>".
    derived: list[tuple[str, Evaluator]] = field(default_factory=list)
    extended: list[str] = field(default_factory=list)  # header + lookup columns + derived columns
    column_index: dict[str, int] = field(default_factory=dict)  # what a rule reads: header and lookup columns
    # The hot loop's instructions, one per (cell, field): (cell index, field, column, kind, limit or
    # converter, has a value map). Built once so a row costs a few look-ups per cell.
    ops: list[tuple[int, str, str, int, Any, bool]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ops = []
        for index, targets, column in self.cells:
            for name in targets:
                has_map = name in self.value_maps or bool(self.star_map[0])
                if name in TEXT_LIMITS and name != "email":
                    self.ops.append((index, name, column, _KIND_TEXT, TEXT_LIMITS[name], has_map))
                elif (
                    name in ("owner", "stage", "full_name")
                    or name in OWNER_TEAM_FIELDS
                    or name.startswith(ATTRIBUTE_PREFIX)
                ):
                    self.ops.append((index, name, column, _KIND_OTHER, None, has_map))
                else:
                    self.ops.append((index, name, column, _KIND_VALUE, self.converters[name], has_map))

    @classmethod
    def compile(
        cls,
        mapping: Mapping[str, Any],
        header: list[str],
        *,
        lookup_files: Mapping[str, list[dict[str, str]]] | None = None,
    ) -> Plan:
        """`lookup_files` (file name -> rows) gives the rows of lookups that name a `file`
        (the browser's lookup uploads, kept on the job)."""
        mapping = lookups_resolve(mapping, lookup_files or {})
        errors = mapping_check(mapping, header=header)
        if errors:
            raise ApplicationError("The column mapping cannot be used with this file.", fields=errors)
        columns: dict[str, Any] = mapping.get("columns") or {}
        options: dict[str, Any] = dict(mapping.get("options") or {})
        tz = zoneinfo.ZoneInfo(timezone.get_default_timezone_name())
        decimal_comma = bool(options.get("decimal_comma"))

        # Lookup columns ("account.sector") come after the file's own columns.
        extended = list(header)
        lookups = []
        for lookup in options.get("lookups") or []:
            base = header.index(lookup["column"]) if lookup["column"] in header else None
            if base is None:
                raise ApplicationError(
                    "The column mapping cannot be used with this file.",
                    fields={"options": [f"The lookup names a column “{lookup['column']}” the file does not have."]},
                )
            rows = lookup["rows"]
            names = list(rows[0] if rows else {})
            table = {str(r.get(lookup["key"], "")).strip().lower(): r for r in rows}
            prefix = lookup_name(lookup)
            lookups.append((base, table, names, prefix))
            extended.extend(f"{prefix}.{n}" for n in names)

        derived: list[tuple[str, Evaluator]] = []
        for target, rule in (options.get("derived") or {}).items():
            try:
                derived.append((target, rule_compile(rule, columns=extended, lookups=lookup_names(options))))
            except RuleError as exc:
                raise ApplicationError(
                    "The column mapping cannot be used with this file.",
                    fields={"derived": [f"“{target}”: the rule {exc}."]},
                ) from exc
        source_width = len(extended)
        extended.extend(f"{DERIVED_PREFIX}{target}" for target, _rule in derived)
        columns = dict(columns) | {f"{DERIVED_PREFIX}{target}": target for target, _rule in derived}

        cells = []
        mapped: set[str] = set()
        for column, spec in columns.items():
            targets = targets_of(spec)
            if targets and column in extended:
                cells.append((extended.index(column), targets, column))
                mapped.update(targets)
        defaults = dict(options.get("defaults") or {})
        mapped.update(defaults)

        converters: dict[str, Callable[[str], Any]] = {}
        for name in mapped:
            if name == "email":
                converters[name] = _email
            elif name in TEXT_LIMITS:
                converters[name] = _text(TEXT_LIMITS[name])
            elif name in INT_FIELDS:
                converters[name] = _integer(decimal_comma)
            elif name in DECIMAL_FIELDS:
                converters[name] = _decimal(*DECIMAL_FIELDS[name], decimal_comma)
            elif name in DATE_FIELDS:
                converters[name] = _date(options.get("date_format") or None, tz)
            elif name in CHOICE_FIELDS:
                converters[name] = _choice(name)
            elif name == "stage":
                converters[name] = _stage
            elif name in OWNER_TEAM_LIMITS:
                converters[name] = _text(OWNER_TEAM_LIMITS[name])
            elif name in CONSENT_TARGETS:  # issue 14: consent columns (leads.fields)
                converters[name] = _yes_no
            else:  # owner, full_name, attributes.*
                converters[name] = _plain

        def compiled(table: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
            exact = {str(k): v for k, v in table.items()}
            return exact, {k.strip().lower(): v for k, v in exact.items()}

        values = mapping.get("values") or {}
        return cls(
            mapping=dict(mapping),
            header=header,
            key=key_field(mapped, options) or "",
            mapped=mapped,
            cells=cells,
            converters=converters,
            value_maps={f: compiled(t) for f, t in values.items() if f != "*"},
            star_map=compiled(values.get("*") or {}),
            defaults=defaults,
            lookups=lookups,
            options=options,
            derived=derived,
            extended=extended,
            column_index={name: i for i, name in enumerate(extended[:source_width])},
        )

    def _map_value(self, name: str, raw: str) -> Any:
        for exact, lowered in (self.value_maps.get(name, _NO_MAP), self.star_map):
            if raw in exact:
                return exact[raw]
            low = raw.lower()
            if low in lowered:
                return lowered[low]
        return raw

    def parse(self, row: CsvRow) -> ParsedRow:
        cells = row.cells
        parsed = ParsedRow(line=row.line, values={}, attributes={})
        width = len(self.header)
        if len(cells) != width:
            parsed.errors.append(f"has {len(cells)} fields, the header has {width}")
            return parsed
        matched: dict[str, bool] = {}
        if self.lookups or self.derived:
            cells = list(cells)
            for base, table, names, prefix in self.lookups:
                found = table.get(cells[base].strip().lower())
                matched[prefix] = found is not None
                cells.extend(str((found or {}).get(n, "")) for n in names)
        if self.derived:
            try:
                cells.extend(self._derive(cells, matched))
            except CellValueError as exc:
                parsed.errors.append(str(exc))
                return parsed
        values = parsed.values
        errors = parsed.errors
        for index, name, column, kind, arg, has_map in self.ops:
            raw = cells[index].strip()
            if has_map:
                mapped = self._map_value(name, raw)
                if not isinstance(mapped, str):
                    self._assign(parsed, name, raw, column)  # a JSON value from the map
                    continue
                raw = mapped.strip()
            if not raw:
                continue
            if kind == _KIND_TEXT:
                if len(raw) > arg:
                    errors.append(f"column “{column}”: is {len(raw)} characters long; the limit is {arg}")
                else:
                    values[name] = raw
            elif kind == _KIND_VALUE:
                try:
                    values[name] = arg(raw)
                except CellError as exc:
                    errors.append(f"column “{column}”: {exc}")
                    parsed.key_failed = parsed.key_failed or name == self.key
            else:
                self._assign(parsed, name, raw, column, premapped=True)
        for name, default in self.defaults.items():
            if not self._is_set(parsed, name):
                self._assign(parsed, name, str(default), "default")
        if not values.get(self.key) and not parsed.key_failed:
            label = "email" if self.key == "email" else "external id"
            parsed.errors.append(f"has no {label} (the key column)")
        return parsed

    def _derive(self, cells: list[str], matched: dict[str, bool]) -> list[str]:
        """The derived columns' raw values; a rule reads cells after the "*" value map (Select -> "")."""
        index = self.column_index

        def cell(name: str) -> str:
            raw = cells[index[name]].strip()
            if self.star_map[0]:
                mapped = self._map_value("*", raw)
                raw = "" if mapped is None else str(mapped).strip()
            return raw

        def is_matched(name: str) -> bool:
            return matched.get(name, False)

        return [rule(cell, is_matched) for _target, rule in self.derived]

    @staticmethod
    def _is_set(parsed: ParsedRow, name: str) -> bool:
        if name == "owner":
            return parsed.owner is not None
        if name == "stage":
            return parsed.stage is not None
        if name == "full_name":
            return "first_name" in parsed.values
        if name in OWNER_TEAM_FIELDS:
            return OWNER_TEAM_FIELDS[name] in parsed.roster
        if name.startswith(ATTRIBUTE_PREFIX):
            return name[len(ATTRIBUTE_PREFIX) :] in parsed.attributes
        return name in parsed.values

    def _assign(self, parsed: ParsedRow, name: str, raw: str, column: str, *, premapped: bool = False) -> None:
        if not premapped and (name in self.value_maps or self.star_map[0]):
            mapped = self._map_value(name, raw)
            if not isinstance(mapped, str):  # a JSON value from the map (attributes only make sense)
                if name.startswith(ATTRIBUTE_PREFIX):
                    parsed.attributes[name[len(ATTRIBUTE_PREFIX) :]] = mapped
                    return
                mapped = "" if mapped is None else str(mapped)
            raw = mapped.strip()
        if not raw:
            return
        try:
            value = self.converters[name](raw)
        except CellError as exc:
            parsed.errors.append(f"column “{column}”: {exc}")
            parsed.key_failed = parsed.key_failed or name == self.key
            return
        if name.startswith(ATTRIBUTE_PREFIX):
            parsed.attributes[name[len(ATTRIBUTE_PREFIX) :]] = value
        elif name == "owner":
            parsed.owner = value
        elif name == "stage":
            parsed.stage = value
        elif name in OWNER_TEAM_FIELDS:
            parsed.roster[OWNER_TEAM_FIELDS[name]] = value
        elif name == "full_name":
            first, _, last = value.rpartition(" ")
            first, last = (first, last) if first else (last, "")
            for part, part_value in (("first_name", first.strip()), ("last_name", last.strip())):
                if len(part_value) > TEXT_LIMITS[part]:
                    parsed.errors.append(f"column “{column}”: the {part.replace('_', ' ')} is too long")
                elif part_value:
                    parsed.values[part] = part_value
        else:
            parsed.values[name] = value


def lookups_resolve(mapping: Mapping[str, Any], lookup_files: Mapping[str, list[dict[str, str]]]) -> dict[str, Any]:
    """The mapping with each lookup that names an uploaded `file` given that file's rows."""
    options = dict(mapping.get("options") or {})
    lookups = options.get("lookups") or []
    if not lookups or not isinstance(lookups, list):
        return dict(mapping)
    resolved = []
    for lookup in lookups:
        if isinstance(lookup, dict) and "rows" not in lookup and lookup.get("file"):
            rows = lookup_files.get(lookup["file"])
            if rows is None:
                raise ApplicationError(
                    "The column mapping cannot be used with this file.",
                    fields={"options": [f"The lookup file “{lookup['file']}” was not uploaded with this import."]},
                )
            lookup = {k: v for k, v in lookup.items() if k != "file"} | {"rows": rows}
        resolved.append(lookup)
    return dict(mapping) | {"options": options | {"lookups": resolved}}
