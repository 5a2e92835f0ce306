"""Reading a CSV for import: encodings, delimiters, and files that are not CSV at all."""

import pytest

from leadhandoff.csv_reader import CsvFile, ImportFileError


def test_it_reads_utf8_with_a_byte_order_mark_and_keeps_the_first_header_clean():
    csv_file = CsvFile.from_bytes("\ufeffEmail,Name\r\nzoë@example.com,Zoë\r\n".encode())
    assert csv_file.header == ["Email", "Name"]
    assert [(r.line, r.cells) for r in csv_file.rows()] == [(2, ["zoë@example.com", "Zoë"])]


def test_it_detects_semicolon_separated_files():
    csv_file = CsvFile.from_bytes(b"email;company;size\na@x.com;Acme, Inc.;12\n")
    assert csv_file.delimiter == ";"
    assert next(csv_file.rows()).cells == ["a@x.com", "Acme, Inc.", "12"]


def test_line_numbers_point_at_the_start_of_a_record_even_after_multi_line_cells():
    text = 'email,note\na@x.com,"two\nlines"\n\nb@x.com,plain\n'
    rows = list(CsvFile.from_bytes(text.encode()).rows())
    assert [(r.line, r.cells[0]) for r in rows] == [(2, "a@x.com"), (5, "b@x.com")]


def test_a_latin1_file_is_refused_with_the_line_of_the_first_bad_byte():
    data = "email,city\na@x.com,Paris\nb@x.com,Malmö\n".encode("latin-1")
    with pytest.raises(ImportFileError) as exc:
        CsvFile.from_bytes(data, name="leads.csv")
    assert "not UTF-8" in exc.value.message
    assert "line 3" in exc.value.message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00binary-xlsx", "Excel workbook"),
        (b"%PDF-1.7\n...", "PDF"),
        (b"email,name\x00\x00\x01\x02", "binary data"),
        ("email,name\n".encode("utf-16"), "UTF-16"),
        (b"", "empty"),
        (b"   \n\n", "empty"),
    ],
)
def test_files_that_are_not_csv_are_refused_with_a_reason(data, expected):
    with pytest.raises(ImportFileError) as exc:
        CsvFile.from_bytes(data)
    assert expected in exc.value.message


def test_a_header_naming_a_column_twice_is_refused():
    with pytest.raises(ImportFileError, match="appears twice"):
        CsvFile.from_bytes(b"email,Email\na@x.com,b@x.com\n")


def test_a_header_with_an_unnamed_column_is_refused():
    with pytest.raises(ImportFileError, match="Column 2"):
        CsvFile.from_bytes(b"email,,name\na@x.com,1,A\n")


def test_broken_quoting_anywhere_in_the_file_is_found_before_importing():
    csv_file = CsvFile.from_bytes(b'email,name\na@x.com,ok\nb@x.com,"broken"quote\n')
    with pytest.raises(ImportFileError, match="Line 3"):
        _ = csv_file.row_count


def test_a_missing_file_is_named_in_the_error(tmp_path):
    with pytest.raises(ImportFileError, match="no such file"):
        CsvFile.from_path(tmp_path / "nope.csv")
