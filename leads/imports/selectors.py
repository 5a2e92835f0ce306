"""Reads for the import pages: a job's file, the mapping form's initial values and samples,
the dry-run preview, the rejected rows as CSV, and the jobs list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone

from leadhandoff.csv_files import csv_text
from leadhandoff.csv_reader import CsvFile, ImportFileError
from leads.fields.selectors import custom_fields_by_name
from leads.imports.mapping import OWNER_TEAM_FIELDS, guess_columns, guess_lookups, suggest_values
from leads.imports.parse import ParsedRow, Plan
from leads.imports.runner import OwnerResolver, existing_leads, key_duplicate, row_existing, row_verdict
from leads.models import ImportJob, ImportMapping

PREVIEW_ROWS = 20
# Value suggestions read the whole file up to this many rows, and as many rows spread
# evenly across a longer one: a value that only appears late in the file is still seen.
SAMPLE_ROWS = 20_000


def job_csv(job: ImportJob) -> CsvFile:
    with job.file.open("rb") as fh:
        data = fh.read()
    return CsvFile.from_bytes(data, name=f"“{job.original_name}”")


def mapping_initial(
    *,
    job: ImportJob,
    csv_file: CsvFile,
    saved: ImportMapping | None = None,
    samples: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """What the mapping form starts from: the job's own mapping, a saved one, or guesses from the header."""
    if saved is not None:
        return {"columns": saved.columns, "values": saved.values, "options": saved.options}
    if job.mapping_snapshot:
        return job.mapping_snapshot
    samples = samples if samples is not None else column_samples(csv_file)
    columns = guess_columns(csv_file.header, samples)
    options: dict[str, Any] = {}
    if job.lookup_files:
        lookups, lookup_columns = guess_lookups(csv_file.header, job.lookup_files, columns)
        columns |= lookup_columns
        uploads = {upload["name"]: upload for upload in job.lookup_files}
        samples = samples | {
            f"{lookup['as']}.{name}": [row.get(name, "") for row in uploads[lookup["file"]]["rows"]]
            for lookup in lookups
            for name in uploads[lookup["file"]]["header"]
        }
        if lookups:
            options["lookups"] = lookups
    return {"columns": columns, "values": suggest_values(columns, samples), "options": options}


def column_samples(csv_file: CsvFile, limit: int = SAMPLE_ROWS) -> dict[str, list[str]]:
    """Each column's values in the whole file, or in `limit` rows spread evenly across a longer file."""
    samples: dict[str, list[str]] = {h: [] for h in csv_file.header}
    step = max(1, -(-csv_file.row_count // limit))
    for n, row in enumerate(csv_file.rows()):
        if n % step:
            continue
        for header, cell in zip(csv_file.header, row.cells, strict=False):
            samples[header].append(cell)
    return samples


@dataclass
class PreviewRow:
    line: int
    cells: list[str]
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    action: str = ""  # "create", "update" or "" when rejected
    status: str = ""


def import_preview(*, job: ImportJob, limit: int = PREVIEW_ROWS) -> tuple[CsvFile, list[PreviewRow]]:
    """The first rows as the import would see them, with their errors: the runner's own checks
    (runner.key_duplicate, row_existing, row_verdict) over the stored leads the rows name, read
    without a lock. Reads only; writes nothing."""
    csv_file = job_csv(job)
    plan = Plan.compile(job.mapping_snapshot, csv_file.header, lookup_files=job.lookup_rows())
    rows: list[PreviewRow] = []
    parsed: list[ParsedRow] = []
    seen_email: dict[str, int] = {}
    seen_external_id: dict[str, int] = {}
    for n, row in enumerate(csv_file.rows()):
        if n >= limit:
            break
        p = plan.parse(row)
        preview = PreviewRow(line=row.line, cells=row.cells, values=p.values, errors=list(p.errors))
        if not preview.errors and (duplicate := key_duplicate(p, seen_email, seen_external_id)):
            preview.errors.append(duplicate)
        rows.append(preview)
        parsed.append(p)
    checked = [(preview, p) for preview, p in zip(rows, parsed, strict=True) if not preview.errors]
    by_email, by_ext = existing_leads([p for _, p in checked], lock=False) if checked else ({}, {})
    owners = None
    if "owner" in plan.mapped:
        # Owners the file puts on teams are created by the run's roster part (runner._roster_from_file).
        from_roster = bool(plan.mapped & set(OWNER_TEAM_FIELDS))
        owners = _PreviewOwners(create_missing=bool(plan.options.get("create_missing_owners")) or from_roster)
    custom_fields, now = custom_fields_by_name(), timezone.now()
    matched: dict[int, int] = {}
    for preview, p in checked:
        existing, reason = row_existing(p, by_email, by_ext)
        if existing is not None and not reason and existing.id in matched:
            reason = f"duplicate: names the same lead as line {matched[existing.id]}"
        if reason:
            preview.errors.append(reason)
            continue
        verdict = row_verdict(p, existing, owners=owners, custom_fields=custom_fields, now=now)
        if verdict.reason:
            preview.errors.append(verdict.reason)
            continue
        if existing is not None:
            matched[existing.id] = p.line
        preview.action = "update" if existing else "create"
        preview.status = verdict.status or ""
    return csv_file, rows


class _PreviewOwners(OwnerResolver):
    """Owner matching without side effects: a rep that would be created is named, not made."""

    def __init__(self, *, create_missing: bool):
        super().__init__(create_missing=False, team_name=None)
        self.would_create = create_missing

    def find(self, raw: str) -> tuple[int | None, str | None]:
        if self.would_create and not self.by_name.get(" ".join(raw.split()).lower()):
            return -1, None  # created as an inactive rep when the import runs
        return super().find(raw)


def rejections_csv(*, job: ImportJob) -> str:
    """line, reason, then the rejected row's own cells, so the file can be fixed and imported again."""
    rejections = job.rejections or []
    try:
        csv_file = job_csv(job)
    except (ImportFileError, OSError, ValueError):
        csv_file = None
    if csv_file is None:
        return csv_text(
            [["line", "reason", "key"], *([r.get("line"), r.get("reason"), r.get("key", "")] for r in rejections)]
        )
    wanted = {r["line"]: r for r in rejections}
    cells_by_line = {row.line: row.cells for row in csv_file.rows() if row.line in wanted}
    rows = ([r["line"], r["reason"], *cells_by_line.get(r["line"], [])] for r in rejections)
    return csv_text([["line", "reason", *csv_file.header], *rows])


def import_job_get(*, job_id: int) -> ImportJob:
    """The job a page asks for (marketing and admins share every import); 404 when it does not exist."""
    return get_object_or_404(ImportJob.objects.select_related("created_by", "mapping"), pk=job_id)


def import_jobs_recent(*, limit: int = 50) -> list[ImportJob]:
    return list(ImportJob.objects.select_related("created_by").defer("rejections")[:limit])
