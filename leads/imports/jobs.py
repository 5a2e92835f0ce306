"""Browser imports as jobs: upload, mapping, preview, start, run (in Celery), rejections.

States: uploaded -> queued -> running -> done | failed. A finished or failed job
can be queued again: the import upserts by key, so a second run of the same
file updates what the first one wrote and duplicates nothing.

A run is an ImportJob of the shared job model (leadhandoff.jobs): claimed with a
compare-and-set under the job's advisory lock, progress written with a
heartbeat; a run whose worker died is resumed by beat's jobs_recover (or "Run
again"), and one that fails three times is failed with its message.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from leadhandoff.api import ApplicationError
from leadhandoff.jobs import job_claim, job_fail, job_finish, job_lock, job_progress, job_run_again

from ..models import ImportJob, ImportMapping, Lead
from .files import CsvFile, ImportFileError
from .mapping import guess_columns, suggest_values
from .parse import ParsedRow, Plan
from .runner import Importer, ImportResult, OwnerResolver, status_for

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 20
ALLOWED_EXTENSIONS = (".csv", ".txt")


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


_LOCK_NAMESPACE = ImportJob.lock_namespace  # the job's advisory lock: (namespace, job id)

_FRESH_RUN = {
    "processed_rows": 0,
    "created_count": 0,
    "updated_count": 0,
    "rejected_count": 0,
    "rejections": [],
}


def import_job_start(*, job: ImportJob, actor: User) -> bool:
    """Queue the job's import ("Start", "Run again", or send a queued job again); False while it runs."""
    if not job.mapping_snapshot:
        raise ApplicationError("Map the columns before starting the import.")
    from_states = (ImportJob.State.UPLOADED, ImportJob.State.DONE, ImportJob.State.FAILED)
    return job_run_again(ImportJob, job.pk, from_states=from_states, fresh=_FRESH_RUN)


def import_job_run(*, job_id: int) -> str:
    """Run a queued job; safe to call twice or on two workers at once. Returns what happened.

    A run of a job whose worker died starts again from the top: each chunk commits
    whole and rows upsert by key, so nothing is half-written or stored twice.
    """
    with job_lock(ImportJob, job_id) as got:
        if not got:
            return "busy"  # another worker holds the run
        now = timezone.now()
        if not job_claim(ImportJob, job_id, now=now, fresh=_FRESH_RUN):
            return "skipped"
        job = ImportJob.objects.select_related("created_by").get(pk=job_id)
        importer = None

        def progress(result: ImportResult) -> None:
            job_progress(
                ImportJob,
                job_id,
                percent=100 * result.processed // job.total_rows if job.total_rows else 0,
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
                message, retry = exc.message, False  # another run would refuse the same way
            else:
                logger.exception("Import %s failed", job_id)
                message = (
                    f"The import stopped after {partial.processed} of {job.total_rows} rows ({type(exc).__name__}). "
                    "Rows before that point were imported whole; run it again to finish, nothing is duplicated."
                )
                retry = True
            return job_fail(
                ImportJob,
                job_id,
                error=message,
                retry=retry,
                processed_rows=partial.processed,
                created_count=partial.created,
                updated_count=partial.updated,
                rejected_count=partial.rejected,
                rejections=partial.rejections,
            )
        job_finish(
            ImportJob,
            job_id,
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
