"""Reads of events imports."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from leadhandoff.csv_reader import CsvFile
from leads.models import EventImportJob


def event_imports_recent(limit: int = 20) -> QuerySet[EventImportJob]:
    return EventImportJob.objects.select_related("created_by")[:limit]


def event_import_get(*, job_id: int) -> EventImportJob:
    return get_object_or_404(EventImportJob, pk=job_id)


def event_job_csv(job: EventImportJob) -> CsvFile:
    with job.file.open("rb") as fh:
        data = fh.read()
    return CsvFile.from_bytes(data, name=f"“{job.original_name}”")
