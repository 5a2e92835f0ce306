"""Rejections that argue the next definition: for a definition version, the leads it promoted that
sales rejected, by reason, and for each rule the share of rejected leads it fired on against its
share among the accepted ones.

Which leads: every promotion by the version (a `promoted` history row stamped with it; its
explanation lists the rules that fired). A promotion is *rejected* when the lead was rejected
back to marketing after it and before the lead's next promotion (the reason of that rejection);
otherwise *accepted* (still with sales, won or lost). A rule that fires far more often among the
rejected than among the accepted is the one to tighten. One set-based statement over the
history table (its (action, created_at) index picks the promotions).

Rejected leads are back in the nurture pool, so what sales (reps, managers) see of them goes
through scoring.selectors.figure_for_sales: counts rounded down to tens and nothing below the
minimum group, shares only between figures that are shown. Marketing and admins see exact figures.
"""

from __future__ import annotations

from django.db import connection

from accounts.models import User

from .selectors import figure_for_sales

# Parameters: version (text), version (text).
REJECTIONS_SQL = """
    WITH allp AS (
      SELECT h.id, h.lead_id, h.created_at, h.data,
        lead(h.created_at) OVER (PARTITION BY h.lead_id ORDER BY h.created_at, h.id) AS next_at
      FROM leads_leadhistory h
      WHERE h.action = 'promoted' AND h.lead_id IN (
        SELECT lead_id FROM leads_leadhistory WHERE action = 'promoted' AND data->>'version' = %s
      )
    ),
    j AS (
      SELECT p.id, p.data->'explanation'->'rules' AS rules, r.reason
      FROM allp p LEFT JOIN LATERAL (
        SELECT coalesce(nullif(h.data->>'reason', ''), 'other') AS reason FROM leads_leadhistory h
        WHERE h.lead_id = p.lead_id AND h.action = 'rejected' AND h.created_at >= p.created_at
          AND (p.next_at IS NULL OR h.created_at < p.next_at)
        ORDER BY h.created_at, h.id LIMIT 1
      ) r ON true
      WHERE p.data->>'version' = %s
    )
    SELECT 'total', NULL, NULL, count(*) FILTER (WHERE reason IS NOT NULL), count(*) FILTER (WHERE reason IS NULL)
    FROM j
    UNION ALL
    SELECT 'reason', reason, NULL, count(*), 0 FROM j WHERE reason IS NOT NULL GROUP BY reason
    UNION ALL
    SELECT 'rule', e->>'id', max(e->>'label'), count(*) FILTER (WHERE j.reason IS NOT NULL),
      count(*) FILTER (WHERE j.reason IS NULL)
    FROM j CROSS JOIN LATERAL jsonb_array_elements(
      CASE WHEN jsonb_typeof(j.rules) = 'array' THEN j.rules ELSE '[]'::jsonb END) e
    GROUP BY e->>'id'
"""


def rejections_compute(*, version: int) -> dict:
    """Exact figures: rejected and accepted promotions, rejections by reason, fire shares per rule."""
    with connection.cursor() as cursor:
        cursor.execute(REJECTIONS_SQL, [str(version), str(version)])
        rows = cursor.fetchall()
    rejected = accepted = 0
    reasons, rules = {}, []
    for kind, key, label, n_rejected, n_accepted in rows:
        if kind == "total":
            rejected, accepted = n_rejected, n_accepted
        elif kind == "reason":
            reasons[key] = n_rejected
        else:
            rules.append({"id": key, "label": label, "rejected": n_rejected, "accepted": n_accepted})
    for rule in rules:
        rule["rejected_share"] = rule["rejected"] / rejected if rejected else None
        rule["accepted_share"] = rule["accepted"] / accepted if accepted else None
    # The rules most over-represented among rejections first.
    rules.sort(key=lambda r: (-((r["rejected_share"] or 0) - (r["accepted_share"] or 0)), r["label"] or ""))
    return {
        "version": version,
        "rejected": rejected,
        "accepted": accepted,
        "by_reason": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        "rules": rules,
        "rounded": False,
    }


def rejections_for_user(*, version: int, user: User) -> dict:
    """The figures as this user may see them: exact for marketing and admins, rounded for sales."""
    data = rejections_compute(version=version)
    if not user.is_sales:
        return data
    rejected = figure_for_sales(data["rejected"])
    rules = []
    for rule in data["rules"]:
        n = figure_for_sales(rule["rejected"])
        share = n / rejected if n is not None and rejected else None
        rules.append(rule | {"rejected": n, "rejected_share": share})
    return data | {
        "rejected": rejected,
        "by_reason": {k: figure_for_sales(v) for k, v in data["by_reason"].items()},
        "rules": rules,
        "rounded": True,
    }
