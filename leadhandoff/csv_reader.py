"""Reading an uploaded CSV: encoding, delimiter, header and rows with their line numbers.

The one CSV reader, shared by the lead import (leads.imports) and the roster
import (accounts.roster), so both accept and refuse files alike.

The whole file is decoded and checked before anything is written, so a broken
byte on line 90,000 refuses the file up front instead of half-way through an
import (nothing stored changes when a file cannot be read).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from leadhandoff.api import ApplicationError

# Signatures of files people upload by mistake instead of a CSV export.
_BINARY_SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook or ZIP archive",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or Word document",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"\x1f\x8b": "a gzip archive",
}
DELIMITERS = (",", ";")
SAVE_AS_CSV = "Save it as “CSV UTF-8 (comma delimited)” and upload it again."


class ImportFileError(ApplicationError):
    """The file cannot be read as a CSV at all; the message tells the user what to do."""


@dataclass(frozen=True)
class CsvRow:
    line: int  # physical line where the record starts; the header is line 1
    cells: list[str]


class CsvFile:
    """A decoded, checked CSV: `header`, `delimiter`, `rows()` and `row_count`."""

    def __init__(self, text: str, *, name: str = "the file"):
        self.name = name
        self.text = text
        self.delimiter = _sniff_delimiter(text)
        reader = self._reader()
        try:
            header = next(reader)
        except StopIteration:
            raise ImportFileError(f"{name} is empty: it has no header line.") from None
        except csv.Error as exc:
            raise ImportFileError(f"{name} is not a readable CSV file ({exc}). {SAVE_AS_CSV}") from exc
        self.header = [cell.strip() for cell in header]
        _check_header(self.header, name)
        self._row_count: int | None = None

    @classmethod
    def from_bytes(cls, data: bytes, *, name: str = "the file") -> CsvFile:
        return cls(decode(data, name=name), name=name)

    @classmethod
    def from_path(cls, path, *, name: str | None = None) -> CsvFile:
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            raise ImportFileError(f"{path}: no such file.") from None
        except IsADirectoryError:
            raise ImportFileError(f"{path} is a directory, not a CSV file.") from None
        except OSError as exc:
            raise ImportFileError(f"{path} cannot be read: {exc.strerror}.") from exc
        return cls.from_bytes(data, name=name or str(path))

    def _reader(self):
        return csv.reader(io.StringIO(self.text, newline=""), delimiter=self.delimiter, strict=True)

    def rows(self) -> Iterator[CsvRow]:
        """Data rows (blank lines skipped) with the line each one starts on."""
        reader = self._reader()
        next(reader)  # header, checked in __init__
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # Checked by row_count before any import runs, so this is a bug or a changed file.
                raise ImportFileError(f"Line {start} of {self.name} is not valid CSV ({exc}).") from exc
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            yield CsvRow(line=start, cells=cells)

    @property
    def row_count(self) -> int:
        """Number of data rows; reading them all also proves the whole file parses."""
        if self._row_count is None:
            # The reader alone, no CsvRow per record: this pass runs before every import.
            reader = self._reader()
            next(reader)  # header
            count, start = 0, reader.line_num + 1
            try:
                for cells in reader:
                    if cells and (len(cells) > 1 or cells[0].strip()):
                        count += 1
                    start = reader.line_num + 1
            except csv.Error as exc:
                raise ImportFileError(f"Line {start} of {self.name} is not valid CSV ({exc}).") from exc
            self._row_count = count
        return self._row_count


def decode(data: bytes, *, name: str = "the file") -> str:
    """UTF-8 with or without a byte-order mark; anything else is refused with the place it broke."""
    if not data.strip():
        raise ImportFileError(f"{name} is empty.")
    for signature, what in _BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise ImportFileError(f"{name} is not a CSV file: it looks like {what}. {SAVE_AS_CSV}")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(f"{name} is UTF-16 text; only UTF-8 is supported. {SAVE_AS_CSV}")
    if b"\x00" in data[:65536]:
        raise ImportFileError(f"{name} is not a CSV file: it contains binary data. {SAVE_AS_CSV}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 1].hex().upper()
        raise ImportFileError(
            f"{name} is not UTF-8 text: byte 0x{bad} on line {line} cannot be read "
            f"(files saved as Latin-1 or Windows-1252 look like this). {SAVE_AS_CSV}"
        ) from exc
    if "\x00" in text:
        raise ImportFileError(f"{name} is not a CSV file: it contains binary data. {SAVE_AS_CSV}")
    return text


def _sniff_delimiter(text: str) -> str:
    """Comma or semicolon, whichever splits the header line into more columns outside quotes."""
    first_line = text.split("\n", 1)[0]
    counts = {}
    for delimiter in DELIMITERS:
        try:
            counts[delimiter] = len(next(csv.reader([first_line], delimiter=delimiter)))
        except (csv.Error, StopIteration):
            counts[delimiter] = 0
    return max(DELIMITERS, key=lambda d: (counts[d], d == ","))


def _check_header(header: list[str], name: str) -> None:
    if not any(header):
        raise ImportFileError(f"The first line of {name} is blank: it must name the columns.")
    if any(len(cell) > 200 for cell in header):
        raise ImportFileError(
            f"{name} is not a CSV file with a header line (a column name is over 200 characters). {SAVE_AS_CSV}"
        )
    if not all(header):
        position = header.index("") + 1
        raise ImportFileError(f"Column {position} of {name} has no name in the header line.")
    seen: set[str] = set()
    for cell in header:
        if cell.lower() in seen:
            raise ImportFileError(f"The column “{cell}” appears twice in the header of {name}; rename one.")
        seen.add(cell.lower())
