"""Marketing's events import pages: upload with the mapping, then the job's progress and rejected rows."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.access import MARKETING_SIDE, role_required
from leadhandoff.api import ApplicationError
from leadhandoff.forms import form_errors_add
from leads.fields.selectors import event_kind_choices
from leads.models import EventImportJob

from . import selectors, services
from .forms import EventImportForm

REJECTIONS_SHOWN = 50


@role_required(*MARKETING_SIDE)
def event_import(request: HttpRequest) -> HttpResponse:
    """GET: recent events imports and the form; POST: check the file and mapping, queue the job."""
    posted = request.method == "POST"
    form = EventImportForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.event_import_create(
                name=upload.name, data=upload.read(), mapping=form.mapping(), actor=request.user
            )
        except ApplicationError as exc:
            form_errors_add(form, exc)
        else:
            return redirect("leads:event_import_detail", job_id=job.pk)
    return render(
        request,
        "leads/events/import.html",
        {"form": form, "jobs": selectors.event_imports_recent(), "kinds": event_kind_choices()},
        status=400 if form.errors else 200,
    )


@role_required(*MARKETING_SIDE)
def event_import_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.event_import_get(job_id=job_id)
    running = job.state in (EventImportJob.State.QUEUED, EventImportJob.State.RUNNING)
    return render(
        request,
        "leads/events/detail.html",
        {"job": job, "running": running, "rejections": job.rejections[:REJECTIONS_SHOWN]},
    )


@require_POST
@role_required(*MARKETING_SIDE)
def event_import_again(request: HttpRequest, job_id: int) -> HttpResponse:
    services.event_import_start(job=selectors.event_import_get(job_id=job_id))
    return redirect("leads:event_import_detail", job_id=job_id)
