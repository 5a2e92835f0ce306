"""Preview before sign-off: the pool against the active version, and a backtest on closed history."""

import datetime
import threading

import pytest
from django.db import connection
from django.urls import reverse

from leads.models import Status
from scoring import preview as preview_module
from scoring import services
from scoring.models import Preview
from scoring.preview import preview_build, preview_compute
from tests.factories import EngagementEventFactory, LeadFactory
from tests.scoring.definition_helpers import make_active, make_proposed

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)

# Active: software companies qualify. Proposed: big companies qualify instead.
ACTIVE_RULES = [{"id": "soft", "type": "fit", "field": "industry", "op": "equals", "value": "Software", "points": 60}]
PROPOSED_RULES = [{"id": "big", "type": "fit", "field": "company_size", "op": "gt", "value": 100, "points": 60}]


@pytest.fixture
def versions(cast):
    active = make_active(cast.marketer, cast.rep, rules=ACTIVE_RULES, threshold=50)
    proposed = make_proposed(cast.marketer, rules=PROPOSED_RULES, threshold=50)
    return active, proposed


@pytest.fixture
def pool(db):
    return {
        "both": LeadFactory(industry="Software", company_size=500, last_name="Both"),
        "newly": LeadFactory(industry="Retail", company_size=500, last_name="Newcomer", company="Big Retail"),
        "dropped": LeadFactory(industry="Software", company_size=10, last_name="Dropper", company="Tiny Soft"),
        "neither": LeadFactory(industry="Retail", company_size=10, last_name="Neither"),
    }


def closed(status, *, size, cycle_days, touches=0, promoted=True):
    created = NOW - 200 * DAY
    start = created + DAY if promoted else created
    return LeadFactory(
        status=status,
        company_size=size,
        created_at=created,
        promoted_at=start if promoted else None,
        closed_at=start + cycle_days * DAY,
        touch_count=touches,
    )


@pytest.fixture
def history(db):
    return [
        closed(Status.WON, size=500, cycle_days=10, touches=4),
        closed(Status.WON, size=300, cycle_days=20, touches=6),
        closed(Status.LOST, size=200, cycle_days=30, touches=9),
        closed(Status.LOST, size=5, cycle_days=5, promoted=False),
        closed(Status.WON, size=5, cycle_days=8, touches=2),
    ]


@pytest.mark.django_db
def test_the_pool_counts_and_lists_who_newly_qualifies_and_who_drops_out(versions, pool):
    _, proposed = versions
    data = preview_compute(version=proposed, now=NOW)
    assert data["pool"] == {
        "total": 4,
        "qualify_proposed": 2,
        "qualify_active": 2,
        "newly_qualify_count": 1,
        "drop_out_count": 1,
    }
    assert [(item["id"], item["score"], item["active_score"]) for item in data["newly_qualify"]] == [
        (pool["newly"].pk, 60, 0)
    ]
    assert data["newly_qualify"][0]["company"] == "Big Retail"
    assert [(item["id"], item["score"], item["active_score"]) for item in data["drop_out"]] == [
        (pool["dropped"].pk, 0, 60)
    ]
    assert (data["active_version"], data["version"]) == (1, 2)


@pytest.mark.django_db
def test_leads_outside_the_pool_are_never_in_the_lists(versions, leads):
    _, proposed = versions
    data = preview_compute(version=proposed, now=NOW)
    assert data["pool"]["total"] == 1  # only leads.pool is in nurture
    listed = {item["id"] for item in data["newly_qualify"] + data["drop_out"]}
    assert listed <= {leads.pool.pk}


@pytest.mark.django_db
def test_the_backtest_splits_closed_history_at_the_threshold(versions, history):
    _, proposed = versions
    rows = {row["key"]: row for row in preview_compute(version=proposed, now=NOW)["backtest"]["rows"]}
    above, below = rows["proposed-above"], rows["proposed-below"]
    assert (above["count"], above["won"], above["conversion_rate"]) == (3, 2, 0.6667)
    assert above["median_cycle_days"] == 20.0
    assert above["median_touches_won"] == 5
    assert (below["count"], below["won"], below["conversion_rate"]) == (2, 1, 0.5)
    assert below["median_cycle_days"] == 6.5  # the unpromoted one counts from creation
    assert below["median_touches_won"] == 2
    # The active version's split sits beside it: every closed lead is in Software (the factory's default).
    assert rows["active-above"]["count"] == 5


