"""Credit to both sides: pipeline and won value per marketing source and campaign, and per closing rep.

Which leads: those that reached sales and are in sales now (not back in the nurture
pool: a recycled lead carries no pipeline, and its figures would be pool figures), that
entered the queue in the period (promoted, or created when never promoted), in the team
if one is chosen. Pipeline: the deal value of open leads; won: the deal value of won ones.

Marketing's credit: each marketing lead's *first* and *last* marketing interaction before
promotion. The interactions are the lead's own source and campaign (at its creation) and
every engagement event before its promotion whose properties carry `utm_source` or
`utm_campaign`; the earliest is the first touch, the latest the last (ties: the lead's own
first, then events in the order received). A lead with none is credited to "(unknown)";
a missing half of a pair to "(none)". Rep-sourced leads earn marketing no credit.

Sales' credit: the lead's owner (for won deals, the closing rep), split into marketing-
qualified and rep-sourced leads, so each side sees its contribution next to the other's.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import connection

from accounts.models import User
from leads.figures import QUEUED_AT_SQL

DIMENSIONS = ("first_source", "first_campaign", "last_source", "last_campaign")

# Parameters: start, end, team_id, team_id.
CREDIT_SQL = f"""
    WITH base AS (
      SELECT l.id, l.origin, l.status, l.deal_value, l.owner_id, l.created_at, l.promoted_at,
             nullif(l.source, '') AS source, nullif(l.campaign, '') AS campaign
      FROM leads_lead l
      WHERE l.status <> 'nurture' AND {QUEUED_AT_SQL} >= %s AND {QUEUED_AT_SQL} < %s
        AND (%s::bigint IS NULL OR l.team_id = %s)
    ),
    touches AS (
      SELECT b.id AS lead_id, b.created_at AS at, 0::bigint AS ord, b.source AS s, b.campaign AS c
      FROM base b WHERE b.origin = 'marketing' AND (b.source IS NOT NULL OR b.campaign IS NOT NULL)
      UNION ALL
      SELECT e.lead_id, e.occurred_at, e.id, nullif(e.properties->>'utm_source', ''),
             nullif(e.properties->>'utm_campaign', '')
      FROM leads_engagementevent e JOIN base b ON b.id = e.lead_id
      WHERE b.origin = 'marketing' AND e.occurred_at <= coalesce(b.promoted_at, 'infinity')
        AND (coalesce(e.properties->>'utm_source', '') <> '' OR coalesce(e.properties->>'utm_campaign', '') <> '')
    ),
    firsts AS (SELECT DISTINCT ON (lead_id) lead_id, s, c FROM touches ORDER BY lead_id, at, ord),
    lasts AS (SELECT DISTINCT ON (lead_id) lead_id, s, c FROM touches ORDER BY lead_id, at DESC, ord DESC),
    credited AS (
      SELECT b.*, b.status = 'won' AS won,
        b.status IN ('queued', 'assigned', 'contacted', 'working', 'opportunity') AS open,
        CASE WHEN b.origin <> 'marketing' THEN NULL WHEN f.lead_id IS NULL THEN '(unknown)'
             ELSE coalesce(f.s, '(none)') END AS first_source,
        CASE WHEN b.origin <> 'marketing' THEN NULL WHEN f.lead_id IS NULL THEN '(unknown)'
             ELSE coalesce(f.c, '(none)') END AS first_campaign,
        CASE WHEN b.origin <> 'marketing' THEN NULL WHEN la.lead_id IS NULL THEN '(unknown)'
             ELSE coalesce(la.s, '(none)') END AS last_source,
        CASE WHEN b.origin <> 'marketing' THEN NULL WHEN la.lead_id IS NULL THEN '(unknown)'
             ELSE coalesce(la.c, '(none)') END AS last_campaign
      FROM base b LEFT JOIN firsts f ON f.lead_id = b.id LEFT JOIN lasts la ON la.lead_id = b.id
    )
    SELECT GROUPING(first_source), GROUPING(first_campaign), GROUPING(last_source), GROUPING(last_campaign),
      GROUPING(owner_id, origin), first_source, first_campaign, last_source, last_campaign, owner_id, origin,
      count(*), count(*) FILTER (WHERE open), coalesce(sum(deal_value) FILTER (WHERE open), 0),
      count(*) FILTER (WHERE won), coalesce(sum(deal_value) FILTER (WHERE won), 0)
    FROM credited
    GROUP BY GROUPING SETS ((first_source), (first_campaign), (last_source), (last_campaign), (owner_id, origin), ())
"""  # noqa: S608 - the module's constant fragments; values are parameters


def _money(value: Decimal | None) -> str:
    return str((value or Decimal(0)).quantize(Decimal("0.01")))


def _figures(row) -> dict:
    leads, open_, pipeline, won, won_value = row
    return {"leads": leads, "open": open_, "pipeline": _money(pipeline), "won": won, "won_value": _money(won_value)}


def credit_compute(*, since: datetime.date, until: datetime.date, team_id: int | None, now: datetime.datetime) -> dict:
    """Every figure of the credit page, as stored in an Analysis snapshot's `data` (money as strings)."""
    start = datetime.datetime.combine(since, datetime.time(), tzinfo=datetime.UTC)
    end = datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time(), tzinfo=datetime.UTC)
    with connection.cursor() as cursor:
        cursor.execute(CREDIT_SQL, [start, end, team_id, team_id])
        rows = cursor.fetchall()
    marketing: dict[str, dict[str, dict]] = {d: {} for d in DIMENSIONS}
    sales: dict[int | None, dict] = {}
    total = None
    for row in rows:
        grouping, keys, figures = row[:5], row[5:11], _figures(row[11:])
        if all(grouping):
            total = figures
            continue
        for i, dim in enumerate(DIMENSIONS):
            if not grouping[i] and keys[i] is not None:  # NULL: a rep-sourced lead, no marketing credit
                marketing[dim][keys[i]] = figures
        if not grouping[4]:
            owner_id, origin = keys[4], keys[5]
            side = "marketing" if origin == "marketing" else "rep_sourced"
            sales.setdefault(owner_id, {})[side] = figures
    names = {u.pk: (u.username, u.get_full_name() or u.username) for u in User.objects.filter(pk__in=sales.keys())}
    empty = _figures((0, 0, None, 0, None))
    reps = []
    for owner_id, sides in sales.items():
        username, name = names.get(owner_id, ("", "(unassigned)"))
        reps.append(
            {
                "rep_id": owner_id,
                "username": username,
                "name": name,
                "marketing": sides.get("marketing", empty),
                "rep_sourced": sides.get("rep_sourced", empty),
            }
        )
    reps.sort(key=lambda r: (-Decimal(r["marketing"]["won_value"]) - Decimal(r["rep_sourced"]["won_value"]), r["name"]))
    for dim in DIMENSIONS:
        ordered = sorted(marketing[dim].items(), key=lambda kv: (-Decimal(kv[1]["won_value"]), kv[0]))
        marketing[dim] = dict(ordered)
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "team_id": team_id,
        "as_of": now.isoformat(),
        "marketing": marketing,
        "reps": reps,
        "total": total or empty,
    }
