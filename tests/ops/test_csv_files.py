"""The one CSV writer: every file the app writes neutralises formula cells the same way."""

import csv
import datetime
import io
from decimal import Decimal

import pytest

from leadhandoff.csv_files import csv_lines, csv_text


@pytest.mark.parametrize("text", ["=1+1", "+41 79", "-2", "@SUM(A1)", "\t=1", "\r=1"])
def test_text_that_a_spreadsheet_would_run_gets_a_leading_apostrophe(text):
    assert next(csv.reader(io.StringIO(csv_text([[text]])))) == ["'" + text]


def test_numbers_times_and_empty_values_are_written_as_themselves():
    at = datetime.datetime(2026, 11, 28, 9, 30, tzinfo=datetime.UTC)
    row = next(csv.reader(io.StringIO(csv_text([[-5, Decimal("-1.50"), at, None, "plain"]]))))
    assert row == ["-5", "-1.50", "2026-11-28T09:30:00+00:00", "", "plain"]


def test_the_streaming_form_writes_the_same_file_line_by_line():
    rows = [["a", "=b"], [1, None]]
    lines = list(csv_lines(rows))
    assert len(lines) == 2
    assert "".join(lines) == csv_text(rows)
