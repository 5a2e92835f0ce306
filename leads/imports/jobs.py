"""Browser imports as jobs: upload, mapping, preview, start, run (in Celery), rejections.

States: uploaded -> queued -> running -> done | failed. A finished or failed job
can be queued again: the import upserts by key, so a second run of the same
file updates what the first one wrote and duplicates nothing.

A run is claimed with a compare-and-set update (queued -> running) while
holding a PostgreSQL advisory lock on the job for the whole run. The lock goes
away with the worker's connection, so a job left "running" by a worker that
died can be told apart from one still running: nobody holds its lock. A
redelivered task (acks_late) or "Run again" then takes it over.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from leadhandoff.api import ApplicationError
from leads.imports.files import CsvFile, ImportFileError
from leads.imports.mapping import guess_columns, suggest_values
from leads.imports.parse import ParsedRow, Plan
from leads.imports.runner import Importer, ImportResult, OwnerResolver, status_for
from leads.models import ImportJob, ImportMapping, Lead

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 20
ALLOWED_EXTENSIONS = (".csv", ".txt")
# pg_try_advisory_lock(namespace, job id): the namespace keeps clear of other features' locks.
_LOCK_NAMESPACE = 0x1E4D


# --- Upload and mapping ---------------------------------------------------------


def upload_check(*, name: str, size: int) -> None:
    """Refuse what is plainly not an importable file before reading it."""
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    if size > limit:
        raise ImportFileError(
            f"The file is {_megabytes(size)}; the largest file you can import is {_megabytes(limit)}. "
            "Split it into smaller files."
        )
    if not name.lower().endswith(ALLOWED_EXTENSIONS):
        raise ImportFileError(f"“{name}” is not a CSV file: choose a .csv file (comma or semicolon separated).")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


@transaction.atomic
def import_job_create(*, name: str, data: bytes, actor: User) -> ImportJob:
    """Check the whole file, then keep it as an uploaded job. Raises ImportFileError with the reason."""
    name = PurePath(name).name or "import.csv"
    upload_check(name=name, size=len(data))
    csv_file = CsvFile.from_bytes(data, name=f"“{name}”")
    total = csv_file.row_count
    if total == 0:
        raise ImportFileError(f"“{name}” has a header line but no rows to import.")
    job = ImportJob(original_name=name[:255], total_rows=total, created_by=actor, state=ImportJob.State.UPLOADED)
    job.file.save(name, ContentFile(data), save=False)
    job.save()
    return job


def job_csv(job: ImportJob) -> CsvFile:
    with job.file.open("rb") as fh:
        data = fh.read()
    return CsvFile.from_bytes(data, name=f"“{job.original_name}”")


def mapping_initial(*, job: ImportJob, csv_file: CsvFile, saved: ImportMapping | None = None) -> dict[str, Any]:
    """What the mapping form starts from: the job's own mapping, a saved one, or guesses from the header."""
    if saved is not None:
        return {"columns": saved.columns, "values": saved.values, "options": saved.options}
    if job.mapping_snapshot:
        return job.mapping_snapshot
    columns = guess_columns(csv_file.header)
    samples = column_samples(csv_file)
    return {"columns": columns, "values": suggest_values(columns, samples), "options": {}}


def column_samples(csv_file: CsvFile, limit: int = 200) -> dict[str, list[str]]:
    samples: dict[str, list[str]] = {h: [] for h in csv_file.header}
    for n, row in enumerate(csv_file.rows()):
        if n >= limit:
            break
        for header, cell in zip(csv_file.header, row.cells, strict=False):
            samples[header].append(cell)
    return samples


@transaction.atomic
def import_job_set_mapping(
    *, job: ImportJob, mapping: dict[str, Any], save_as: str = "", actor: User, csv_file: CsvFile | None = None
) -> ImportJob:
    """Check the mapping against the file and keep it on the job (and as a named mapping when asked)."""
    csv_file = csv_file or job_csv(job)
    Plan.compile(mapping, csv_file.header)  # raises ApplicationError naming what is wrong
    saved = None
    if save_as.strip():
        saved, _ = ImportMapping.objects.update_or_create(
            name=save_as.strip()[:100],
            defaults={
                "columns": mapping["columns"],
                "values": mapping.get("values") or {},
                "options": mapping.get("options") or {},
                "created_by": actor,
            },
        )
    job.mapping = saved
    job.mapping_snapshot = mapping
    job.save(update_fields=["mapping", "mapping_snapshot"])
    return job


