"""A whole-pool rescore shows its progress: a PoolRescore row advanced per chunk, on the definition page.

Activation rescores a million leads in seconds to a minute; the people who just
signed off watch it happen rather than wonder (scoring.scoring.pool_rescore_tracked,
templates/scoring/_pool_rescore.html).
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from scoring.models import PoolRescore
from scoring.scoring import pool_rescore, pool_rescore_tracked
from tests.factories import LeadFactory, TeamFactory
from tests.scoring.test_promotion import NOW, activate, qualifying_lead

pytestmark = pytest.mark.django_db


def test_progress_is_reported_after_each_chunk_and_ends_at_the_whole_pool():
    activate()
    leads = [LeadFactory() for _ in range(5)]
    reports = []

    pool_rescore(now=NOW, chunk_size=2, on_progress=lambda outcome, share: reports.append((outcome.changed, share)))

    shares = [share for _, share in reports]
    assert shares[0] == 0.0 and shares[-1] == 1.0 and shares == sorted(shares)
    assert len(reports) == 1 + 3  # the start, then chunks of 2, 2 and 1 lead ids
    assert reports[-1][0] == len(leads)


def test_a_tracked_run_records_version_counts_and_its_end():
    activate(number=3)
    TeamFactory(name="Fallback", is_fallback=True)
    qualifying_lead()
    LeadFactory()

    outcome = pool_rescore_tracked(now=NOW)

    run = PoolRescore.objects.get()
    assert (run.state, run.version, run.progress) == (PoolRescore.State.DONE, 3, 100)
    assert (run.changed, run.promoted) == (outcome.changed, len(outcome.promoted)) == (2, 1)
    assert run.started_at == NOW and run.finished_at is not None


def test_old_runs_are_pruned_when_a_new_one_starts():
    activate()
    PoolRescore.objects.create(started_at=NOW - datetime.timedelta(days=8), state=PoolRescore.State.DONE)
    kept = PoolRescore.objects.create(started_at=NOW - datetime.timedelta(days=1), state=PoolRescore.State.DONE)

    pool_rescore_tracked(now=NOW)

    assert set(PoolRescore.objects.values_list("started_at", flat=True)) == {kept.started_at, NOW}


def test_a_failed_run_is_retried_and_failed_with_its_error_after_three_runs(monkeypatch):
    activate()
    LeadFactory()

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("scoring.scoring._rescore_and_promote", broken)
    assert pool_rescore_tracked(now=NOW) is None
    run = PoolRescore.objects.get()
    assert (run.state, run.attempts, run.error) == (PoolRescore.State.QUEUED, 1, "disk full")
    assert pool_rescore_tracked(now=NOW, rescore_id=run.pk) is None
    assert pool_rescore_tracked(now=NOW, rescore_id=run.pk) is None

    run.refresh_from_db()
    assert (run.state, run.attempts, run.error) == (PoolRescore.State.FAILED, 3, "disk full")


def test_the_definition_page_polls_a_running_rescore_and_shows_how_the_last_ended(client, cast):
    activate(number=2)
    client.force_login(cast.manager)
    run = PoolRescore.objects.create(
        started_at=timezone.now(), state=PoolRescore.State.RUNNING, version=2, progress=40, changed=1200, promoted=7
    )

    page = client.get(reverse("scoring:definition")).content.decode()
    assert 'data-state="running"' in page and reverse("scoring:rescore_status") in page
    assert "40%" in page and "1,200+ scores changed" in page  # rounded for sales (test_preview_privacy)

    PoolRescore.objects.filter(pk=run.pk).update(
        state=PoolRescore.State.DONE, progress=100, finished_at=run.started_at + datetime.timedelta(seconds=12)
    )
    panel = client.get(reverse("scoring:rescore_status")).content.decode()
    assert 'data-state="done"' in panel and "hx-get" not in panel
    assert "with v2 in 12.0 s" in panel and "fewer than 10 leads promoted" in panel


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_pool_task_on_a_real_worker_leaves_a_finished_run(celery_worker):
    from scoring import tasks
    from tests.scoring.test_incremental import wait_for

    activate()
    LeadFactory(industry="Software")
    LeadFactory(industry="Retail")

    tasks.rescore_pool.delay()

    assert wait_for(lambda: PoolRescore.objects.filter(state=PoolRescore.State.DONE).exists())
    run = PoolRescore.objects.get()
    assert (run.version, run.progress, run.changed) == (1, 100, 2)


def test_a_waiting_or_failed_rescore_says_so_on_the_definition_page(client, cast):
    activate(number=2)
    client.force_login(cast.manager)
    run = PoolRescore.objects.create(started_at=timezone.now(), state=PoolRescore.State.QUEUED, error="disk full")
    panel = client.get(reverse("scoring:rescore_status")).content.decode()
    assert 'data-state="queued"' in panel and "hx-get" in panel and "disk full" in panel
    PoolRescore.objects.filter(pk=run.pk).update(state=PoolRescore.State.FAILED, attempts=3)
    panel = client.get(reverse("scoring:rescore_status")).content.decode()
    assert 'data-testid="pool-rescore-failed"' in panel and "failed after 3 runs (disk full)" in panel


def test_a_failed_pool_rescore_offers_run_again_which_queues_it_afresh(
    client, cast, django_capture_on_commit_callbacks
):
    failed = PoolRescore.objects.create(
        state=PoolRescore.State.FAILED, attempts=3, error="OperationalError: boom", started_at=NOW
    )
    client.force_login(cast.marketer)
    panel = client.get(reverse("scoring:rescore_status")).content.decode()
    assert 'data-testid="pool-rescore-run-again"' in panel
    assert reverse("scoring:rescore_run_again", args=[failed.pk]) in panel
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("scoring:rescore_run_again", args=[failed.pk]))
    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.state, failed.attempts, failed.error) == (PoolRescore.State.QUEUED, 0, "")
    assert len(callbacks) == 1  # its task is sent once the queueing commits
    # A second press while it waits queues nothing new.
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("scoring:rescore_run_again", args=[failed.pk]))
    assert PoolRescore.objects.count() == 1


def test_the_rescore_status_reflects_the_last_completed_rescore_not_only_the_newest_row(client, cast):
    activate(number=2)
    client.force_login(cast.marketer)
    # No rescore row, no score: nothing scored yet.
    panel = client.get(reverse("scoring:rescore_status")).content.decode()
    assert "The pool has not been scored yet." in panel
    # Leads scored on arrival, no whole-pool rescore ever: the page must not claim "not rescored" as if unscored.
    LeadFactory(score=55)
    panel = client.get(reverse("scoring:rescore_status")).content.decode()
    assert 'data-testid="pool-scored-on-arrival"' in panel and "not been scored" not in panel
    # A completed rescore, then a new one that failed: the failed one and when the pool was last rescored.
    done_at = timezone.now() - datetime.timedelta(hours=3)
    PoolRescore.objects.create(
        started_at=done_at - datetime.timedelta(seconds=5), finished_at=done_at, state=PoolRescore.State.DONE, version=2
    )
    PoolRescore.objects.create(started_at=timezone.now(), state=PoolRescore.State.FAILED, attempts=3, error="disk")
    panel = client.get(reverse("scoring:rescore_status")).content.decode()
    assert 'data-testid="pool-rescore-failed"' in panel
    assert "Last completed rescore: 3\xa0hours ago with v2." in panel