@pytest.mark.django_db
def test_a_closed_lead_is_scored_as_of_its_handover_not_today(cast):
    rules = [
        {"id": "demo", "type": "behaviour", "event_kind": "demo_request", "min_count": 1, "within_days": 7}
        | {"points": 60, "cap": None, "half_life_days": None}
    ]
    proposed = make_proposed(cast.marketer, rules=rules, threshold=50)
    won = closed(Status.WON, size=1, cycle_days=10)
    EngagementEventFactory(lead=won, kind="demo_request", occurred_at=won.promoted_at - 2 * DAY)
    rows = {row["key"]: row for row in preview_compute(version=proposed, now=NOW)["backtest"]["rows"]}
    assert rows["proposed-above"]["count"] == 1  # 200 days later the event is out of the window; at handover it is not


@pytest.mark.django_db
def test_without_an_active_version_everyone_who_qualifies_is_new(cast, pool):
    proposed = make_proposed(cast.marketer, rules=PROPOSED_RULES, threshold=50)
    data = preview_compute(version=proposed, now=NOW)
    assert data["active_version"] is None
    assert data["pool"]["newly_qualify_count"] == 2
    assert data["pool"]["drop_out_count"] == 0
    assert [row["key"] for row in data["backtest"]["rows"]] == ["proposed-above", "proposed-below"]


@pytest.mark.django_db
def test_progress_moves_through_pool_chunks_and_history(versions, pool, history, monkeypatch):
    monkeypatch.setattr(preview_module, "POOL_CHUNK", 1)  # four chunks for four pool leads
    _, proposed = versions
    seen = []
    preview_compute(version=proposed, now=NOW, on_progress=seen.append)
    assert seen == sorted(seen)
    assert seen[:4] == [15, 30, 45, 60]
    assert seen[-1] == 99


@pytest.mark.django_db
def test_a_preview_job_run_twice_does_the_work_once(versions, pool, cast):
    _, proposed = versions
    requested = services.preview_request(version=proposed, actor=cast.marketer, now=NOW)
    first = preview_build(preview_id=requested.pk, now=NOW)
    second = preview_build(preview_id=requested.pk, now=NOW + DAY)
    assert first.state == Preview.State.DONE and first.progress == 100
    assert second is None
    requested.refresh_from_db()
    assert requested.finished_at == NOW
    assert requested.data["pool"]["total"] == 4


@pytest.mark.django_db
def test_a_preview_another_worker_runs_is_not_claimed_again(versions, cast):
    _, proposed = versions
    requested = services.preview_request(version=proposed, actor=cast.marketer, now=NOW)
    Preview.objects.filter(pk=requested.pk).update(state=Preview.State.RUNNING)
    held, release = threading.Event(), threading.Event()

    def other_worker():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [Preview.lock_namespace, requested.pk])
            held.set()
            release.wait(10)
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [Preview.lock_namespace, requested.pk])
        connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        held.wait(10)
        assert preview_build(preview_id=requested.pk, now=NOW) is None
    finally:
        release.set()
        thread.join()
    assert Preview.objects.get(pk=requested.pk).data == {}


@pytest.mark.django_db
def test_a_preview_left_running_by_a_dead_worker_is_taken_over(versions, pool, cast):
    _, proposed = versions
    requested = services.preview_request(version=proposed, actor=cast.marketer, now=NOW)
    Preview.objects.filter(pk=requested.pk).update(state=Preview.State.RUNNING, attempts=1)  # nobody holds it
    result = preview_build(preview_id=requested.pk, now=NOW)
    assert (result.state, result.attempts) == (Preview.State.DONE, 2)


