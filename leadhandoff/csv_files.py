"""The one CSV writer for every file the app writes (the pool export, the rejected
rows of an import, the reports' exports).

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or a tab or a
carriage return before one) as a formula. Lead data comes from outside, so no
text cell leaves the app starting with one: it gets a leading apostrophe, which
spreadsheets show as text (OWASP, "CSV Injection"). Numbers are written as they are,
so a negative value stays a number.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable, Iterator, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> object:
    """One value as written: empty for None, ISO 8601 for times, neutralised text."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class _Echo:
    """A file-like object for csv.writer that hands each line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """Each row as one CSV line, for a StreamingHttpResponse (nothing is held in memory)."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([cell(value) for value in row])


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """The whole file as one string, for files small enough to build at once."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return out.getvalue()
