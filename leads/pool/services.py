"""Writes on the nurture pool. Promotion: qualifying leads leave the pool for the sales queue, once.

Every change of a lead's status lives in leads; scoring only writes scores and
calls this with the active version's number and threshold as plain values.
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

from leads import history
from leads.models import Status
from leads.routing.services import leads_route
from leads.scores import EXPLANATION_SQL


def leads_promote(
    *,
    version: int,
    threshold: int,
    now: datetime.datetime,
    lead_ids: Sequence[int] | None = None,
    id_range: tuple[int, int] | None = None,
) -> list[int]:
    """Promote qualifying nurture leads (all, among `lead_ids`, or low < id <= high); return their ids.

    Each promoted lead is stamped with the version number, its score and explanation
    (promotion_explanation), gets a PROMOTED history row, and is handed to routing
    (leads.routing.services.leads_route) in the same transaction; until routing assigns it,
    it waits in its team's unassigned queue.
    """
    only = list(lead_ids) if lead_ids is not None else None
    low, high = id_range if id_range is not None else (None, None)
    row = history.promoted_sql(version=version, threshold=threshold, score="score", explanation="explanation")
    # EXPLANATION_SQL and the history row's expressions are fixed text; every value is a param.
    sql = (
        "WITH promoted AS ("  # noqa: S608
        " UPDATE leads_lead AS l SET status = %(queued)s, promoted_at = %(now)s, promoted_version = %(version)s,"
        f" promotion_explanation = {EXPLANATION_SQL}"
        " FROM leads_leadscore AS s JOIN leads_scorelegend AS g ON g.version = s.version"
        " WHERE s.lead_id = l.id AND l.status = %(nurture)s AND s.version = %(version)s AND s.passes_gates"
        " AND s.total >= %(threshold)s"
        " AND (l.rejected_at IS NULL OR l.last_activity_at > l.rejected_at)"
        # NULL (all leads) folds to true at planning time. The restriction is spelt
        # out on both tables: the planner does not carry ranges across the join.
        " AND (%(only)s::bigint[] IS NULL OR (l.id = ANY(%(only)s::bigint[]) AND s.lead_id = ANY(%(only)s::bigint[])))"
        " AND (%(low)s::bigint IS NULL OR (l.id > %(low)s AND l.id <= %(high)s"
        " AND s.lead_id > %(low)s AND s.lead_id <= %(high)s))"
        " RETURNING l.id, s.total AS score, l.promotion_explanation AS explanation"
        "), history AS ("
        f" INSERT INTO leads_leadhistory (lead_id, actor_id, {row.COLUMNS}, created_at)"
        f" SELECT id, NULL, {row.select}, %(now)s FROM promoted"
        ") SELECT id FROM promoted"
    )
    params = {
        "queued": Status.QUEUED,
        "nurture": Status.NURTURE,
        "now": now,
        "version": version,
        "threshold": threshold,
        "only": only,
        "low": low,
        "high": high,
        **row.params,
    }
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            promoted = sorted(row[0] for row in cursor.fetchall())
        if promoted:
            leads_route(lead_ids=promoted, now=now)
    return promoted
