"""A stored score's compact explanation renders the same in Python and in SQL.

LeadScore.explanation() (pages, API) and leads.scores.EXPLANATION_SQL (the stamp
promotion writes) must agree on every shape: rules that did not fire, rules
worth 0 or negative points, failed gates, a version with no gates or no rules.
"""

import json

import pytest
from django.db import connection
from django.utils import timezone

from leads.models import LeadScore, ScoreLegend
from leads.scores import EXPLANATION_SQL
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

RULES = [
    {"id": "fit-sw", "label": "Software", "type": "fit"},
    {"id": "fit-intern", "label": "Intern", "type": "fit"},
    {"id": "beh-demo", "label": "Demo", "type": "behaviour"},
    {"id": "beh-visits", "label": "Visits", "type": "behaviour"},
]
GATES = [{"id": "gate-country", "label": "Served country"}, {"id": "gate-company", "label": "Company known"}]


def _sql_render(lead_id: int) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {EXPLANATION_SQL} FROM leads_leadscore s JOIN leads_scorelegend g ON g.version = s.version"  # noqa: S608
            " WHERE s.lead_id = %s",
            [lead_id],
        )
        value = cursor.fetchone()[0]
    return value if isinstance(value, dict) else json.loads(value)


@pytest.mark.parametrize(
    ("gates", "rules", "gates_passed", "rule_points", "total", "threshold"),
    [
        (GATES, RULES, [True, True], [20, None, 40, None], 60, 50),
        (GATES, RULES, [True, False], [None, -30, 0, 3], -27, 10),
        ([], RULES, [], [None, None, None, None], 0, 0),
        (GATES, [], [False, False], [], 0, 5),
        ([], [], [], [], 0, 0),
    ],
)
def test_python_and_sql_render_the_same_explanation(gates, rules, gates_passed, rule_points, total, threshold):
    legend = ScoreLegend.objects.create(version=7, threshold=threshold, gates=gates, rules=rules)
    lead = LeadFactory()
    fit = sum(p or 0 for p, r in zip(rule_points, rules, strict=True) if r["type"] == "fit")
    card = LeadScore.objects.create(
        lead=lead,
        legend=legend,
        total=total,
        fit=fit,
        behaviour=total - fit,
        passes_gates=all(gates_passed),
        rule_points=rule_points,
        gates_passed=gates_passed,
        scored_at=timezone.now(),
    )

    rendered = LeadScore.objects.select_related("legend").get(pk=card.pk).explanation()

    assert rendered == _sql_render(lead.id)
    assert [r["id"] for r in rendered["rules"]] == [
        r["id"] for r, p in zip(rules, rule_points, strict=True) if p is not None
    ]
    assert [g["passed"] for g in rendered["gates"]] == gates_passed
    assert rendered["qualifies"] == (all(gates_passed) and total >= threshold)


def test_a_version_number_that_scores_were_stored_under_is_never_given_again(cast):
    from scoring.legend import legend_ensure
    from scoring.scoring import definition_for_version
    from tests.scoring.definition_helpers import make_draft

    first = make_draft(cast.marketer)
    legend_ensure(definition_for_version(first))  # scored with it once
    first.delete()  # an admin removes the version; its scores and legend stay

    again = make_draft(cast.marketer)

    assert again.number == first.number + 1
