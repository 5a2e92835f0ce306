"""Reading the analyses' snapshots: who may read which, shaped to what each role may see.

Marketing and admins: every snapshot, every row. Managers: their teams' snapshots.
Reps: their team's snapshots, with their own row and the team's aggregates only.
A drill-down lists leads through the one access door (leads.selectors.leads_visible_to).
Rejected MQLs are back in the nurture pool, so counts of them reach sales through
scoring.selectors.figure_for_sales (rounded, nothing below the minimum group).
"""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import Role, User
from leads.models import Lead
from leads.selectors import leads_visible_to
from reports.models import Analysis
from scoring.selectors import figure_for_sales

from .cherry_pick import OUTCOMES, cherry_pick_lead_ids_sql
from .cycle import cycle_lead_ids_sql


def analyses_visible_to(*, user: User, kind: str | None = None) -> QuerySet[Analysis]:
    qs = Analysis.objects.select_related("team", "requested_by")
    if kind:
        qs = qs.filter(kind=kind)
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_superuser or user.role in (Role.MARKETING, Role.ADMIN):
        return qs
    if user.role == Role.MANAGER:
        return qs.filter(team__manager=user)
    if user.role == Role.REP:
        profile = getattr(user, "rep_profile", None)
        return qs.filter(team_id=profile.team_id) if profile else qs.none()
    return qs.none()


def analysis_get_for_user(*, user: User, analysis_id: int) -> Analysis:
    return get_object_or_404(analyses_visible_to(user=user), pk=analysis_id)


def _rejections_for_sales(row: dict) -> dict:
    shown = dict(row)
    shown["rejected"] = figure_for_sales(row.get("rejected"))
    if shown["rejected"] is None:
        shown["rejected_share"] = None
    shown["rejected_by_reason"] = {k: figure_for_sales(v) for k, v in (row.get("rejected_by_reason") or {}).items()}
    return shown


def analysis_for_user(*, analysis: Analysis, user: User) -> dict:
    """A stored snapshot's figures as this user may read them."""
    data = dict(analysis.data or {})
    if not data or not user.is_sales:
        return data
    reps = data.get("reps") or []
    if user.role == Role.REP:
        reps = [r for r in reps if r.get("rep_id") == user.pk]
    if analysis.kind == Analysis.Kind.CHERRY_PICK:
        reps = [
            _rejections_for_sales(r) | {"weeks": {w: _rejections_for_sales(c) for w, c in r["weeks"].items()}}
            for r in reps
        ]
        data["total"] = _rejections_for_sales(data.get("total") or {})
        data["weeks"] = {w: _rejections_for_sales(c) for w, c in (data.get("weeks") or {}).items()}
    if analysis.kind == Analysis.Kind.CYCLE and user.role == Role.REP:
        trend = dict(data.get("trend") or {})
        trend["rep"] = {k: v for k, v in (trend.get("rep") or {}).items() if k == str(user.pk)}
        data["trend"] = trend
    return data | {"reps": reps}


def cycle_leads(
    *,
    user: User,
    analysis: Analysis,
    bin: int | None,
    month: str | None,
    by: str | None,
    key: str | None,
    limit: int = 200,
) -> QuerySet[Lead]:
    """Drill-down from a bar of the cycle dashboard: its won deals, those this user may open."""
    if analysis.kind != Analysis.Kind.CYCLE:
        raise Http404("No such figure.")
    if user.role == Role.REP and by == "rep" and key != str(user.pk):
        raise Http404("Only your own line.")
    sql, params = cycle_lead_ids_sql(
        since=analysis.period_start,
        until=analysis.period_end,
        team_id=analysis.team_id,
        bin=bin,
        month=month,
        by=by,
        key=key,
    )
    ids = RawSQL(sql, params)  # noqa: S611 - the module's constant SQL; values are parameters
    return (
        leads_visible_to(user=user)
        .filter(id__in=ids)
        .select_related("owner", "team")
        .order_by("closed_at", "id")[:limit]
    )


def analysis_leads(*, user: User, analysis: Analysis, rep_id: int, outcome: str, limit: int = 200) -> QuerySet[Lead]:
    """Drill-down from a rep's row of the cherry-pick index: the rep's MQLs of the period with
    this outcome (e.g. "never": the ones they skipped), those this user may open. Outcomes are
    judged at the snapshot's moment (`as_of`), so the list matches the number clicked."""
    if analysis.kind != Analysis.Kind.CHERRY_PICK or outcome not in OUTCOMES:
        raise Http404("No such figure.")
    if user.role == Role.REP and rep_id != user.pk:
        raise Http404("Only your own row.")
    sql, params = cherry_pick_lead_ids_sql(
        since=analysis.period_start,
        until=analysis.period_end,
        team_id=analysis.team_id,
        rep_id=rep_id,
        outcome=outcome,
        now=datetime.datetime.fromisoformat((analysis.data or {}).get("as_of") or analysis.created_at.isoformat()),
    )
    ids = RawSQL(sql, params)  # noqa: S611 - the module's constant SQL; values are parameters
    return (
        leads_visible_to(user=user)
        .filter(id__in=ids)
        .select_related("owner", "team")
        .order_by("assigned_at", "id")[:limit]
    )
