"""Writes: events imports as jobs (create, start, run) and the runner they and the command share."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from leadhandoff.api import ApplicationError
from leadhandoff.csv_reader import CsvFile, ImportFileError
from leadhandoff.jobs import (
    job_claim,
    job_fail,
    job_failure,
    job_finish,
    job_lock,
    job_progress,
    job_run_again,
    job_send,
)
from leads.fields.selectors import event_kind_names
from leads.imports.services import upload_check
from leads.intake.services import EVENTS_BATCH_MAX, events_ingest
from leads.models import EventImportJob

from .mapping import mapping_check, row_events
from .selectors import event_job_csv

logger = logging.getLogger(__name__)

_FRESH_RUN = {
    "processed_rows": 0,
    "stored_count": 0,
    "duplicate_count": 0,
    "leads_created": 0,
    "rejected_count": 0,
    "rejections": [],
}


@dataclass
class EventImportResult:
    total: int = 0
    processed: int = 0
    stored: int = 0
    duplicates: int = 0
    leads_created: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.rejections)


def events_import(
    *,
    csv_file: CsvFile,
    mapping: dict[str, Any],
    actor: User | None,
    now: datetime.datetime,
    on_chunk: Callable[[EventImportResult], None] | None = None,
) -> EventImportResult:
    """Import the file's events in batches through events_ingest; rows with errors are reported by line."""
    mapping = mapping_check(mapping, csv_file.header, event_kind_names())
    result = EventImportResult(total=csv_file.row_count)
    batch: list[dict[str, Any]] = []
    lines: list[int] = []
    rows_in_batch = 0

    def flush() -> None:
        nonlocal batch, lines, rows_in_batch
        if batch:
            ingested = events_ingest(events=batch, actor=actor, now=now)
            result.stored += ingested.stored
            result.duplicates += ingested.duplicates
            result.leads_created += ingested.leads_created
            for rejected in ingested.rejected:
                reason = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in rejected["fields"].items())
                result.rejections.append({"line": lines[rejected["index"]], "reason": reason})
        result.processed += rows_in_batch
        batch, lines, rows_in_batch = [], [], 0
        if on_chunk:
            on_chunk(result)

    for row in csv_file.rows():
        made = row_events(mapping, csv_file.header, row.line, row.cells)
        if made.error:
            result.rejections.append({"line": row.line, "reason": made.error})
            rows_in_batch += 1
            continue
        if len(batch) + len(made.events) > EVENTS_BATCH_MAX:
            flush()
        batch += made.events
        lines += [row.line] * len(made.events)
        rows_in_batch += 1
    flush()
    result.rejections.sort(key=lambda r: r["line"])
    return result


# --- Jobs ---------------------------------------------------------------------------


@transaction.atomic
def event_import_create(*, name: str, data: bytes, mapping: Any, actor: User) -> EventImportJob:
    """Check the file and its mapping whole, keep them as a job and queue it. Raises ApplicationError."""
    name = PurePath(name).name or "events.csv"
    try:
        upload_check(name=name, size=len(data))
        csv_file = CsvFile.from_bytes(data, name=f"“{name}”")
        if csv_file.row_count == 0:
            raise ImportFileError(f"“{name}” has a header line but no rows to import.")
    except ImportFileError as exc:
        raise ApplicationError(exc.message, fields={"file": [exc.message]}) from None
    checked = mapping_check(mapping, csv_file.header, event_kind_names())
    job = EventImportJob(
        original_name=name[:255],
        total_rows=csv_file.row_count,
        mapping=checked,
        created_by=actor,
        state=EventImportJob.State.QUEUED,
    )
    job.file.save(name, ContentFile(data), save=False)
    job.save()
    pk = job.pk
    transaction.on_commit(lambda: job_send(EventImportJob, pk))
    return job


def event_import_start(*, job: EventImportJob) -> bool:
    """Run a finished or failed import again ("Run again"); False while it runs."""
    from_states = (EventImportJob.State.DONE, EventImportJob.State.FAILED)
    return job_run_again(EventImportJob, job.pk, from_states=from_states, fresh=_FRESH_RUN)


def event_import_run(*, job_id: int) -> str:
    """Run a queued job; safe twice or on two workers at once (the import runner's claim and takeover)."""
    with job_lock(EventImportJob, job_id) as got:
        if not got:
            return "busy"
        now = timezone.now()
        if not job_claim(EventImportJob, job_id, now=now, fresh=_FRESH_RUN):
            return "skipped"
        job = EventImportJob.objects.select_related("created_by").get(pk=job_id)
        partial = EventImportResult()

        def progress(result: EventImportResult) -> None:
            nonlocal partial
            partial = result
            job_progress(
                EventImportJob,
                job_id,
                percent=100 * result.processed // job.total_rows if job.total_rows else 0,
                **_counts(result),
            )

        try:
            result = events_import(
                csv_file=event_job_csv(job), mapping=job.mapping, actor=job.created_by, now=now, on_chunk=progress
            )
        except Exception as exc:
            if isinstance(exc, ApplicationError):
                message, retry = exc.message, False
            else:
                logger.exception("Events import %s failed", job_id)
                message, retry = job_failure(
                    exc,
                    message=(
                        f"The import stopped after {partial.processed} of {job.total_rows} rows "
                        f"({type(exc).__name__}); run it again: no event is stored twice."
                    ),
                )
            return job_fail(EventImportJob, job_id, error=message, retry=retry, **_counts(partial))
        job_finish(EventImportJob, job_id, **_counts(result))
        return "done"


def _counts(result: EventImportResult) -> dict[str, Any]:
    return {
        "processed_rows": result.processed,
        "stored_count": result.stored,
        "duplicate_count": result.duplicates,
        "leads_created": result.leads_created,
        "rejected_count": result.rejected,
        "rejections": result.rejections[:1000],
    }
