"""Reads for the definition pages and API.

Definitions are not secret: every role that may use the definition pages sees every
version, its rules, approvals and thread. What sales must never see is the nurture
pool, which only appears here through previews (see preview_data_for_user).
"""

from __future__ import annotations

from django.db.models import F, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User

from .models import Approval, Comment, DefinitionVersion, PoolRescore, Preview

# Preview data keys that name individual pool leads: marketing only.
PREVIEW_LEAD_LIST_KEYS = ("newly_qualify", "drop_out")


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
    """Only marketing (and admins) may see which pool leads a version would move."""
    return user.is_authenticated and not user.is_sales


def preview_data_for_user(*, preview: Preview, user: User) -> dict:
    """A preview's figures as this user may see them: sales gets counts and aggregates only."""
    data = dict(preview.data or {})
    if not preview_shows_leads(user=user):
        for key in PREVIEW_LEAD_LIST_KEYS:
            data.pop(key, None)
    return data


def pool_rescore_latest() -> PoolRescore | None:
    """The newest whole-pool rescore: running, or how the last one ended."""
    return PoolRescore.objects.order_by("-started_at", "-id").first()


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
