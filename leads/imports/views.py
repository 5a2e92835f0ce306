"""Marketing's CSV import pages: upload, map, preview, run with a progress bar, download rejections.

Marketing and admins only (403 for sales). The import itself runs in Celery
(leads.tasks.import_run); these views only parse, call one service and render.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.access import MARKETING_SIDE, role_required
from leadhandoff.api import ApplicationError
from leadhandoff.csv_reader import ImportFileError
from leadhandoff.forms import form_errors_add
from leads.imports.forms import MappingForm, SavedMappingForm, UploadForm
from leads.imports.selectors import (
    column_samples,
    import_job_get,
    import_jobs_recent,
    import_preview,
    job_csv,
    mapping_initial,
    rejections_csv,
)
from leads.imports.services import import_job_create, import_job_set_mapping, import_job_start
from leads.models import ImportJob

ACTIVE_STATES = (ImportJob.State.QUEUED, ImportJob.State.RUNNING)
REJECTIONS_SHOWN = 50


@role_required(*MARKETING_SIDE)
def import_list(request: HttpRequest) -> HttpResponse:
    return render(request, "leads/imports/list.html", {"jobs": import_jobs_recent()})


@role_required(*MARKETING_SIDE)
def import_upload(request: HttpRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = UploadForm(request.POST if posted else None, request.FILES if posted else None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            lookups = [(f.name, f.read()) for f in form.cleaned_data.get("lookups") or []]
            job = import_job_create(name=upload.name, data=upload.read(), actor=request.user, lookups=lookups)
        except ImportFileError as exc:
            form.add_error("lookups" if "lookup" in exc.message else "file", exc.message)
        else:
            return redirect("leads:import_mapping", job_id=job.pk)
    return render(request, "leads/imports/upload.html", {"form": form}, status=400 if form.errors else 200)


def _file_gone(request: HttpRequest, job: ImportJob, exc: Exception) -> HttpResponse:
    reason = exc.message if isinstance(exc, ApplicationError) else "The uploaded file is no longer stored."
    return render(request, "leads/imports/file_gone.html", {"job": job, "reason": reason})


@role_required(*MARKETING_SIDE)
def import_mapping(request: HttpRequest, job_id: int) -> HttpResponse:
    job = import_job_get(job_id=job_id)
    if job.state in ACTIVE_STATES:
        messages.info(request, "This import is running; its mapping cannot change now.")
        return redirect("leads:import_detail", job_id=job.pk)
    try:
        csv_file = job_csv(job)
    except (ImportFileError, OSError) as exc:
        return _file_gone(request, job, exc)
    saved_form = SavedMappingForm(request.GET or None)
    saved = saved_form.cleaned_data["mapping"] if saved_form.is_valid() else None
    samples = column_samples(csv_file)
    form = MappingForm(
        request.POST if request.method == "POST" else None,
        header=csv_file.header,
        samples=samples,
        initial_mapping=mapping_initial(job=job, csv_file=csv_file, saved=saved, samples=samples),
        lookup_files=job.lookup_files,
    )
    if request.method == "POST" and form.is_valid():
        try:
            import_job_set_mapping(
                job=job,
                mapping=form.to_mapping(),
                save_as=form.cleaned_data.get("save_as") or "",
                actor=request.user,
                csv_file=csv_file,
            )
        except ApplicationError as exc:
            form_errors_add(form, exc)
        else:
            return redirect("leads:import_preview", job_id=job.pk)
    context = {"job": job, "form": form, "saved_form": saved_form, "csv_file": csv_file}
    return render(request, "leads/imports/mapping.html", context, status=400 if form.errors else 200)


@role_required(*MARKETING_SIDE)
def import_preview_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = import_job_get(job_id=job_id)
    if not job.mapping_snapshot:
        messages.info(request, "Map the file's columns first.")
        return redirect("leads:import_mapping", job_id=job.pk)
    try:
        csv_file, rows = import_preview(job=job)
    except (ImportFileError, OSError) as exc:
        return _file_gone(request, job, exc)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("leads:import_mapping", job_id=job.pk)
    columns = [c for c, spec in job.mapping_snapshot.get("columns", {}).items() if spec]
    shown = [csv_file.header.index(c) for c in columns if c in csv_file.header]
    context = {
        "job": job,
        "header": [csv_file.header[i] for i in shown],
        "rows": [(row, [row.cells[i] if i < len(row.cells) else "" for i in shown]) for row in rows],
        "error_count": sum(1 for row in rows if row.errors),
        "active": job.state in ACTIVE_STATES,
    }
    # The start button counts the rows that will import: exact when the preview read the whole file.
    context["whole_file"] = len(rows) >= (job.total_rows or 0)
    context["will_import"] = (job.total_rows or 0) - context["error_count"]
    return render(request, "leads/imports/preview.html", context)


@role_required(*MARKETING_SIDE)
@require_POST
def import_start(request: HttpRequest, job_id: int) -> HttpResponse:
    job = import_job_get(job_id=job_id)
    try:
        started = import_job_start(job=job, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("leads:import_mapping", job_id=job.pk)
    if started:
        messages.success(request, f"Import of {job.original_name} queued.")
    else:
        messages.info(request, "This import is running; wait for it to finish.")
    return redirect("leads:import_detail", job_id=job.pk)


@role_required(*MARKETING_SIDE)
def import_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = import_job_get(job_id=job_id)
    context = {
        "job": job,
        "active": job.state in ACTIVE_STATES,
        "rejections": (job.rejections or [])[:REJECTIONS_SHOWN],
        "more_rejections": max(0, len(job.rejections or []) - REJECTIONS_SHOWN),
    }
    return render(request, "leads/imports/detail.html", context)


@role_required(*MARKETING_SIDE)
def import_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The progress bar alone; htmx polls it every second while the job is queued or running."""
    job = import_job_get(job_id=job_id)
    response = render(request, "leads/imports/_progress.html", {"job": job, "active": job.state in ACTIVE_STATES})
    if request.htmx and job.state not in ACTIVE_STATES:
        response["HX-Refresh"] = "true"  # finished: reload the page to show counts and rejections
    return response


@role_required(*MARKETING_SIDE)
def import_rejections(request: HttpRequest, job_id: int) -> HttpResponse:
    job = import_job_get(job_id=job_id)
    # A byte-order mark so spreadsheet programs read the UTF-8 right; our importer accepts it too.
    response = HttpResponse("\ufeff" + rejections_csv(job=job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-rejections.csv"'
    return response
