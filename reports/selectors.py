"""The cherry-pick comparison: marketing-qualified against rep-sourced leads.

`comparison_compute(params=..., now=...)` states which leads (the filters, the
period in cohort or close-date mode) and how they are grouped, as SQL over the
lead table; leads.figures counts them into histograms with set-based statements
and takes every figure and the verdict's tests from those. The report job
(reports.services) stores the result; pages read stored snapshots
(`report_for_user` shapes one for the reader's role).
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404

from accounts.models import Role, Team, User
from leads.clock.selectors import Compliance, compliance_by
from leads.figures import (
    CYCLE_STARTS,
    QUEUED_AT_SQL,
    REACHED_SALES_SQL,
    LeadSet,
    figures_from_row,
    group_rows,
    side_figures,
    side_from_row,
    side_rows,
    sides_from_groups,
    verdict,
)
from leads.models import FirstContactClock, Lead, RepSourceChannel
from leads.selectors import leads_visible_to
from scoring.selectors import figure_for_sales

from .models import ComparisonReport

GROUP_BYS = ("origin", "source", "campaign", "region", "team", "rep", "version")

# Which side of the comparison a lead is on. Recycled MQLs (rejected back to the
# nurture pool at least once) are their own group, whatever happened next.
SIDE_SQL = (
    "CASE WHEN l.origin = 'rep_sourced' THEN 'rep_sourced' "
    "WHEN l.recycled_count > 0 THEN 'recycled_mql' "
    "WHEN l.promoted_version IS NOT NULL THEN 'mql' "
    "ELSE 'imported' END"
)
GROUP_SQL = {
    "origin": (
        "CASE WHEN l.origin = 'rep_sourced' "
        "THEN 'rep_sourced:' || coalesce(nullif(l.rep_source_channel, ''), 'unknown') "
        "WHEN l.recycled_count > 0 THEN 'recycled_mql' "
        "WHEN l.promoted_version IS NOT NULL THEN 'mql:v' || l.promoted_version "
        "ELSE 'imported' END"
    ),
    "source": "coalesce(nullif(l.source, ''), '(none)')",
    "campaign": "coalesce(nullif(l.campaign, ''), '(none)')",
    "region": "coalesce(nullif(t.region, ''), '(none)')",
    "team": "coalesce(t.name, '(none)')",
    "rep": "coalesce(u.username, '(none)')",
    "version": "coalesce('v' || l.promoted_version, '(none)')",
}
SIDE_LABELS = {
    "mql": "Marketing-qualified leads",
    "rep_sourced": "Rep-sourced leads",
    "recycled_mql": "Rejected and recycled MQLs",
    "imported": "Imported history (no version promoted)",
}
FROM_SQL = "leads_lead l LEFT JOIN accounts_team t ON t.id = l.team_id LEFT JOIN accounts_user u ON u.id = l.owner_id"


@dataclasses.dataclass(frozen=True)
class ComparisonParams:
    since: datetime.date | None = None
    until: datetime.date | None = None
    cohort: bool = False
    group_by: str = "origin"
    cycle_from: str | None = None  # None: assignment for marketing leads, creation for rep-sourced
    team_id: int | None = None
    region: str | None = None
    rep_id: int | None = None
    version: int | None = None
    source: str | None = None
    campaign: str | None = None

    def __post_init__(self):
        if self.group_by not in GROUP_BYS:
            raise ValueError(f"group by one of {', '.join(GROUP_BYS)}")
        if self.cycle_from not in (None, *CYCLE_STARTS):
            raise ValueError(f"cycle start must be one of {', '.join(CYCLE_STARTS)}")

    def as_json(self) -> dict:
        out = dataclasses.asdict(self)
        out["since"] = self.since.isoformat() if self.since else None
        out["until"] = self.until.isoformat() if self.until else None
        return out

    @classmethod
    def from_json(cls, data: dict) -> ComparisonParams:
        data = {f.name: data.get(f.name) for f in dataclasses.fields(cls) if f.name in data}
        for key in ("since", "until"):
            if data.get(key):
                data[key] = datetime.date.fromisoformat(data[key])
        data["cohort"] = bool(data.get("cohort"))
        data["group_by"] = data.get("group_by") or "origin"
        return cls(**data)


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


def comparison_where(params: ComparisonParams) -> tuple[str, list]:
    """The leads a comparison counts: reached sales, in the period, matching the filters."""
    clauses, values = [REACHED_SALES_SQL], []
    moment = QUEUED_AT_SQL if params.cohort else "l.closed_at"
    if params.since:
        clauses.append(f"{moment} >= %s")
        values.append(_day_start(params.since))
    if params.until:  # inclusive: up to the end of that UTC day
        clauses.append(f"{moment} < %s")
        values.append(_day_start(params.until + datetime.timedelta(days=1)))
    if not params.cohort:
        clauses.append("l.status IN ('won', 'lost')")
    for column, value in (
        ("l.team_id", params.team_id),
        ("t.region", params.region),
        ("l.owner_id", params.rep_id),
        ("l.promoted_version", params.version),
        ("l.source", params.source),
        ("l.campaign", params.campaign),
    ):
        if value not in (None, ""):
            clauses.append(f"{column} = %s")
            values.append(value)
    return " AND ".join(clauses), values


def side_of_group(name: str) -> str:
    """The side an origin group belongs to (GROUP_SQL["origin"] names groups after SIDE_SQL's sides)."""
    if name.startswith("mql:"):
        return "mql"
    return name.split(":", 1)[0]


def group_label(group_by: str, name: str) -> str:
    if group_by != "origin":
        return name
    if name.startswith("mql:"):
        return f"Marketing-qualified, version {name[5:]}"
    if name.startswith("rep_sourced:"):
        channel = name.split(":", 1)[1]
        labels = dict(RepSourceChannel.choices)
        return f"Rep-sourced: {labels.get(channel, channel).lower()}"
    return SIDE_LABELS.get(name, name)


def _sla_by_group(where_sql: str, where_params: list, group_sql: str, now) -> dict[str, dict]:
    """First-contact compliance per group, through leads.clock.selectors.compliance_by (THE SLA
    figure), in one grouped query over the clock table: each clock is labelled with its lead's
    group by a correlated subquery (NULL for a lead the comparison does not count)."""
    label = RawSQL(  # noqa: S611 - the module's constant fragments; values are parameters
        f"SELECT ({group_sql}) FROM {FROM_SQL} WHERE l.id = leads_firstcontactclock.lead_id AND {where_sql}",  # noqa: S608
        where_params,
    )
    clocks = FirstContactClock.objects.annotate(report_group=label).filter(report_group__isnull=False)
    by_group = compliance_by(clocks=clocks, now=now, key="report_group")
    met = sum(c.met for c in by_group.values())
    came_due = sum(c.came_due for c in by_group.values())
    out = {name: _sla_figures(c) for name, c in by_group.items()}
    out[None] = _sla_figures(Compliance(met=met, came_due=came_due))
    return out


def _sla_figures(result: Compliance | None) -> dict:
    if result is None:
        return {"sla_met": 0, "sla_came_due": 0, "sla_compliance": None}
    return {"sla_met": result.met, "sla_came_due": result.came_due, "sla_compliance": result.rate}


def comparison_compute(*, params: ComparisonParams, now: datetime.datetime, on_progress=lambda p: None) -> dict:
    """Every figure of the comparison, as stored in a report's `data`."""
    where_sql, where_params = comparison_where(params)
    group_sql = GROUP_SQL[params.group_by]
    lead_set = LeadSet(
        group_sql=group_sql, side_sql=SIDE_SQL, from_sql=FROM_SQL, where_sql=where_sql, where_params=where_params
    )
    rows = group_rows(lead_set, now=now, cycle_from=params.cycle_from, concurrent=True)
    if params.group_by == "origin":  # the groups partition the sides: join them, no second pass
        side_data = sides_from_groups(rows["groups"], side_of=side_of_group)
    else:
        side_data = side_rows(lead_set, now=now, cycle_from=params.cycle_from)
    on_progress(70)
    # The verdict first: it needs only the histograms, so it is worked out while the median
    # hours to first contact are still being counted (group_rows, concurrent).
    judged = verdict(
        side_from_row(SIDE_LABELS["mql"], side_data.get("mql")),
        side_from_row(SIDE_LABELS["rep_sourced"], side_data.get("rep_sourced")),
        cohort=params.cohort,
    )
    sla = _sla_by_group(where_sql, where_params, group_sql, now)
    groups = {}
    for name in sorted(rows["groups"]):
        figures = figures_from_row(rows["groups"][name], cohort=params.cohort)
        figures |= sla.get(name) or _sla_figures(None)
        groups[name] = {"label": group_label(params.group_by, name), **figures}
    sides = {
        name: {"label": SIDE_LABELS.get(name, name), **side_figures(row, cohort=params.cohort)}
        for name, row in sorted(side_data.items())
    }
    total = rows["total"]
    total_figures = figures_from_row(total, cohort=params.cohort) if total else empty_figures(cohort=params.cohort)
    total_figures |= sla[None]
    on_progress(90)
    return {
        "params": params.as_json(),
        "as_of": now.isoformat(),
        "mode": "cohort" if params.cohort else "close_date",
        "total": total_figures,
        "groups": groups,
        "sides": sides,
        "verdict": judged,
    }


def empty_figures(*, cohort: bool) -> dict:
    row = {
        "leads": 0,
        "contacted": 0,
        "won": 0,
        "lost": 0,
        "open": 0,
        "closed_before_start": 0,
        "closed_without_start": 0,
        "median_cycle_days_won": None,
        "p75_cycle_days_won": None,
        "median_touches_won": None,
        "median_touches_lost": None,
        "won_value": None,
        "won_with_value": 0,
        "median_hours_to_first_contact": None,
        "won_cycles": [],
        "open_ages": [],
    }
    return figures_from_row(row, cohort=cohort)


# --- reading snapshots --------------------------------------------------------------


def reports_visible_to(*, user: User) -> QuerySet[ComparisonReport]:
    """Marketing and admins every snapshot; a manager those of their teams; a rep those
    of their team (shaped by report_for_user to their own figures and the team's total)."""
    qs = ComparisonReport.objects.select_related("team", "requested_by")
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


def report_get_for_user(*, user: User, report_id: int) -> ComparisonReport:
    return get_object_or_404(reports_visible_to(user=user), pk=report_id)


def teams_for_user(*, user: User) -> QuerySet[Team]:
    """The teams a user may build a comparison for (None = every team, for marketing and admins)."""
    if user.is_superuser or user.role in (Role.MARKETING, Role.ADMIN):
        return Team.objects.all()
    if user.role == Role.MANAGER:
        return Team.objects.filter(manager=user)
    if user.role == Role.REP:
        profile = getattr(user, "rep_profile", None)
        return Team.objects.filter(pk=profile.team_id) if profile else Team.objects.none()
    return Team.objects.none()


POOL_COUNTS = ("leads", "contacted", "won", "lost", "open", "closed", "closed_before_start", "closed_without_start")


def _for_sales(figures: dict) -> dict:
    """Figures about recycled MQLs (nurture-pool leads) as sales may see them: counts
    through scoring.selectors.figure_for_sales, everything else only for a big enough group."""
    big = figure_for_sales(figures.get("leads")) is not None
    shown = {key: (value if big else None) for key, value in figures.items()}
    shown |= {key: figure_for_sales(figures.get(key)) for key in POOL_COUNTS if key in figures}
    shown["label"] = figures.get("label")
    shown["rounded"] = True
    return shown


def report_for_user(*, report: ComparisonReport, user: User) -> dict:
    """A stored report as this user may read it.

    Marketing and admins: everything. Managers (their teams' reports): everything
    but the recycled MQLs' counts, which are nurture-pool figures rounded by
    figure_for_sales. Reps: their team's total and the origin groups (aggregates),
    and in a per-rep report only their own row.
    """
    data = dict(report.data or {})
    if not data or not user.is_sales:
        return data
    groups = dict(data.get("groups") or {})
    if user.role == Role.REP and (data.get("params") or {}).get("group_by") == "rep":
        groups = {name: g for name, g in groups.items() if name == user.username}
    groups = {name: (_for_sales(g) if name == "recycled_mql" else g) for name, g in groups.items()}
    sides = {name: (_for_sales(s) if name == "recycled_mql" else s) for name, s in (data.get("sides") or {}).items()}
    return data | {"groups": groups, "sides": sides}


def report_group_leads(*, user: User, report: ComparisonReport, group: str, limit: int = 200) -> QuerySet[Lead]:
    """Drill-down: the leads of one group of a report, through the one access door for leads."""
    params = ComparisonParams.from_json((report.data or {}).get("params") or {})
    where_sql, where_params = comparison_where(params)
    sql = f"SELECT l.id FROM {FROM_SQL} WHERE {where_sql} AND ({GROUP_SQL[params.group_by]}) = %s"  # noqa: S608
    ids = RawSQL(sql, [*where_params, group])  # noqa: S611 - constants; values are parameters
    return (
        leads_visible_to(user=user)
        .filter(id__in=ids)
        .select_related("owner", "team")
        .order_by("-closed_at", "-id")[:limit]
    )


def report_age_words(report: ComparisonReport, *, now: datetime.datetime) -> str:
    from leadhandoff.durations import duration_words

    moment = report.finished_at or report.created_at
    return f"built {duration_words(now - moment)} ago" if moment else "not built yet"


def report_rows(data: dict) -> list[tuple[str | None, str, dict[str, Any]]]:
    """(group key, label, figures) in display order: the groups, then the total (key None)."""
    rows = [(name, g.get("label") or name, g) for name, g in (data.get("groups") or {}).items()]
    if data.get("total"):
        rows.append((None, "All leads", data["total"]))
    return rows
