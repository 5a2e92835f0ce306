"""How an events file's rows become events (pure: no ORM).

A mapping is:

    {"key": "email" | "external_id", "key_column": "Email",
     "events": "rows",                         # one row per event
     "kind_column": "Activity", "time_column": "When",
     "id_column": "Event id",                  # optional: the file's event id
     "property_columns": ["Page"],             # optional: kept in the event's properties

     "events": "columns",                      # or: events derived from numeric columns
     "columns": {"TotalVisits": {"kind": "page_view", "as": "events" | "count"}},
     "time": "2025-06-01T00:00:00+00:00"  or  "time_column": "Last Activity"}

"events" makes N events of the kind (TotalVisits = 5 -> five page views at the
stated time); "count" makes one event carrying {"count": N}.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from leadhandoff.api import ApplicationError

# One derived cell makes at most this many events (a typo of 50000 visits is refused, not stored).
MAX_EVENTS_PER_CELL = 1000
MODES = ("rows", "columns")
DERIVED_AS = ("events", "count")


@dataclass
class RowEvents:
    line: int
    events: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""


def mapping_check(mapping: Any, header: list[str], kinds: Iterable[str]) -> dict[str, Any]:
    """The mapping, checked against the file's header and the known kinds; ApplicationError naming each fault."""
    errors: dict[str, list[str]] = {}
    if not isinstance(mapping, dict):
        raise ApplicationError("Give the mapping as a JSON object.", fields={"mapping": ["Give a JSON object."]})
    kinds = set(kinds)
    columns = set(header)

    def column(name: str, *, required: bool = True) -> str:
        value = mapping.get(name) or ""
        if not value:
            if required:
                errors.setdefault(name, []).append("Name the column.")
            return ""
        if value not in columns:
            errors.setdefault(name, []).append(f"The file has no column “{value}”.")
        return value

    key = mapping.get("key") or "email"
    if key not in ("email", "external_id"):
        errors["key"] = ["email or external_id."]
    checked: dict[str, Any] = {"key": key, "key_column": column("key_column")}
    mode = mapping.get("events") or "rows"
    if mode not in MODES:
        errors["events"] = ["rows (one row per event) or columns (events derived from columns)."]
    checked["events"] = mode
    if mode == "rows":
        checked["kind_column"] = column("kind_column")
        checked["time_column"] = column("time_column")
        checked["id_column"] = column("id_column", required=False)
        props = mapping.get("property_columns")
        if props is None:
            used = {checked["key_column"], checked["kind_column"], checked["time_column"], checked["id_column"]}
            props = [h for h in header if h not in used]
        if not isinstance(props, list) or any(p not in columns for p in props):
            errors["property_columns"] = ["A list of the file's columns."]
        checked["property_columns"] = props
    elif mode == "columns":
        derived = mapping.get("columns")
        if not isinstance(derived, dict) or not derived:
            errors["columns"] = ["Name at least one column and the event kind it counts."]
            derived = {}
        clean = {}
        for name, spec in derived.items():
            spec = {"kind": spec} if isinstance(spec, str) else spec
            if name not in columns:
                errors.setdefault("columns", []).append(f"The file has no column “{name}”.")
            elif not isinstance(spec, dict) or spec.get("kind") not in kinds:
                errors.setdefault("columns", []).append(f"“{name}”: give a known event kind.")
            elif (spec.get("as") or "events") not in DERIVED_AS:
                errors.setdefault("columns", []).append(f"“{name}”: as events or count.")
            else:
                clean[name] = {"kind": spec["kind"], "as": spec.get("as") or "events"}
        checked["columns"] = clean
        if mapping.get("time_column"):
            checked["time_column"] = column("time_column")
        elif mapping.get("time"):
            try:
                when = datetime.datetime.fromisoformat(str(mapping["time"]))
            except ValueError:
                errors["time"] = ["An ISO date and time, e.g. 2025-06-01T00:00:00+00:00."]
            else:
                checked["time"] = when.isoformat()
        else:
            errors["time"] = ["Give the time of the derived events, or a column holding it."]
    if errors:
        raise ApplicationError("The events mapping cannot be used.", fields=errors)
    return checked


def _derived_id(*parts: str) -> str:
    """An external id from the event's identity: a second import of the same row finds it taken."""
    return "csv:" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]


def _time_key(raw: str) -> str:
    try:
        when = datetime.datetime.fromisoformat(raw)
    except ValueError:
        return raw
    if when.tzinfo is not None:
        when = when.astimezone(datetime.UTC)
    return when.isoformat()


def row_events(mapping: dict[str, Any], header: list[str], line: int, cells: list[str]) -> RowEvents:
    """The event payloads (events_ingest's shape) one row makes, or its error."""
    out = RowEvents(line=line)
    if len(cells) != len(header):
        out.error = f"has {len(cells)} fields, the header has {len(header)}"
        return out
    row = dict(zip(header, (c.strip() for c in cells), strict=True))
    key = row[mapping["key_column"]]
    if not key:
        out.error = f"has no {mapping['key'].replace('_', ' ')} (the key column)"
        return out
    key_field = "email" if mapping["key"] == "email" else "lead_external_id"
    lead_key = key.lower() if key_field == "email" else key
    if mapping["events"] == "rows":
        kind, when = row[mapping["kind_column"]], row[mapping["time_column"]]
        given = row[mapping["id_column"]] if mapping.get("id_column") else ""
        out.events.append(
            {
                key_field: key,
                "kind": kind,
                "occurred_at": when,
                "properties": {p: row[p] for p in mapping["property_columns"] if row[p]},
                "external_id": given or _derived_id(lead_key, kind, _time_key(when)),
            }
        )
        return out
    when = row[mapping["time_column"]] if mapping.get("time_column") else mapping["time"]
    for column, spec in mapping["columns"].items():
        raw = row[column]
        if not raw:
            continue
        try:
            number = Decimal(raw.replace(",", "."))
        except InvalidOperation:
            out.error = f"column “{column}”: “{raw[:40]}” is not a number"
            return out
        if number < 0 or number != number.to_integral_value():
            out.error = f"column “{column}”: {raw} is not a whole number of events"
            return out
        count = int(number)
        if spec["as"] == "count":
            if count:
                out.events.append(
                    {
                        key_field: key,
                        "kind": spec["kind"],
                        "occurred_at": when,
                        "properties": {"count": count, "column": column},
                        "external_id": _derived_id(lead_key, spec["kind"], _time_key(when), column),
                    }
                )
            continue
        if count > MAX_EVENTS_PER_CELL:
            out.error = f"column “{column}”: {count} events is more than {MAX_EVENTS_PER_CELL} for one cell"
            return out
        out.events += [
            {
                key_field: key,
                "kind": spec["kind"],
                "occurred_at": when,
                "properties": {"column": column},
                "external_id": _derived_id(lead_key, spec["kind"], _time_key(when), column, str(n)),
            }
            for n in range(1, count + 1)
        ]
    return out
