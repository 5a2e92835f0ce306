"""The cherry-pick index and credit pages: snapshots, building one, a snapshot with charts, CSV, drill-down.

What each role sees is settled by reports.analyses.selectors; drill-downs list leads
through the one access door for leads (leads.selectors.leads_visible_to).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import role_required
from accounts.models import Role
from leadhandoff.api import ApplicationError
from leadhandoff.csv_files import csv_text
from reports.models import Analysis
from reports.selectors import report_age_words

from . import selectors, services
from .cherry_pick import OUTCOMES
from .credit import DIMENSIONS
from .cycle import STAGES, bin_label
from .forms import AnalysisForm

READERS = (Role.MARKETING, Role.REP, Role.MANAGER, Role.ADMIN)
SNAPSHOTS_SHOWN = 30
TITLES = {
    Analysis.Kind.CHERRY_PICK: "Cherry-pick index",
    Analysis.Kind.CREDIT: "Credit to both sides",
    Analysis.Kind.CYCLE: "Cycle length",
}
LIST_URLS = {
    Analysis.Kind.CHERRY_PICK: "reports:cherry_pick",
    Analysis.Kind.CREDIT: "reports:credit",
    Analysis.Kind.CYCLE: "reports:cycle",
}
OUTCOME_LABELS = {
    "on_time": "Contacted within the SLA",
    "late": "Contacted late",
    "never": "Never contacted (skipped)",
    "rejected": "Rejected",
    "reassigned": "Reassigned away",
    "waiting": "Not due yet",
}
CHERRY_COLUMNS = [
    ("assigned", "MQLs assigned"),
    ("sla_compliance", "SLA met"),
    *[(o, OUTCOME_LABELS[o]) for o in ("on_time", "late", "never", "rejected", "reassigned", "waiting")],
    ("out_of_order", "Out of order (Kendall tau)"),
    ("sourced_while_waiting", "Rep-sourced first touches while an MQL waited"),
    ("sourced", "Rep-sourced created"),
    ("sourced_not_free", "Rep-sourced while not free to cold-call"),
]
DIMENSION_LABELS = {
    "first_source": "First touch: source",
    "first_campaign": "First touch: campaign",
    "last_source": "Last touch: source",
    "last_campaign": "Last touch: campaign",
}


def _list(request: HttpRequest, kind: str, form: AnalysisForm, status: int = 200) -> HttpResponse:
    now = timezone.now()
    analyses = list(selectors.analyses_visible_to(user=request.user, kind=kind)[:SNAPSHOTS_SHOWN])
    context = {
        "kind": kind,
        "title": TITLES[kind],
        "form": form,
        "analyses": [(a, report_age_words(a, now=now)) for a in analyses],
    }
    return render(request, "reports/analyses/list.html", context, status=status)


def _initial_form(request: HttpRequest) -> AnalysisForm:
    since, until = services.default_period(now=timezone.now())
    return AnalysisForm(initial={"since": since, "until": until}, user=request.user)


@role_required(*READERS)
def cherry_pick(request: HttpRequest) -> HttpResponse:
    return _list(request, Analysis.Kind.CHERRY_PICK, _initial_form(request))


@role_required(*READERS)
def credit(request: HttpRequest) -> HttpResponse:
    return _list(request, Analysis.Kind.CREDIT, _initial_form(request))


@role_required(*READERS)
def cycle(request: HttpRequest) -> HttpResponse:
    return _list(request, Analysis.Kind.CYCLE, _initial_form(request))


@role_required(*READERS)
@require_POST
def analysis_build(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in TITLES:
        raise Http404("No such analysis.")
    form = AnalysisForm(request.POST, user=request.user)
    if form.is_valid():
        d = form.cleaned_data
        try:
            analysis = services.analysis_request(
                kind=kind,
                since=d["since"],
                until=d["until"],
                team_id=d["team"].pk if d.get("team") else None,
                actor=request.user,
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("reports:analysis_detail", analysis_id=analysis.pk)
    return _list(request, kind, form, status=400)


def _pct(value) -> str:
    return "unknown" if value is None else f"{100 * value:.1f}%"


def _cherry_rows(data: dict) -> list[dict]:
    rows = []
    for r in data.get("reps") or []:
        cells = []
        for key, _ in CHERRY_COLUMNS:
            value = r.get(key)
            share = r.get(f"{key}_share") if key in OUTCOMES else None
            text = _pct(value) if key in ("sla_compliance", "out_of_order") else ("–" if value is None else value)
            cells.append({"key": key, "text": text, "share": _pct(share) if share is not None else "", "n": value})
        rows.append({"rep": r, "cells": cells})
    return rows


def _charts(analysis: Analysis, data: dict) -> dict:
    if analysis.kind == Analysis.Kind.CHERRY_PICK:
        weeks = data.get("weeks") or {}
        reps = data.get("reps") or []
        return {
            "kind": "cherry_pick",
            "weeks": list(weeks),
            "out_of_order": [
                None if w["out_of_order"] is None else round(100 * w["out_of_order"], 1) for w in weeks.values()
            ],
            "never": [None if w["never_share"] is None else round(100 * w["never_share"], 1) for w in weeks.values()],
            "on_time": [
                None if w["on_time_share"] is None else round(100 * w["on_time_share"], 1) for w in weeks.values()
            ],
            "reps": [r["name"] for r in reps],
            "rep_out_of_order": [
                None if r["out_of_order"] is None else round(100 * r["out_of_order"], 1) for r in reps
            ],
        }
    if analysis.kind == Analysis.Kind.CYCLE:
        months = data.get("months") or []
        origin = (data.get("trend") or {}).get("origin") or {}
        return {
            "kind": "cycle",
            "bins": [b["label"] for b in data.get("histogram") or []],
            "deals": [b["deals"] for b in data.get("histogram") or []],
            "bin_urls": [
                reverse("reports:cycle_bin_leads", kwargs={"analysis_id": analysis.pk, "bin": b["bin"]})
                for b in data.get("histogram") or []
            ],
            "months": months,
            "lines": [
                {"label": g["label"], "data": [(g["months"].get(m) or {}).get("median_days") for m in months]}
                for g in origin.values()
            ],
        }
    sources = (data.get("marketing") or {}).get("first_source") or {}
    reps = data.get("reps") or []
    return {
        "kind": "credit",
        "sources": list(sources),
        "source_won": [float(v["won_value"]) for v in sources.values()],
        "source_pipeline": [float(v["pipeline"]) for v in sources.values()],
        "reps": [r["name"] for r in reps],
        "rep_marketing_won": [float(r["marketing"]["won_value"]) for r in reps],
        "rep_sourced_won": [float(r["rep_sourced"]["won_value"]) for r in reps],
    }


@role_required(*READERS)
def analysis_detail(request: HttpRequest, analysis_id: int) -> HttpResponse:
    analysis = selectors.analysis_get_for_user(user=request.user, analysis_id=analysis_id)
    data = selectors.analysis_for_user(analysis=analysis, user=request.user)
    context = {
        "analysis": analysis,
        "title": TITLES[analysis.kind],
        "list_url": reverse(LIST_URLS[analysis.kind]),
        "data": data,
        "age": report_age_words(analysis, now=timezone.now()),
        "columns": CHERRY_COLUMNS,
        "outcome_labels": OUTCOME_LABELS,
        "stages": [(s, (data.get("stages") or {}).get(s) or {}) for s in STAGES],
        "dimensions": [(DIMENSION_LABELS[d], (data.get("marketing") or {}).get(d) or {}) for d in DIMENSIONS],
    }
    if analysis.state == Analysis.State.DONE:
        context["charts"] = _charts(analysis, data)
        if analysis.kind == Analysis.Kind.CHERRY_PICK:
            context["rows"] = _cherry_rows(data)
    return render(request, "reports/analyses/detail.html", context)


@role_required(*READERS)
def analysis_status(request: HttpRequest, analysis_id: int) -> HttpResponse:
    """The progress panel; htmx polls it while the build runs, and it reloads the page when done."""
    analysis = selectors.analysis_get_for_user(user=request.user, analysis_id=analysis_id)
    response = render(request, "reports/analyses/_status.html", {"analysis": analysis})
    if analysis.state == Analysis.State.DONE and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


def csv_rows(analysis: Analysis, data: dict) -> list[list]:
    """The snapshot's tables as CSV lines (also what the tests read back)."""
    if analysis.kind == Analysis.Kind.CHERRY_PICK:
        keys = ["assigned", "sla_met", "sla_came_due", "sla_compliance", *OUTCOMES]
        keys += [f"{o}_share" for o in OUTCOMES]
        keys += ["pairs", "discordant", "out_of_order", "sourced", "sourced_not_free", "sourced_while_waiting"]
        lines = [["rep", *keys, "rejected_by_reason"]]
        for r in [*(data.get("reps") or []), {"username": "(all)", **(data.get("total") or {})}]:
            reasons = "; ".join(f"{k}: {v}" for k, v in sorted((r.get("rejected_by_reason") or {}).items()))
            lines.append([r.get("username"), *[r.get(k) for k in keys], reasons])
        return lines
    if analysis.kind == Analysis.Kind.CYCLE:
        lines = [["table", "group", "month or bar", "deals", "median"]]
        for b in data.get("histogram") or []:
            lines.append(["histogram (days)", "", b["label"], b["deals"], ""])
        for by, groups in (data.get("trend") or {}).items():
            for g in groups.values():
                for month, cell in g["months"].items():
                    lines.append(
                        [f"monthly median cycle (days) by {by}", g["label"], month, cell["deals"], cell["median_days"]]
                    )
        for stage, cell in (data.get("stages") or {}).items():
            lines.append(["time in stage (hours)", stage, "", cell["deals"], cell["median_hours"]])
        return lines
    figures = ["leads", "open", "pipeline", "won", "won_value"]
    lines = [["side", "credited to", "by", *figures]]
    for dim in DIMENSIONS:
        for name, f in ((data.get("marketing") or {}).get(dim) or {}).items():
            lines.append(["marketing", name, dim, *[f[k] for k in figures]])
    for r in data.get("reps") or []:
        for side in ("marketing", "rep_sourced"):
            lines.append(["sales", r["username"] or r["name"], f"owner ({side})", *[r[side][k] for k in figures]])
    lines.append(["all", "", "", *[(data.get("total") or {}).get(k) for k in figures]])
    return lines


