"""`manage.py import_leads PATH --mapping MAPPING.json [--dry-run]`."""

import csv
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from leads.models import Lead, LeadHistory
from tests.factories import LeadFactory

MAPPING = {
    "columns": {"Email": "email", "Name": "full_name", "Employees": "company_size"},
    "values": {"*": {"Select": ""}},
}


@pytest.fixture
def files(tmp_path):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps(MAPPING))
    data = tmp_path / "leads.csv"
    data.write_text(
        "Email,Name,Employees\nann@acme.com,Ann Lee,50\nbob@beta.io,Bob Ray,Select\nbad,Cy,1\nbob@beta.io,Bob 2,3\n",
        encoding="utf-8",
    )
    return tmp_path, data, mapping


def command(*args, **kwargs):
    out, err = StringIO(), StringIO()
    call_command("import_leads", *args, stdout=out, stderr=err, no_progress=True, **kwargs)
    return out.getvalue(), err.getvalue()


def test_it_imports_and_prints_a_summary_and_the_rejected_lines(db, files):
    tmp_path, data, mapping = files
    LeadFactory(email="ANN@acme.com", company_size=10)
    out, err = command(str(data), mapping=str(mapping), rejections=str(tmp_path / "rejected.csv"))
    assert out.strip().splitlines()[-1] == "created 1, updated 1, rejected 2 of 4 rows."
    assert "line 4: column “Email”: “bad” is not an email address" in err
    assert "line 5: duplicate: same email as line 3 (first row kept)" in err
    with open(tmp_path / "rejected.csv", encoding="utf-8") as fh:
        assert list(csv.reader(fh))[0] == ["line", "reason", "key"]
    ann = Lead.objects.get(email__iexact="ann@acme.com")
    assert (ann.first_name, ann.last_name, ann.company_size) == ("Ann", "Lee", 50)
    assert Lead.objects.get(email="bob@beta.io").company_size is None


def test_a_dry_run_reports_the_same_counts_and_writes_nothing(db, files):
    _tmp, data, mapping = files
    out, _err = command(str(data), mapping=str(mapping), dry_run=True)
    assert "Dry run, nothing written: would have created 2, updated 0, rejected 2 of 4 rows." in out
    assert not Lead.objects.exists()
    assert not LeadHistory.objects.exists()


def test_a_second_run_updates_instead_of_duplicating(db, files):
    _tmp, data, mapping = files
    command(str(data), mapping=str(mapping))
    out, _err = command(str(data), mapping=str(mapping))
    assert "created 0, updated 2, rejected 2 of 4 rows." in out
    assert Lead.objects.count() == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"PK\x03\x04\x14\x00binary", "looks like an Excel workbook"),
        ("Email,Name\nzoë@x.com,Zoë\n".encode("cp1252"), "is not UTF-8 text"),
        (b"", "is empty"),
    ],
    ids=["missing", "not-csv", "broken-encoding", "empty"],
)
def test_a_file_that_cannot_be_read_stops_the_command_with_the_reason(db, files, content, message):
    tmp_path, _data, mapping = files
    path = tmp_path / "input.csv"
    if content is not None:
        path.write_bytes(content)
    LeadFactory(email="keep@x.com")
    with pytest.raises(CommandError, match=message):
        command(str(path), mapping=str(mapping))
    assert Lead.objects.count() == 1


def test_a_mapping_without_a_key_column_stops_the_command(db, files):
    tmp_path, data, _mapping = files
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"columns": {"Name": "full_name"}}))
    with pytest.raises(CommandError, match="No key column"):
        command(str(data), mapping=str(bad))
    bad.write_text("{not json")
    with pytest.raises(CommandError, match="is not a JSON mapping"):
        command(str(data), mapping=str(bad))


def test_the_real_command_exits_non_zero_when_the_file_cannot_be_read(files):
    tmp_path, _data, mapping = files
    broken = tmp_path / "broken.csv"
    broken.write_bytes("Email\nmalmö@x.com\n".encode("latin-1"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leadhandoff.settings.test"}
    for path in (tmp_path / "missing.csv", broken):
        proc = subprocess.run(
            [sys.executable, "manage.py", "import_leads", str(path), "--mapping", str(mapping)],
            cwd=Path(settings.BASE_DIR),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 1
        assert "no such file" in proc.stderr or "not UTF-8" in proc.stderr
