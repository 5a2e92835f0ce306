"""The comparison pages: snapshots, building one, a report with its verdict, charts, CSV, drill-down.

Every role may open the reports; what each sees is settled by reports.selectors
(reports_visible_to, report_for_user), and a drill-down lists leads through the
one access door for leads (leads.selectors.leads_visible_to).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import role_required
from accounts.models import Role
from leadhandoff.api import ApplicationError
from leadhandoff.csv_files import csv_text

from . import selectors, services
from .forms import ComparisonForm
from .models import ComparisonReport
from .templatetags.report_tags import figure

READERS = (Role.MARKETING, Role.REP, Role.MANAGER, Role.ADMIN)
SNAPSHOTS_SHOWN = 30

# The table's columns (and the CSV's): (key, heading).
COLUMNS = [
    ("leads", "Leads"),
    ("contacted", "Contacted"),
    ("won", "Won"),
    ("lost", "Lost"),
    ("open", "Open"),
    ("win_rate", "Win rate"),
    ("win_rate_low", "Win rate 95% low"),
    ("win_rate_high", "Win rate 95% high"),
    ("conversion", "Conversion"),
    ("conversion_low", "Conversion 95% low"),
    ("conversion_high", "Conversion 95% high"),
    ("median_cycle_days_won", "Median cycle, won (days)"),
    ("p75_cycle_days_won", "75th percentile cycle, won (days)"),
    ("km_median_cycle_days", "Kaplan–Meier median cycle (days)"),
    ("median_touches_won", "Median touches to close (won)"),
    ("median_touches_lost", "Median touches to loss"),
    ("won_value", "Won value"),
    ("average_deal", "Average deal"),
    ("median_hours_to_first_contact", "Median hours to first contact"),
    ("sla_compliance", "First-contact SLA met"),
    ("closed_before_start", "Data errors: closed before the cycle start"),
]


def _list_context(request: HttpRequest, form: ComparisonForm) -> dict:
    now = timezone.now()
    reports = list(selectors.reports_visible_to(user=request.user)[:SNAPSHOTS_SHOWN])
    return {
        "form": form,
        "reports": [(r, selectors.report_age_words(r, now=now)) for r in reports],
    }


@role_required(*READERS)
def report_list(request: HttpRequest) -> HttpResponse:
    """Stored snapshots (newest first, with their age) and the form to build a new one."""
    return render(request, "reports/list.html", _list_context(request, ComparisonForm(user=request.user)))


@role_required(*READERS)
@require_POST
def report_build(request: HttpRequest) -> HttpResponse:
    form = ComparisonForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            report = services.comparison_request(params=form.params(), actor=request.user, now=timezone.now())
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("reports:report_detail", report_id=report.pk)
    return render(request, "reports/list.html", _list_context(request, form), status=400)


def _detail_context(request: HttpRequest, report: ComparisonReport) -> dict:
    data = selectors.report_for_user(report=report, user=request.user)
    cohort = data.get("mode") == "cohort"
    columns = [c for c in COLUMNS if cohort or not c[0].startswith("conversion")]
    return {
        "report": report,
        "data": data,
        "age": selectors.report_age_words(report, now=timezone.now()),
        "columns": columns,
        "rows": [
            (key, label, [figure(figures.get(k), k) for k, _ in columns])
            for key, label, figures in selectors.report_rows(data)
        ],
        "charts": _charts(data),
    }


def _charts(data: dict) -> dict:
    """Chart data (static/js/reports.js draws it): win rate and median cycle per group."""
    groups = data.get("groups") or {}
    return {
        "labels": [g.get("label") or name for name, g in groups.items()],
        "win_rate": [None if g.get("win_rate") is None else round(100 * g["win_rate"], 1) for g in groups.values()],
        "median_cycle": [g.get("median_cycle_days_won") for g in groups.values()],
        "km_median_cycle": [g.get("km_median_cycle_days") for g in groups.values()],
        "median_touches": [g.get("median_touches_won") for g in groups.values()],
    }


@role_required(*READERS)
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    report = selectors.report_get_for_user(user=request.user, report_id=report_id)
    return render(request, "reports/detail.html", _detail_context(request, report))


@role_required(*READERS)
def report_status(request: HttpRequest, report_id: int) -> HttpResponse:
    """The progress panel; htmx polls it while the build runs, and it reloads the page when done."""
    report = selectors.report_get_for_user(user=request.user, report_id=report_id)
    response = render(request, "reports/_status.html", {"report": report})
    if report.state == ComparisonReport.State.DONE and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # htmx reloads the page, which then shows the figures
    return response


@role_required(*READERS)
def report_export(request: HttpRequest, report_id: int) -> HttpResponse:
    """The report's table as CSV, through the app's one CSV writer."""
    report = selectors.report_get_for_user(user=request.user, report_id=report_id)
    data = selectors.report_for_user(report=report, user=request.user)
    cohort = data.get("mode") == "cohort"
    columns = [c for c in COLUMNS if cohort or not c[0].startswith("conversion")]
    lines = [["Group", *[heading for _, heading in columns]]]
    lines += [[label, *[figures.get(k) for k, _ in columns]] for _, label, figures in selectors.report_rows(data)]
    response = HttpResponse(csv_text(lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="comparison-{report.pk}.csv"'
    return response


@role_required(*READERS)
def report_group_leads(request: HttpRequest, report_id: int, group: str) -> HttpResponse:
    """Drill-down: the leads of one group that this user may see (leads_visible_to)."""
    report = selectors.report_get_for_user(user=request.user, report_id=report_id)
    leads = selectors.report_group_leads(user=request.user, report=report, group=group)
    label = ((report.data or {}).get("groups") or {}).get(group, {}).get("label", group)
    back = reverse("reports:report_detail", kwargs={"report_id": report.pk})
    return render(request, "reports/group_leads.html", {"report": report, "label": label, "leads": leads, "back": back})
