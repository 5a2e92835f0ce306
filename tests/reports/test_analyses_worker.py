"""An analysis asked for in the browser is built by a real Celery worker through Redis, once."""

import pytest
from django.urls import reverse

from reports.analyses.credit import credit_compute
from reports.models import Analysis
from tests.reports import test_credit

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_credit_snapshot_is_built_by_a_real_worker(client, cast, celery_worker):
    test_credit._random_history(cast, 21)
    client.force_login(cast.marketer)
    response = client.post(
        reverse("reports:analysis_build", args=["credit"]), {"since": "2026-05-01", "until": "2026-06-30"}
    )
    analysis = Analysis.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "reports:analysis_detail", args=[analysis.pk]
    )
    assert celery_worker.wait_for(lambda: Analysis.objects.get(pk=analysis.pk).state == Analysis.State.DONE)
    analysis.refresh_from_db()
    expected = credit_compute(
        since=analysis.period_start, until=analysis.period_end, team_id=None, now=analysis.finished_at
    )
    skip = {"as_of", "build_seconds"}
    assert {k: v for k, v in analysis.data.items() if k not in skip} == {
        k: v for k, v in expected.items() if k not in skip
    }
    assert analysis.attempts == 1
