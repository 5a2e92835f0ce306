"""The SLA dashboard's pages: the figures, the leads behind each, and the CSV of the table.

Managers read their own teams (another team is a 404); admins and marketing
every team. The drill-down lists only leads the reader may open
(leads.selectors.leads_visible_to), so it never shows more than the lead pages do.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from accounts.access import role_required
from leadhandoff.csv_files import csv_text
from sla.dashboard.forms import DashboardFilterForm, DrillDownForm
from sla.dashboard.selectors import (
    DASHBOARD_ROLES,
    FIGURES,
    Dashboard,
    clock_outcome_words,
    dashboard_team_get,
    dashboard_teams_for,
    figure_clocks,
    sla_dashboard_cached,
)

DRILL_DOWN_PAGE_SIZE = 50


def _filters(request: HttpRequest, form_class=DashboardFilterForm):
    """The form, whether it is valid, the period, the team id asked for, now."""
    form = form_class(request.GET)  # every field is optional: no parameters is the default view
    now = timezone.now()
    valid = form.is_valid()
    period = form.chosen_period(now=now, tz=request.user.tz)
    team_id = form.cleaned_data.get("team") if valid else None
    if team_id is not None:
        dashboard_team_get(user=request.user, team_id=team_id)  # 404 for another manager's team
    return form, valid, period, team_id, now


def _query(period, team_id=None, **extra) -> str:
    """The query string that asks for the same period (and team), plus `extra`."""
    params = {"period": period.key}
    if period.key == "custom":
        params.update(start=period.first_day.isoformat(), end=period.last_day.isoformat())
    if team_id:
        params["team"] = team_id
    params.update({k: v for k, v in extra.items() if v is not None})
    return urlencode(params)


@role_required(*DASHBOARD_ROLES)
def dashboard(request: HttpRequest) -> HttpResponse:
    form, valid, period, team_id, now = _filters(request)
    data = sla_dashboard_cached(user=request.user, period=period, now=now, team_id=team_id)
    period = data.period  # a rolling period as of the figures' instant
    # Each row's drill-down query (the figure is added by the cell that links).
    data.overall_q = _query(period, team_id)
    for team_row in data.team_rows:
        team_row.q = _query(period, team_row.team.id)
    for rep_row in data.rep_rows:
        rep_row.q = _query(period, team_id, rep=rep_row.rep.id)
    for week_row in data.week_rows:
        week_row.q = _query(period, team_id, week=week_row.week.isoformat())
    context = {
        "form": form,
        "data": data,
        "team_id": team_id,
        "query": _query(period, team_id),
        "period_query": _query(period),
        "charts": data.charts,
        # The team picker: every team the reader may see (the page's own list unless filtered).
        "all_teams": data.teams if team_id is None else list(dashboard_teams_for(user=request.user).order_by("name")),
        "leads_url": reverse("sla_dashboard:leads"),  # reversed once, not per cell
        # When the figures were computed, in the reader's time zone (they are cached briefly).
        # (Formatted here: the template's date filter would show it in the server's time zone.)
        "as_of": f"{data.now.astimezone(request.user.tz):%H:%M}",
        "as_of_full": f"{data.now.astimezone(request.user.tz):%Y-%m-%d %H:%M:%S %Z}",
        # The figures' HTML is cached with them: the same entry and instant give the same HTML.
        "figures_key": f"{data.cache_key}@{data.now.isoformat()}",
        "figures_cache_seconds": settings.SLA_DASHBOARD_CACHE_SECONDS if data.cache_key else 0,
    }
    return render(request, "sla/dashboard.html", context, status=200 if valid else 400)


@role_required(*DASHBOARD_ROLES)
def drill_down(request: HttpRequest) -> HttpResponse:
    form, valid, period, team_id, now = _filters(request, DrillDownForm)
    if not valid:
        return render(request, "sla/dashboard_leads.html", {"form": form, "page": None}, status=400)
    d = form.cleaned_data
    clocks = figure_clocks(
        user=request.user,
        figure=d["figure"],
        period=period,
        now=now,
        team_id=team_id,
        rep_id=d.get("rep"),
        week=d.get("week"),
    )
    page = Paginator(clocks, DRILL_DOWN_PAGE_SIZE).get_page(request.GET.get("page"))
    for clock in page.object_list:
        clock.outcome_words = clock_outcome_words(clock, now)
    user = request.user
    context = {
        "form": form,
        "page": page,
        "figure": FIGURES[d["figure"]],
        "period": period,
        "week": d.get("week"),
        # Marketing and admins open a lead on its marketing page; managers on its brief.
        "lead_url_name": "leads:lead_detail" if user.is_admin_role or user.is_marketing else "leads:brief",
        "back_query": _query(period, team_id),
        "page_query": _query(period, team_id, figure=d["figure"], rep=d.get("rep"), week=d.get("week")),
    }
    return render(request, "sla/dashboard_leads.html", context)


def table_rows(data: Dashboard) -> list[list[object]]:
    """The per-team and per-rep table as CSV rows: seconds as numbers, and in words."""
    header = [
        "row",
        "team",
        "rep",
        "came_due",
        "met",
        "compliance_percent",
        "contacted",
        "median_seconds",
        "p90_seconds",
        "median_business_seconds",
        "p90_business_seconds",
        "median",
        "p90",
        "median_business",
        "p90_business",
        "open_breaches",
        "warnings",
        "reassignments",
        "free_to_cold_call",
    ]

    def figures(f, free=None) -> list[object]:
        rate = f.compliance.rate
        return [
            f.compliance.came_due,
            f.compliance.met,
            None if rate is None else round(rate * 100, 1),
            f.contacted,
            f.median_s,
            f.p90_s,
            f.median_business_s,
            f.p90_business_s,
            f.median_words,
            f.p90_words,
            f.median_business_words,
            f.p90_business_words,
            f.open_breaches,
            f.warnings,
            f.reassignments,
            "" if free is None else ("yes" if free.free else "no"),
        ]

    rows: list[list[object]] = [header, ["all", "", "", *figures(data.overall)]]
    rows += [["team", row.team.name, "", *figures(row.figures)] for row in data.team_rows]
    rows += [
        ["rep", row.team.name if row.team else "", row.rep.username, *figures(row.figures, row.free)]
        for row in data.rep_rows
    ]
    return rows


@role_required(*DASHBOARD_ROLES)
def export(request: HttpRequest) -> HttpResponse:
    form, valid, period, team_id, now = _filters(request)
    if not valid:
        return HttpResponse("The period is not valid.", status=400, content_type="text/plain")
    data = sla_dashboard_cached(user=request.user, period=period, now=now, team_id=team_id)
    period = data.period
    response = HttpResponse(csv_text(table_rows(data)), content_type="text/csv; charset=utf-8")
    name = f"sla-{period.first_day:%Y%m%d}-{period.last_day:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