@pytest.mark.django_db
def test_a_failing_preview_says_why_instead_of_spinning(versions, cast, monkeypatch):
    _, proposed = versions
    requested = services.preview_request(version=proposed, actor=cast.marketer, now=NOW)

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(preview_module, "preview_compute", broken)
    # Retried by the job model: the third failed run is final.
    states = [preview_build(preview_id=requested.pk, now=NOW).state for _ in range(3)]
    assert states == [Preview.State.QUEUED, Preview.State.QUEUED, Preview.State.FAILED]
    result = Preview.objects.get(pk=requested.pk)
    assert "database went away" in result.error


@pytest.mark.django_db
def test_a_new_request_for_the_same_revision_reuses_the_pending_preview(versions, cast):
    _, proposed = versions
    first = services.preview_request(version=proposed, actor=cast.marketer, now=NOW)
    second = services.preview_request(version=proposed, actor=cast.rep, now=NOW)
    assert first.pk == second.pk
    services.definition_update(
        version=proposed, rules=proposed.rules, threshold=10, title="", revision=1, actor=cast.rep, now=NOW
    )
    proposed.refresh_from_db()
    assert services.preview_request(version=proposed, actor=cast.rep, now=NOW).pk != first.pk


@pytest.mark.django_db
def test_the_panel_polls_while_running_and_stops_when_done(client, versions, pool, cast):
    _, proposed = versions
    requested = services.preview_request(version=proposed, actor=cast.marketer, now=NOW)
    client.force_login(cast.manager)
    url = reverse("scoring:preview_status", args=[requested.pk])
    running = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in running and 'data-state="queued"' in running
    preview_build(preview_id=requested.pk, now=NOW)
    done = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done
    assert 'data-testid="qualify-proposed">fewer than 10<' in done  # rounded for sales (test_preview_privacy)
    assert 'id="chart-conversion-' in done  # Chart.js data for the conversion chart
    assert "Newcomer" not in done  # a manager gets the counts, never the pool leads


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_preview_is_computed_by_a_real_worker_and_shown_to_marketing(client, cast, celery_worker):
    make_active(cast.marketer, cast.rep, rules=ACTIVE_RULES, threshold=50)
    proposed = make_proposed(cast.marketer, rules=PROPOSED_RULES, threshold=50)
    LeadFactory(industry="Retail", company_size=900, first_name="Nina", last_name="Newcomer")
    closed(Status.WON, size=500, cycle_days=12, touches=3)

    client.force_login(cast.marketer)
    response = client.post(reverse("scoring:version_preview", args=[proposed.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    preview = Preview.objects.get()

    assert celery_worker.wait_for(lambda: Preview.objects.get(pk=preview.pk).state == Preview.State.DONE)
    html = client.get(reverse("scoring:version_detail", args=[proposed.pk])).content.decode()
    assert 'data-testid="newly-qualify-count">+1<' in html
    assert "Nina Newcomer" in html
    assert 'data-testid="backtest-proposed-above"' in html
    preview.refresh_from_db()
    assert preview.requested_by == cast.marketer
    assert preview.data["backtest"]["closed"] == 1


@pytest.mark.django_db
def test_a_failed_preview_offers_run_again_which_queues_a_new_one(client, versions, cast):
    _, proposed = versions
    requested = services.preview_request(version=proposed, actor=cast.marketer, now=NOW)
    Preview.objects.filter(pk=requested.pk).update(state=Preview.State.FAILED, attempts=3, error="RuntimeError: boom")
    client.force_login(cast.marketer)
    panel = client.get(reverse("scoring:preview_status", args=[requested.pk])).content.decode()
    assert "failed 3 times: RuntimeError: boom" in panel
    assert 'data-testid="preview-run-again"' in panel
    assert reverse("scoring:version_preview", args=[proposed.pk]) in panel

    client.post(reverse("scoring:version_preview", args=[proposed.pk]))
    latest = Preview.objects.filter(version=proposed).order_by("-pk").first()
    assert latest.pk != requested.pk and latest.state == Preview.State.QUEUED
