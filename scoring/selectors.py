"""Reads for the definition pages and API.

Definitions are not secret: every role that may use the definition pages sees every
version, its rules, approvals and thread. What sales must never see is the nurture
pool, which only appears here through previews and the pool-rescore panel: sales get
an allow-list of their figures, each rounded by figure_for_sales (issue 16).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import F, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from leads.fields.selectors import custom_fields_list, event_kind_names
from leads.models import EventKind

from .models import Approval, Comment, DefinitionVersion, PoolRescore, Preview
from .rules import ATTRIBUTE_PREFIX, RULE_KIND_CUSTOM_KIND, CustomFieldSpec

# Figures about the pool are shown to sales in steps of this many leads.
POOL_FIGURE_STEP = 10
# The preview's keys sales may see, beside the rounded figures built below. An
# allow-list: anything the preview job adds later (a per-rule split, lead lists)
# stays marketing's until someone decides how sales may see it.
PREVIEW_SALES_KEYS = ("version", "revision", "threshold", "active_version", "active_threshold", "scored_at")
PREVIEW_POOL_COUNTS = ("total", "qualify_proposed", "qualify_active", "newly_qualify_count", "drop_out_count")
BACKTEST_COUNTS = ("count", "won")
BACKTEST_RATES = ("conversion_rate", "median_cycle_days")


def rule_catalogue(*, stored_rules: Any = None) -> dict[str, Any]:
    """What rules may name beyond the built-in fields: rules_parse(raw, **rule_catalogue()).

    The declared custom fields and marketing's event kinds. With `stored_rules` (a
    stored version's), a custom field the rules name that is no longer declared is
    still known by the kind stored in the rule, so an active version keeps scoring.
    """
    fields = {
        f.name: CustomFieldSpec(f.name, f.kind, personal=f.personal, choices=tuple(f.choices))
        for f in custom_fields_list()
    }
    kinds = set(event_kind_names() - set(EventKind.values))
    for rule in stored_rules or ():
        if not isinstance(rule, dict):
            continue
        name = str(rule.get("field") or "")
        if name.startswith(ATTRIBUTE_PREFIX) and name[len(ATTRIBUTE_PREFIX) :] not in fields:
            kind = RULE_KIND_CUSTOM_KIND.get(str(rule.get("kind") or ""))
            if kind:
                fields[name[len(ATTRIBUTE_PREFIX) :]] = CustomFieldSpec(name[len(ATTRIBUTE_PREFIX) :], kind)
        if rule.get("type") == "behaviour" and rule.get("event_kind"):
            kinds.add(str(rule["event_kind"]))
    return {"custom_fields": fields, "event_kinds": frozenset(kinds)}


def _live_approvals() -> Prefetch:
    return Prefetch(
        "approvals",
        queryset=Approval.objects.filter(withdrawn_at__isnull=True).select_related("user").order_by("created_at"),
        to_attr="live_approvals",
    )


def versions_list() -> QuerySet[DefinitionVersion]:
    """All versions, newest first, with author, base and live approvals in two extra queries."""
    return DefinitionVersion.objects.select_related("author", "based_on").prefetch_related(_live_approvals())


def active_version() -> DefinitionVersion | None:
    return (
        DefinitionVersion.objects.select_related("author")
        .prefetch_related(_live_approvals())
        .filter(state=DefinitionVersion.State.ACTIVE)
        .first()
    )


def version_get(*, version_id: int) -> DefinitionVersion:
    """One version with what its page shows; 404 when it does not exist."""
    return get_object_or_404(versions_list(), pk=version_id)


def version_thread(*, version: DefinitionVersion) -> QuerySet[Comment]:
    """Comments and events (state changes, edits, approvals) in the order they happened."""
    return Comment.objects.filter(version=version).select_related("author").order_by("created_at", "id")


def approvals_history(*, version: DefinitionVersion) -> QuerySet[Approval]:
    return Approval.objects.filter(version=version).select_related("user").order_by("created_at", "id")


def rules_grouped(*, version: DefinitionVersion) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {"gate": [], "fit": [], "behaviour": []}
    for rule in version.rules or []:
        groups.setdefault(rule.get("type", "fit"), []).append(rule)
    return groups


def preview_get(*, preview_id: int) -> Preview:
    return get_object_or_404(Preview.objects.select_related("version", "requested_by"), pk=preview_id)


def preview_latest(*, version: DefinitionVersion) -> Preview | None:
    return Preview.objects.filter(version=version).select_related("requested_by").order_by("-created_at").first()


def preview_shows_leads(*, user: User) -> bool:
    """Only marketing (and admins) may see which pool leads a version would move, and exact figures."""
    return user.is_authenticated and not user.is_sales


def figure_for_sales(n: int | None) -> int | None:
    """A count of pool leads as sales may see it: rounded down to tens, None ("fewer
    than POOL_FIGURE_MIN_GROUP") below the minimum group, zero included, so that a
    draft whose rules match one person answers the same as one that matches nobody."""
    if n is None or n < settings.POOL_FIGURE_MIN_GROUP:
        return None
    return n // POOL_FIGURE_STEP * POOL_FIGURE_STEP


def pool_figures_rounding(*, user: User) -> dict | None:
    """How this user's pool figures are rounded (None: exact), for pages and API clients."""
    if preview_shows_leads(user=user):
        return None
    return {"step": POOL_FIGURE_STEP, "min_group": settings.POOL_FIGURE_MIN_GROUP}


def preview_data_for_user(*, preview: Preview, user: User) -> dict:
    """A preview's figures as this user may see them: marketing and admins everything,
    sales an allow-list of aggregates, every count rounded (figure_for_sales), no lead lists."""
    data = dict(preview.data or {})
    if preview_shows_leads(user=user):
        return data | {"figures_rounded": None}
    if not data:
        return {"figures_rounded": pool_figures_rounding(user=user)}
    pool = data.get("pool") or {}
    return {
        **{key: data[key] for key in PREVIEW_SALES_KEYS if key in data},
        "pool": {key: figure_for_sales(pool.get(key)) for key in PREVIEW_POOL_COUNTS},
        "distribution": _distribution_for_sales(data.get("distribution_sales")),
        "backtest": _backtest_for_sales(data.get("backtest")),
        "figures_rounded": pool_figures_rounding(user=user),
    }


def _distribution_for_sales(dist: dict | None) -> dict | None:
    """The preview's histogram on bins fixed by the threshold (scoring.preview._histogram_fixed),
    each bar rounded. Previews stored before it existed show sales no histogram."""
    if not dist:
        return None
    active = dist.get("active")
    return {
        "labels": list(dist.get("labels") or []),
        "proposed": [figure_for_sales(n) for n in dist.get("proposed") or []],
        "active": None if active is None else [figure_for_sales(n) for n in active],
    }


def _backtest_for_sales(backtest: dict | None) -> dict | None:
    """Closed-history rows: counts rounded, rates and medians only of groups of at least the minimum."""
    if not backtest:
        return backtest
    rows = []
    for row in backtest.get("rows") or []:
        big = figure_for_sales(row.get("count")) is not None
        won_big = figure_for_sales(row.get("won")) is not None
        shown: dict[str, Any] = {"key": row.get("key"), "label": row.get("label")}
        shown |= {key: figure_for_sales(row.get(key)) for key in BACKTEST_COUNTS}
        shown |= {key: row.get(key) if big else None for key in BACKTEST_RATES}
        shown["median_touches_won"] = row.get("median_touches_won") if won_big else None
        rows.append(shown)
    return {
        "leads": figure_for_sales(backtest.get("leads")),
        "closed": figure_for_sales(backtest.get("closed")),
        "rows": rows,
    }


def pool_rescore_latest() -> PoolRescore | None:
    """The newest whole-pool rescore: running, or how the last one ended."""
    return PoolRescore.objects.order_by("-started_at", "-id").first()


def pool_rescore_last_done() -> PoolRescore | None:
    """The last whole-pool rescore that completed (the newest may still run, or have failed)."""
    return PoolRescore.objects.filter(state=PoolRescore.State.DONE).order_by("-finished_at", "-id").first()


def pool_has_scores() -> bool:
    """Whether any lead has a stored score (scored on arrival or edit, without a whole-pool rescore)."""
    from leads.models import LeadScore

    return LeadScore.objects.exists()


def pool_rescore_counts(*, rescore: PoolRescore | None, user: User) -> dict | None:
    """The rescore's counts of pool leads (scores changed, leads promoted) as this user may see them."""
    if rescore is None:
        return None
    counts = {"changed": rescore.changed, "promoted": rescore.promoted}
    if preview_shows_leads(user=user):
        return counts | {"rounded": None}
    return {key: figure_for_sales(n) for key, n in counts.items()} | {"rounded": pool_figures_rounding(user=user)}


def fallback_version(*, active: DefinitionVersion) -> DefinitionVersion | None:
    """The last version that worked, while rescoring with `active` fails.

    The most recently active other version whose last whole-pool rescore finished
    and whose rescoring has not failed since: new leads are scored with it
    (scoring.scoring.dirty_leads_rescore) until the active version works again.
    """
    return (
        DefinitionVersion.objects.filter(
            state__in=(DefinitionVersion.State.ACTIVE, DefinitionVersion.State.RETIRED),
            scoring_ok_at__isnull=False,
            scoring_failed_at__isnull=True,
        )
        .exclude(pk=active.pk)
        .order_by(F("activated_at").desc(nulls_last=True), "-number")
        .first()
    )


def scoring_health() -> dict:
    """How scoring stands, for /healthz and the definition page.

    ok is false while rescoring with the active version fails (since its last
    whole-pool rescore finished); then `error` and `failed_at` say what and when,
    and `scoring_with` is the version new leads are scored with meanwhile (None:
    no version works, and new leads wait unscored).
    """
    active = DefinitionVersion.objects.filter(state=DefinitionVersion.State.ACTIVE).first()
    if active is None:
        return {"ok": True, "version": None}
    if active.scoring_failed_at is None:
        return {"ok": True, "version": active.number}
    fallback = fallback_version(active=active)
    return {
        "ok": False,
        "version": active.number,
        "error": active.scoring_error,
        "failed_at": active.scoring_failed_at,
        "scoring_with": fallback.number if fallback else None,
    }
