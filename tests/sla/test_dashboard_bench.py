"""bench.sla_dashboard's baseline statement computes the dashboard's figures (else the ratio means nothing)."""

import datetime

import pytest
import time_machine
from django.db import connection

from bench.sla_dashboard import BASELINE_SQL
from tests.sla.test_dashboard import NOW, URL, world  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def test_the_baseline_sql_gives_the_dashboards_figures(client, cast, world):  # noqa: F811
    client.force_login(cast.manager)
    with time_machine.travel(NOW, tick=False):
        data = client.get(URL).context["data"]
    params = {"teams": [cast.team.id], "now": NOW, "start": NOW - datetime.timedelta(days=30)}
    with connection.cursor() as cursor:
        cursor.execute(BASELINE_SQL, params)
        names = [c.name for c in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    overall = next(r for r in rows if r["level"] == 7)
    assert (overall["met"], overall["due"], overall["contacted"]) == (
        data.overall.compliance.met,
        data.overall.compliance.came_due,
        data.overall.contacted,
    )
    assert (overall["p50"], overall["p90"], overall["bp50"], overall["bp90"]) == pytest.approx(
        (data.overall.median_s, data.overall.p90_s, data.overall.median_business_s, data.overall.p90_business_s)
    )
    reps = {r["rep_id"]: r for r in rows if r["level"] == 5}
    for row in data.rep_rows:
        assert reps[row.rep.id]["p50"] == pytest.approx(row.figures.median_s)
