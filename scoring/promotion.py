"""Promotion: qualifying leads leave the nurture pool for the sales queue, once.

One UPDATE ... WHERE status = 'nurture' RETURNING id moves every lead that
qualifies on its stored score (leads.LeadScore, which scoring.scoring.leads_rescore
wrote in the same transaction). The status predicate makes promotion exactly-once: a retried job
finds the lead already queued, and of two concurrent jobs the second waits for the
first's row lock, re-checks the predicate and skips the row. A lead a rep rejected
back to the pool (rejected_at set) qualifies again only after newer activity.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db import connection, transaction

from leads.models import HistoryAction, Status
from leads.routing import leads_route
from leads.scores import EXPLANATION_SQL

from .rules import Definition


def leads_promote(
    *,
    definition: Definition,
    now: datetime.datetime,
    lead_ids: Sequence[int] | None = None,
    id_range: tuple[int, int] | None = None,
) -> list[int]:
    """Promote qualifying nurture leads (all, among `lead_ids`, or low < id <= high); return their ids.

    Each promoted lead is stamped with the version, its score and explanation
    (promotion_explanation), gets a PROMOTED history row, and is handed to routing
    (leads.routing.leads_route) in the same transaction; until routing assigns it,
    it waits in its team's unassigned queue.
    """
    only = list(lead_ids) if lead_ids is not None else None
    low, high = id_range if id_range is not None else (None, None)
    # EXPLANATION_SQL is fixed text; every value is a param.
    sql = (
        "WITH promoted AS ("  # noqa: S608
        " UPDATE leads_lead AS l SET status = %s, promoted_at = %s, promoted_version = %s,"
        f" promotion_explanation = {EXPLANATION_SQL}"
        " FROM leads_leadscore AS s JOIN leads_scorelegend AS g ON g.version = s.version"
        " WHERE s.lead_id = l.id AND l.status = %s AND s.version = %s AND s.passes_gates AND s.total >= %s"
        " AND (l.rejected_at IS NULL OR l.last_activity_at > l.rejected_at)"
        # NULL (all leads) folds to true at planning time. The restriction is spelt
        # out on both tables: the planner does not carry ranges across the join.
        " AND (%s::bigint[] IS NULL OR (l.id = ANY(%s::bigint[]) AND s.lead_id = ANY(%s::bigint[])))"
        " AND (%s::bigint IS NULL OR (l.id > %s AND l.id <= %s AND s.lead_id > %s AND s.lead_id <= %s))"
        " RETURNING l.id, s.total AS score, l.promotion_explanation AS explanation"
        "), history AS ("
        " INSERT INTO leads_leadhistory"
        " (lead_id, actor_id, action, field, old_value, new_value, note, data, created_at)"
        " SELECT id, NULL, %s, 'status', %s, %s,"
        " 'Score ' || score || ' reached the threshold ' || %s || ' of definition v' || %s,"
        " jsonb_build_object('version', %s::int, 'score', score, 'threshold', %s::int,"
        " 'explanation', explanation), %s"
        " FROM promoted"
        ") SELECT id FROM promoted"
    )
    params = [
        Status.QUEUED,
        now,
        definition.version,
        Status.NURTURE,
        definition.version,
        definition.threshold,
        only,
        only,
        only,
        low,
        low,
        high,
        low,
        high,
        HistoryAction.PROMOTED,
        Status.NURTURE,
        Status.QUEUED,
        str(definition.threshold),
        str(definition.version),
        definition.version,
        definition.threshold,
        now,
    ]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            promoted = sorted(row[0] for row in cursor.fetchall())
        if promoted:
            leads_route(lead_ids=promoted, now=now)
    return promoted
