"""Browser imports as jobs (writes): upload, mapping, start, run (in Celery).
Reads for the pages (preview, rejections file, lists) are in leads.imports.selectors.

States: uploaded -> queued -> running -> done | failed. A finished or failed job
can be queued again: the import upserts by key, so a second run of the same
file updates what the first one wrote and duplicates nothing.

A run is an ImportJob of the shared job model (leadhandoff.jobs): claimed with a
compare-and-set under the job's advisory lock, progress written with a
heartbeat; a run whose worker died is resumed by beat's jobs_recover (or "Run
again"), and one that fails three times is failed with its message.
"""

from __future__ import annotations

import logging
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from leadhandoff.api import ApplicationError
from leadhandoff.csv_reader import CsvFile, ImportFileError
from leadhandoff.jobs import job_claim, job_fail, job_failure, job_finish, job_lock, job_progress, job_run_again
from leads.imports.parse import Plan
from leads.imports.runner import Importer, ImportResult
from leads.imports.selectors import job_csv
from leads.models import ImportJob, ImportMapping

logger = logging.getLogger(__name__)

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


LOOKUP_FILES_MAX = 5


@transaction.atomic
def import_job_create(
    *, name: str, data: bytes, actor: User, lookups: list[tuple[str, bytes]] | None = None
) -> ImportJob:
    """Check the whole file (and any lookup files), then keep it as an uploaded job.

    Raises ImportFileError with the reason. Lookup files (a sales-team file, a
    closed-deals file) are kept on the job as rows; the mapping joins them by a column.
    """
    name = PurePath(name).name or "import.csv"
    upload_check(name=name, size=len(data))
    csv_file = CsvFile.from_bytes(data, name=f"“{name}”")
    total = csv_file.row_count
    if total == 0:
        raise ImportFileError(f"“{name}” has a header line but no rows to import.")
    lookup_files = []
    if len(lookups or []) > LOOKUP_FILES_MAX:
        raise ImportFileError(f"Give at most {LOOKUP_FILES_MAX} lookup files.")
    for lookup_name, lookup_data in lookups or []:
        lookup_name = PurePath(lookup_name).name or "lookup.csv"
        upload_check(name=lookup_name, size=len(lookup_data))
        table = CsvFile.from_bytes(lookup_data, name=f"lookup file “{lookup_name}”")
        if lookup_name in {f["name"] for f in lookup_files} or lookup_name == name:
            raise ImportFileError(f"Two files are called “{lookup_name}”: rename one.")
        rows = [dict(zip(table.header, row.cells, strict=False)) for row in table.rows()]
        if not rows:
            raise ImportFileError(f"The lookup file “{lookup_name}” has no rows.")
        lookup_files.append({"name": lookup_name[:255], "header": table.header, "rows": rows})
    job = ImportJob(
        original_name=name[:255],
        total_rows=total,
        created_by=actor,
        state=ImportJob.State.UPLOADED,
        lookup_files=lookup_files,
    )
    job.file.save(name, ContentFile(data), save=False)
    job.save()
    return job


@transaction.atomic
def import_job_set_mapping(
    *, job: ImportJob, mapping: dict[str, Any], save_as: str = "", actor: User, csv_file: CsvFile | None = None
) -> ImportJob:
    """Check the mapping against the file and keep it on the job (and as a named mapping when asked)."""
    csv_file = csv_file or job_csv(job)
    # Raises ApplicationError naming what is wrong.
    Plan.compile(mapping, csv_file.header, lookup_files=job.lookup_rows())
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


_FRESH_RUN = {
    "processed_rows": 0,
    "created_count": 0,
    "updated_count": 0,
    "rejected_count": 0,
    "rejections": [],
    "closed_undated_count": 0,
    "roster_summary": "",
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
                lookup_files=job.lookup_rows(),
            )
            result = importer.run()
        except Exception as exc:
            partial = importer.result if importer else ImportResult()
            if isinstance(exc, ApplicationError):
                message, retry = exc.message, False  # another run would refuse the same way
            else:
                logger.exception("Import %s failed", job_id)
                message, retry = job_failure(
                    exc,
                    message=(
                        f"The import stopped after {partial.processed} of {job.total_rows} rows "
                        f"({type(exc).__name__}). Rows before that point were imported whole; "
                        "run it again to finish, nothing is duplicated."
                    ),
                )
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
            closed_undated_count=result.closed_undated,
            roster_summary=result.roster.sentence() if result.roster else "",
        )
        return "done"


# --- Rejections file -------------------------------------------------------------------


# --- Reads for the pages ---------------------------------------------------------------
