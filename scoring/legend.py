"""A version's legend and a score's compact explanation (what leads.LeadScore stores).

The set-based path (scoring.sql) writes, per lead, the points of each fit then
behaviour rule (None where it did not fire) and each gate's verdict, in the
definition's order; the legend (leads.ScoreLegend) names those positions once per
version. `result_compact` gives the same two lists from the pure engine's result,
for the demo and tests.
"""

from __future__ import annotations

import datetime

from leads.models import LeadScore, ScoreLegend

from .engine import ScoreResult
from .rules import Definition


def legend_rules(definition: Definition) -> list:
    return [*definition.fit_rules, *definition.behaviour_rules]


def legend_values(definition: Definition) -> dict:
    """ScoreLegend's fields for a definition (threshold, gates, rules in scoring order)."""
    return {
        "threshold": definition.threshold,
        "gates": [{"id": gate.id, "label": gate.label} for gate in definition.gates],
        "rules": [{"id": rule.id, "label": rule.label, "type": rule.type} for rule in legend_rules(definition)],
    }


def legend_ensure(definition: Definition) -> None:
    """Store the version's legend once; an active version's rules never change.

    ON CONFLICT DO NOTHING (ignore_conflicts) takes no lock on an existing
    legend, so concurrent rescoring transactions never wait on each other here.
    """
    legend = ScoreLegend(version=definition.version, **legend_values(definition))
    ScoreLegend.objects.bulk_create([legend], ignore_conflicts=True)


def result_compact(result: ScoreResult, definition: Definition) -> tuple[list[int | None], list[bool]]:
    """(rule_points, gates_passed) of an engine result, aligned with the legend."""
    fired = {rule.id: rule.points for rule in result.rules}
    passed = {gate.id: gate.passed for gate in result.gates}
    return (
        [fired.get(rule.id) for rule in legend_rules(definition)],
        [passed[gate.id] for gate in definition.gates],
    )


def lead_score_from_result(
    result: ScoreResult, definition: Definition, *, at: datetime.datetime, lead_id: int | None = None
) -> LeadScore:
    """An unsaved LeadScore row for an engine result, as the set-based path would store it."""
    rule_points, gates_passed = result_compact(result, definition)
    return LeadScore(
        lead_id=lead_id,
        legend_id=definition.version,
        total=result.total,
        fit=result.fit,
        behaviour=result.behaviour,
        passes_gates=result.passes_gates,
        rule_points=rule_points,
        gates_passed=gates_passed,
        scored_at=at,
    )
