"""Rescoring and promotion without PostgreSQL: the embedded demo database (SQLite).

Production and the test suite run on PostgreSQL, where scoring.sql rescores the
pool set-based in one statement. SQLite has none of that SQL, so there each
lead is evaluated by the pure engine (the reference the SQL path is tested
against) in chunks, and written back with bulk_update: fine for a demo pool of
a few thousand leads. Nothing here runs on PostgreSQL.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence

from django.db import transaction
from django.db.models import F, Q, QuerySet

from leadhandoff.db import has_set_based_sql
from leads.models import EngagementEvent, HistoryAction, Lead, LeadHistory, LeadScore, Status
from leads.routing import leads_route
from leads.services import history_row

from .engine import LeadFacts, evaluate
from .legend import lead_score_from_result, legend_ensure
from .rules import LEAD_FIELDS, Definition

CHUNK = 500
SCORE_FIELDS = ["legend", "total", "fit", "behaviour", "passes_gates", "rule_points", "gates_passed", "scored_at"]


def is_needed() -> bool:
    return not has_set_based_sql()


def _leads(lead_ids: Sequence[int] | None, id_range: tuple[int, int] | None) -> QuerySet[Lead]:
    qs = Lead.objects.order_by("id")
    if lead_ids is not None:
        qs = qs.filter(id__in=list(lead_ids))
    if id_range is not None:
        qs = qs.filter(id__gt=id_range[0], id__lte=id_range[1])
    return qs


def leads_rescore(
    *,
    definition: Definition,
    now: datetime.datetime,
    lead_ids: Sequence[int] | None = None,
    id_range: tuple[int, int] | None = None,
) -> int:
    """Same contract as scoring.scoring.leads_rescore: store changed scores, return how many changed."""
    legend_ensure(definition)
    fields = [name for name in LEAD_FIELDS if name != "email_domain"]
    changed = 0
    qs = _leads(lead_ids, id_range).select_related("scorecard").only("id", *fields, "scorecard")
    last_id = 0
    # Chunks by id (qs is in id order): each reads from where the last ended, no OFFSET.
    while chunk := list(qs.filter(id__gt=last_id)[:CHUNK]):
        last_id = chunk[-1].id
        events = defaultdict(list)
        for lead_id, kind, occurred_at in EngagementEvent.objects.filter(
            lead_id__in=[lead.id for lead in chunk]
        ).values_list("lead_id", "kind", "occurred_at"):
            events[lead_id].append((kind, occurred_at))
        dirty = []
        for lead in chunk:
            facts = LeadFacts(values={name: getattr(lead, name) for name in fields}, events=tuple(events[lead.id]))
            new = lead_score_from_result(evaluate(facts, definition, now), definition, at=now, lead_id=lead.id)
            if _same_score(lead.scorecard_or_none, new):
                continue
            dirty.append(new)
        LeadScore.objects.bulk_create(dirty, update_conflicts=True, unique_fields=["lead"], update_fields=SCORE_FIELDS)
        changed += len(dirty)
    return changed


def _same_score(stored: LeadScore | None, new: LeadScore) -> bool:
    """What changed_scores_select_sql compares: version, total, gate verdict, per-rule points."""
    if stored is None:
        return False
    compared = ("legend_id", "total", "passes_gates", "rule_points", "gates_passed")
    return all(getattr(stored, name) == getattr(new, name) for name in compared)


def leads_promote(
    *,
    definition: Definition,
    now: datetime.datetime,
    lead_ids: Sequence[int] | None = None,
    id_range: tuple[int, int] | None = None,
) -> list[int]:
    """Same contract as scoring.promotion.leads_promote (exactly once by the status predicate)."""
    candidates = (
        _leads(lead_ids, id_range)
        .filter(
            status=Status.NURTURE,
            scorecard__legend=definition.version,
            scorecard__passes_gates=True,
            scorecard__total__gte=definition.threshold,
        )
        .filter(Q(rejected_at__isnull=True) | Q(last_activity_at__gt=F("rejected_at")))
        .select_related("scorecard__legend")
        .only("id", "scorecard")
    )
    promoted, history = [], []
    with transaction.atomic():
        for lead in candidates:
            score, explanation = lead.scorecard.total, lead.scorecard.explanation()
            # Compare-and-set: a concurrent run that got here first changed the status.
            if not Lead.objects.filter(id=lead.id, status=Status.NURTURE).update(
                status=Status.QUEUED,
                promoted_at=now,
                promoted_version=definition.version,
                promotion_explanation=explanation,
            ):
                continue
            promoted.append(lead.id)
            history.append(
                history_row(
                    lead_id=lead.id,
                    action=HistoryAction.PROMOTED,
                    at=now,
                    field="status",
                    old=Status.NURTURE,
                    new=Status.QUEUED,
                    note=(
                        f"Score {score} reached the threshold {definition.threshold}"
                        f" of definition v{definition.version}"
                    ),
                    data={
                        "version": definition.version,
                        "score": score,
                        "threshold": definition.threshold,
                        "explanation": explanation,
                    },
                )
            )
        LeadHistory.objects.bulk_create(history)
        if promoted:
            leads_route(lead_ids=promoted, now=now)
    return promoted


def dirty_leads_claim(*, limit: int) -> list[int]:
    """Flagged leads, flag cleared; SQLite serialises writers, so no row locks are needed."""
    ids = list(Lead.objects.filter(needs_rescore=True).order_by("id").values_list("id", flat=True)[:limit])
    Lead.objects.filter(id__in=ids).update(needs_rescore=False)
    return ids


def lead_verdicts(
    *, definition: Definition, now: datetime.datetime, lead_ids: Sequence[int]
) -> dict[int, tuple[int, bool]]:
    """Per lead: (total, qualifies) by the pure engine — the preview's pool scan and backtest on SQLite."""
    fields = [name for name in LEAD_FIELDS if name != "email_domain"]
    events = defaultdict(list)
    for lead_id, kind, occurred_at in EngagementEvent.objects.filter(lead_id__in=list(lead_ids)).values_list(
        "lead_id", "kind", "occurred_at"
    ):
        events[lead_id].append((kind, occurred_at))
    verdicts = {}
    for lead in Lead.objects.filter(id__in=list(lead_ids)).only("id", *fields):
        facts = LeadFacts(values={name: getattr(lead, name) for name in fields}, events=tuple(events[lead.id]))
        result = evaluate(facts, definition, now)
        verdicts[lead.id] = (result.total, result.qualifies)
    return verdicts