# --- Preview ------------------------------------------------------------------------


@dataclass
class PreviewRow:
    line: int
    cells: list[str]
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    action: str = ""  # "create", "update" or "" when rejected
    status: str = ""


def import_preview(*, job: ImportJob, limit: int = PREVIEW_ROWS) -> tuple[CsvFile, list[PreviewRow]]:
    """The first rows as the import would see them, with their errors. Reads only; writes nothing."""
    csv_file = job_csv(job)
    plan = Plan.compile(job.mapping_snapshot, csv_file.header)
    rows: list[PreviewRow] = []
    parsed: list[ParsedRow] = []
    for n, row in enumerate(csv_file.rows()):
        if n >= limit:
            break
        p = plan.parse(row)
        parsed.append(p)
        rows.append(PreviewRow(line=row.line, cells=row.cells, values=p.values, errors=list(p.errors)))
    emails = [p.email_key for p in parsed if p.email_key and not p.errors]
    exts = [p.external_id for p in parsed if p.external_id and not p.errors]
    known: set[tuple[str, str]] = set()
    for email, ext in (
        Lead.objects.alias(email_ci=Lower("email"))
        .filter(Q(email__isnull=False, email_ci__in=emails) | Q(external_id__isnull=False, external_id__in=exts))
        .values_list("email", "external_id")
    ):
        known.update({("e", (email or "").lower()), ("x", ext or "")})
    owners = None
    if "owner" in plan.mapped:
        owners = _PreviewOwners(create_missing=bool(plan.options.get("create_missing_owners")))
    seen: dict[tuple[str, str], int] = {}
    for preview, p in zip(rows, parsed, strict=True):
        if preview.errors:
            continue
        keys = [k for k in (("x", p.external_id), ("e", p.email_key)) if k[1]]
        first = next((seen[k] for k in keys if k in seen), None)
        if first:
            preview.errors.append(f"duplicate: same key as line {first} (first row kept)")
        for k in keys:
            seen.setdefault(k, p.line)
        exists = ("x", p.external_id) in known or ("e", p.email_key) in known
        owner_id = None
        if owners and p.owner:
            owner_id, reason = owners.find(p.owner)
            if reason:
                preview.errors.append(reason)
        status, reason = status_for(
            stage=p.stage,
            owner_id=owner_id,
            contacted=bool(p.values.get("first_contact_at") or p.values.get("touch_count")),
            current=None,
        )
        if reason:
            preview.errors.append(reason)
        if not preview.errors:
            preview.action = "update" if exists else "create"
            preview.status = status or ""
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


# --- Start and run ------------------------------------------------------------------


@contextlib.contextmanager
def _job_lock(job_id: int) -> Iterator[bool]:
    """Hold the job's advisory lock for the block; yields False when someone else holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, job_id])
        got = cursor.fetchone()[0]
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, job_id])


_FRESH_RUN = {
    "processed_rows": 0,
    "created_count": 0,
    "updated_count": 0,
    "rejected_count": 0,
    "rejections": [],
    "error": "",
    "finished_at": None,
}


def import_job_start(*, job: ImportJob, actor: User) -> bool:
    """Queue the job's import (again, or send a queued job to the workers again); False while it runs."""
    if not job.mapping_snapshot:
        raise ApplicationError("Map the columns before starting the import.")
    with transaction.atomic():
        queued = ImportJob.objects.filter(
            pk=job.pk, state__in=(ImportJob.State.UPLOADED, ImportJob.State.DONE, ImportJob.State.FAILED)
        ).update(state=ImportJob.State.QUEUED, **_FRESH_RUN)
        if not queued and job.state == ImportJob.State.QUEUED:
            # Its message may be lost (a broker restart): sending another is safe, since only
            # one task wins the queued -> running claim and the others skip.
            queued = ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.QUEUED).exists()
        if not queued and job.state == ImportJob.State.RUNNING:
            with _job_lock(job.pk) as free:
                if free:  # its worker died mid-run
                    queued = ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.RUNNING).update(
                        state=ImportJob.State.QUEUED, **_FRESH_RUN
                    )
        if queued:
            transaction.on_commit(lambda: _enqueue(job.pk))
    return bool(queued)


