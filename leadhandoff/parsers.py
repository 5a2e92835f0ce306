"""The API's JSON parser: hostile input is a 400 naming the field, never a 500.

Two things the standard parser lets through break further in:
- nesting: Python's JSON decoder recurses once per level, so a body nested
  1,000 deep raised RecursionError (a 500, on the unauthenticated token
  endpoint too). The depth is measured on the raw bytes, before decoding.
- text PostgreSQL cannot store: the NUL character (neither text nor jsonb holds
  it) and lone UTF-16 surrogates such as "\\ud800" (not encodable as UTF-8).
  Both are valid JSON escapes, so only a look at the decoded strings finds them.

`text_fault` is the same string check for services that take nested values
(lead attributes, event properties, definition rules) and must name the field
themselves, such as the event batch, where one bad event is refused alone.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Deep enough for any payload the API takes (definition rules are about 5 levels).
JSON_MAX_DEPTH = 32

# A JSON string token; possessive quantifiers keep an unterminated one linear.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")

NUL_MESSAGE = "Text may not contain the NUL character (\\u0000)."
SURROGATE_MESSAGE = "Text may not contain a lone surrogate (such as \\ud800); send valid UTF-8."


def json_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in a JSON document (brackets inside strings ignored)."""
    level = deepest = 0
    for bracket in _BRACKETS.findall(_STRING.sub(b"", raw)):
        if bracket in b"[{":
            level += 1
            deepest = max(deepest, level)
        else:
            level -= 1
    return deepest


def _string_fault(text: str) -> str | None:
    if "\x00" in text:
        return NUL_MESSAGE
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE_MESSAGE
    return None


def text_fault(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first string (key or value) PostgreSQL could not store, as (path, message); None if all is well.

    The path names where it is, e.g. "attributes.notes" or "rules[2].label".
    """
    if isinstance(value, str):
        message = _string_fault(value)
        return (path, message) if message else None
    if isinstance(value, dict):
        for key, item in value.items():
            key_text = str(key)
            here = f"{path}.{key_text}" if path else key_text
            message = _string_fault(key_text)
            if message:
                return (path or "non_field_errors", message)
            fault = text_fault(item, here)
            if fault:
                return fault
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            fault = text_fault(item, f"{path}[{index}]")
            if fault:
                return fault
    return None


def text_fault_fields(value: Any, path: str = "") -> dict[str, list[str]] | None:
    """text_fault as the API's field messages: {top-level field: ["where: what"]}."""
    fault = text_fault(value, path)
    if fault is None:
        return None
    where, message = fault
    field = re.split(r"[.\[]", where, maxsplit=1)[0] if where and not where.startswith("[") else "non_field_errors"
    return {field: [f"{where}: {message}" if where and where != field else message]}


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with a nesting limit and a check of every string.

    `check_text = False` leaves the string check to the view's service (the
    event batch refuses a bad event alone and stores the rest).
    """

    max_depth = JSON_MAX_DEPTH
    check_text = True

    def parse(self, stream, media_type=None, parser_context=None):
        # Imported here: DRF loads this class while leadhandoff.api is still importing DRF.
        from leadhandoff.api import ApplicationError

        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        if json_depth(raw) > self.max_depth:
            raise ApplicationError(
                f"The JSON is nested too deeply (at most {self.max_depth} levels).",
                fields={"non_field_errors": [f"Nest arrays and objects at most {self.max_depth} levels deep."]},
            )
        try:
            data = json.loads(raw.decode(encoding), parse_constant=self._refuse_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        if self.check_text:
            fields = text_fault_fields(data)
            if fields:
                raise ApplicationError("Some text cannot be stored: fix the fields named.", fields=fields)
        return data

    @staticmethod
    def _refuse_constant(name: str):
        # NaN and Infinity are not JSON (DRF's own parser refuses them too).
        raise ValueError(f"{name} is not valid JSON")


class EventJSONParser(JSONParser):
    check_text = False