@role_required(*READERS)
def analysis_export(request: HttpRequest, analysis_id: int) -> HttpResponse:
    """The snapshot's tables as CSV, through the app's one CSV writer."""
    analysis = selectors.analysis_get_for_user(user=request.user, analysis_id=analysis_id)
    data = selectors.analysis_for_user(analysis=analysis, user=request.user)
    response = HttpResponse(csv_text(csv_rows(analysis, data)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{analysis.kind}-{analysis.pk}.csv"'
    return response


@role_required(*READERS)
def analysis_leads(request: HttpRequest, analysis_id: int, rep_id: int, outcome: str) -> HttpResponse:
    """Drill-down: a rep's MQLs of the snapshot's period with one outcome ("never": the ones skipped)."""
    analysis = selectors.analysis_get_for_user(user=request.user, analysis_id=analysis_id)
    leads = selectors.analysis_leads(user=request.user, analysis=analysis, rep_id=rep_id, outcome=outcome)
    rep = next((r for r in (analysis.data or {}).get("reps") or [] if r.get("rep_id") == rep_id), None)
    context = {
        "analysis": analysis,
        "label": OUTCOME_LABELS.get(outcome, outcome),
        "rep_name": rep["name"] if rep else rep_id,
        "leads": leads,
        "back": reverse("reports:analysis_detail", kwargs={"analysis_id": analysis.pk}),
    }
    return render(request, "reports/analyses/leads.html", context)


@role_required(*READERS)
def cycle_leads(
    request: HttpRequest, analysis_id: int, bin: int | None = None, by: str = "", key: str = "", month: str = ""
) -> HttpResponse:
    """Drill-down from a bar of the cycle dashboard: a histogram bin, or one month of a trend line."""
    analysis = selectors.analysis_get_for_user(user=request.user, analysis_id=analysis_id)
    leads = selectors.cycle_leads(
        user=request.user, analysis=analysis, bin=bin, month=month or None, by=by or None, key=key or None
    )
    label = bin_label(bin) if bin is not None else f"won in {month}"
    context = {
        "analysis": analysis,
        "label": label,
        "rep_name": "Won deals",
        "leads": leads,
        "back": reverse("reports:analysis_detail", kwargs={"analysis_id": analysis.pk}),
    }
    return render(request, "reports/analyses/leads.html", context)
