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
