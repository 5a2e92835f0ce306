"""A stored score's explanation, rendered from its compact form: in Python and in SQL.

LeadScore keeps, per lead, the points of each rule of the version (null where the
rule did not fire) and the verdict of each gate, aligned with the version's
ScoreLegend. Both renderings below give scoring.engine.ScoreResult.explanation's
shape, so templates, the API and the lead brief read one format:

    {"version", "total", "fit", "behaviour", "threshold", "passes_gates", "qualifies",
     "gates": [{"id", "label", "passed"}], "rules": [{"id", "label", "type", "points"}]}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def explanation_render(
    *,
    version: int,
    threshold: int,
    legend_gates: Sequence[dict[str, Any]],
    legend_rules: Sequence[dict[str, Any]],
    total: int,
    fit: int,
    behaviour: int,
    passes_gates: bool,
    gates_passed: Sequence[bool],
    rule_points: Sequence[int | None],
) -> dict:
    return {
        "version": version,
        "total": total,
        "fit": fit,
        "behaviour": behaviour,
        "threshold": threshold,
        "passes_gates": passes_gates,
        "qualifies": bool(passes_gates and total >= threshold),
        "gates": [{**gate, "passed": bool(passed)} for gate, passed in zip(legend_gates, gates_passed, strict=True)],
        "rules": [
            {**rule, "points": points}
            for rule, points in zip(legend_rules, rule_points, strict=True)
            if points is not None
        ],
    }


# The same rendering as one SQL expression over a leads_leadscore row aliased `s`
# joined to its leads_scorelegend row aliased `g` (leads.pool.services stamps promoted
# leads with it). jsonb's key order is its own, so the result equals the Python dict.
EXPLANATION_SQL = (
    "jsonb_build_object("
    "'version', s.version, 'total', s.total, 'fit', s.fit, 'behaviour', s.behaviour,"
    " 'threshold', g.threshold, 'passes_gates', s.passes_gates,"
    " 'qualifies', s.passes_gates AND s.total >= g.threshold,"
    " 'gates', (SELECT coalesce(jsonb_agg(x.value || jsonb_build_object('passed', s.gates_passed -> (x.n - 1)::int)"
    " ORDER BY x.n), '[]'::jsonb) FROM jsonb_array_elements(g.gates) WITH ORDINALITY AS x(value, n)),"
    " 'rules', (SELECT coalesce(jsonb_agg(x.value || jsonb_build_object('points', s.rule_points -> (x.n - 1)::int)"
    " ORDER BY x.n) FILTER (WHERE jsonb_typeof(s.rule_points -> (x.n - 1)::int) = 'number'), '[]'::jsonb)"
    " FROM jsonb_array_elements(g.rules) WITH ORDINALITY AS x(value, n)))"
)


def score_change_reasons(*, at_promotion: dict, current: dict) -> list[str]:
    """Why a lead's current score differs from its score at promotion, in words, for the brief.

    Both arguments are explanations in the shape above. Empty when the totals agree
    or either is missing. Names the definition change, then each rule whose points moved.
    """
    if not at_promotion or not current or at_promotion.get("total") == current.get("total"):
        return []
    reasons = []
    old_version, new_version = at_promotion.get("version"), current.get("version")
    redefined = bool(old_version and new_version and old_version != new_version)
    if redefined:
        reasons.append(f"The definition changed since the promotion: v{old_version} then, v{new_version} now.")
    old_points = {rule.get("id"): rule for rule in at_promotion.get("rules") or []}
    new_points = {rule.get("id"): rule for rule in current.get("rules") or []}
    for rule_id in [*new_points, *(key for key in old_points if key not in new_points)]:
        before = (old_points.get(rule_id) or {}).get("points") or 0
        now = (new_points.get(rule_id) or {}).get("points") or 0
        if before != now:
            rule = new_points.get(rule_id) or old_points[rule_id]
            label = rule.get("label") or rule_id
            reasons.append(f"{label}: {before:+d} then, {now:+d} now.")
    if len(reasons) == int(redefined):
        reasons.append("Its engagement or profile changed since the promotion.")
    return reasons