def _enqueue(job_id: int) -> None:
    from leads.tasks import import_run  # leads.tasks imports this module

    import_run.delay(job_id)


def import_job_run(*, job_id: int) -> str:
    """Run a queued job; safe to call twice or on two workers at once. Returns what happened."""
    with _job_lock(job_id) as got:
        if not got:
            return "busy"  # another worker holds the run
        now = timezone.now()
        claim = {"state": ImportJob.State.RUNNING, "started_at": now, **_FRESH_RUN}
        claimed = ImportJob.objects.filter(pk=job_id, state=ImportJob.State.QUEUED).update(**claim)
        if not claimed:
            # "running" while nobody holds its lock: the worker that ran it died. Take it over.
            claimed = ImportJob.objects.filter(pk=job_id, state=ImportJob.State.RUNNING).update(**claim)
        if not claimed:
            return "skipped"
        job = ImportJob.objects.select_related("created_by").get(pk=job_id)
        importer = None

        def progress(result: ImportResult) -> None:
            ImportJob.objects.filter(pk=job_id).update(
                processed_rows=result.processed,
                created_count=result.created,
                updated_count=result.updated,
                rejected_count=result.rejected,
            )

        try:
            csv_file = job_csv(job)
            importer = Importer(
                csv_file=csv_file,
                mapping=job.mapping_snapshot,
                actor=job.created_by,
                now=now,
                job_id=job.pk,
                on_chunk=progress,
            )
            result = importer.run()
        except Exception as exc:
            partial = importer.result if importer else ImportResult()
            if isinstance(exc, ApplicationError):
                message = exc.message
            else:
                logger.exception("Import %s failed", job_id)
                message = (
                    f"The import stopped after {partial.processed} of {job.total_rows} rows ({type(exc).__name__}). "
                    "Rows before that point were imported whole; run it again to finish, nothing is duplicated."
                )
            ImportJob.objects.filter(pk=job_id).update(
                state=ImportJob.State.FAILED,
                error=message,
                finished_at=timezone.now(),
                processed_rows=partial.processed,
                created_count=partial.created,
                updated_count=partial.updated,
                rejected_count=partial.rejected,
                rejections=partial.rejections,
            )
            return "failed"
        ImportJob.objects.filter(pk=job_id).update(
            state=ImportJob.State.DONE,
            finished_at=timezone.now(),
            total_rows=result.total,
            processed_rows=result.processed,
            created_count=result.created,
            updated_count=result.updated,
            rejected_count=result.rejected,
            rejections=result.rejections,
        )
        return "done"


# --- Rejections file -------------------------------------------------------------------


def rejections_csv(*, job: ImportJob) -> str:
    """line, reason, then the rejected row's own cells, so the file can be fixed and imported again."""
    out = io.StringIO()
    writer = csv.writer(out)
    rejections = job.rejections or []
    try:
        csv_file = job_csv(job)
    except (ImportFileError, OSError, ValueError):
        csv_file = None
    if csv_file is None:
        writer.writerow(["line", "reason", "key"])
        for r in rejections:
            writer.writerow([r.get("line"), r.get("reason"), r.get("key", "")])
        return out.getvalue()
    wanted = {r["line"]: r for r in rejections}
    cells_by_line = {row.line: row.cells for row in csv_file.rows() if row.line in wanted}
    writer.writerow(["line", "reason", *csv_file.header])
    for r in rejections:
        writer.writerow([r["line"], r["reason"], *cells_by_line.get(r["line"], [])])
    return out.getvalue()


# --- Reads for the pages ---------------------------------------------------------------


def import_job_get(*, job_id: int) -> ImportJob:
    """The job a page asks for (marketing and admins share every import); 404 when it does not exist."""
    return get_object_or_404(ImportJob.objects.select_related("created_by", "mapping"), pk=job_id)


def import_jobs_recent(*, limit: int = 50) -> list[ImportJob]:
    return list(ImportJob.objects.select_related("created_by").defer("rejections")[:limit])
