"""The roster page (admins): the teams as they are, a file's preview (a dry run), and the import.

The preview runs the whole import and rolls it back, so what it shows per row is
what the import does. The import posts back the previewed text.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.access import role_required
from accounts.models import Role
from accounts.roster.forms import RosterConfirmForm, RosterUploadForm
from accounts.roster.selectors import teams_with_reps
from accounts.roster.services import RosterRefusedError, RosterReport, roster_import
from leadhandoff.api import ApplicationError
from leadhandoff.csv_reader import CsvFile
from leadhandoff.forms import form_errors_add


def _page(request: HttpRequest, form: RosterUploadForm, report: RosterReport | None = None, **context) -> HttpResponse:
    context = {"form": form, "report": report, "teams": teams_with_reps(), **context}
    failed = bool(form.errors) or (report is not None and not report.ok) or "problem" in context
    return render(request, "accounts/roster.html", context, status=400 if failed else 200)


@role_required(Role.ADMIN)
def roster(request: HttpRequest) -> HttpResponse:
    """GET: the teams and the upload form. POST a file: its preview."""
    if request.method != "POST":
        return _page(request, RosterUploadForm())
    form = RosterUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form)
    name, text = form.cleaned_data["file"].name, form.cleaned_data["text"]
    try:
        report = roster_import(csv_file=CsvFile(text, name=name), dry_run=True)
    except ApplicationError as exc:
        form_errors_add(form, exc)
        return _page(request, form)
    confirm = RosterConfirmForm(initial={"name": name, "text": text}) if report.ok else None
    return _page(request, RosterUploadForm(), report, confirm=confirm, file_name=name)


@role_required(Role.ADMIN)
@require_POST
def roster_import_view(request: HttpRequest) -> HttpResponse:
    confirm = RosterConfirmForm(request.POST)
    if not confirm.is_valid():
        return _page(request, RosterUploadForm(), problem="Nothing to import: upload the roster file again.")
    name, text = confirm.cleaned_data["name"], confirm.cleaned_data["text"]
    form = RosterUploadForm()
    try:
        report = roster_import(csv_file=CsvFile(text, name=name))
    except RosterRefusedError as exc:  # the users or teams changed since the preview
        return _page(request, form, exc.report, file_name=name)
    except ApplicationError as exc:
        form_errors_add(form, exc)
        return _page(request, form)
    messages.success(request, f"Roster {name} imported: {report.sentence()}")
    return redirect("roster")
