"""Browser imports as jobs (writes): upload, mapping, start, run (in Celery).
Reads for the pages (preview, rejections file, lists) are in leads.imports.selectors.

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
import logging
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from leadhandoff.api import ApplicationError
from leads.imports.files import CsvFile, ImportFileError
from leads.imports.parse import Plan
from leads.imports.runner import Importer, ImportResult
from leads.imports.selectors import job_csv
from leads.models import ImportJob, ImportMapping

logger = logging.getLogger(__name__)

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


# --- Reads for the pages ---------------------------------------------------------------
