"""Incremental rescoring: an event reaches the sales queue through a real Celery worker.

The end-to-end tests run a worker subprocess on Redis against this test database
and post events through the API; the lead must leave the nurture pool within
seconds. The rest test the claiming, batching and coalescing directly.
"""

import datetime
import json
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from django.db import connection, transaction
from django.utils import timezone

from leads.models import HistoryAction, Lead, LeadHistory, Status
from leads.signals import lead_activity
from scoring import receivers, tasks
from scoring.models import DefinitionVersion
from scoring.scoring import dirty_leads_claim
from tests.factories import ActiveDefinitionFactory, EngagementEventFactory, LeadFactory, TeamFactory

EVENTS_URL = "/api/v1/events/"
RULES = [
    {"id": "sw", "type": "fit", "label": "Software", "field": "industry", "op": "equals", "value": "Software",
     "points": 20},
    {"id": "demo", "type": "behaviour", "label": "Asked for a demo", "event_kind": "demo_request", "within_days": 30,
     "points": 50},
]  # fmt: skip


def activate(*, threshold=60) -> DefinitionVersion:
    return ActiveDefinitionFactory(rules=RULES, threshold=threshold)


def broker(settings) -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def wait_for(condition, timeout=30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def scoring_worker(settings, celery_worker):
    """The real worker, with the rescoring coalesce key of an earlier run cleared."""
    client = broker(settings)
    client.delete(receivers.COALESCE_KEY)
    yield celery_worker
    client.delete(receivers.COALESCE_KEY)


def status_of(lead_id: int) -> str:
    return Lead.objects.values_list("status", flat=True).get(id=lead_id)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_event_posted_through_the_api_puts_the_lead_in_the_sales_queue(cast, api, scoring_worker):
    activate()
    TeamFactory(name="Fallback", is_fallback=True)
    lead = LeadFactory(email="buyer@acme.com", industry="Software")
    occurred_at = timezone.now() - datetime.timedelta(minutes=5)

    response = api.as_user(cast.marketer).post(
        EVENTS_URL, {"kind": "demo_request", "email": "Buyer@acme.com", "occurred_at": occurred_at.isoformat()},
        format="json",
    )  # fmt: skip

    assert response.status_code == 201, response.content
    assert wait_for(lambda: status_of(lead.id) != Status.NURTURE), "the worker never promoted the lead"
    lead.refresh_from_db()
    assert lead.status in (Status.QUEUED, Status.ASSIGNED)
    assert (lead.score, lead.promoted_version, lead.needs_rescore) == (70, 1, False)
    assert lead.promotion_explanation["rules"] == [
        {"id": "sw", "label": "Software", "type": "fit", "points": 20},
        {"id": "demo", "label": "Asked for a demo", "type": "behaviour", "points": 50},
    ]
    assert LeadHistory.objects.filter(lead=lead, action=HistoryAction.PROMOTED).count() == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_flood_of_events_is_rescored_in_a_few_coalesced_tasks(cast, api, scoring_worker):
    activate()
    leads = [LeadFactory(industry="Software") for _ in range(40)]
    now = timezone.now()
    for lead in leads:
        api.as_user(cast.marketer).post(
            EVENTS_URL,
            [{"kind": "page_view", "email": lead.email, "occurred_at": now.isoformat()},
             {"kind": "demo_request", "email": lead.email, "occurred_at": now.isoformat()}],
            format="json",
        )  # fmt: skip

    ids = [lead.id for lead in leads]
    assert wait_for(lambda: not Lead.objects.filter(id__in=ids, status=Status.NURTURE).exists())
    assert not Lead.objects.filter(id__in=ids, needs_rescore=True).exists()
    assert LeadHistory.objects.filter(lead_id__in=ids, action=HistoryAction.PROMOTED).count() == 40


@pytest.fixture
def empty_queue(settings) -> Iterator[redis.Redis]:
    """The broker's queue and the coalescing key, empty before and after the test."""
    client = broker(settings)
    client.delete("celery", receivers.COALESCE_KEY)
    yield client
    client.delete("celery", receivers.COALESCE_KEY)


def queued_task_names(client: redis.Redis) -> list[str]:
    return [json.loads(message)["headers"]["task"] for message in client.lrange("celery", 0, -1)]


@pytest.mark.django_db
def test_signals_within_the_coalescing_window_schedule_one_task(
    monkeypatch, empty_queue, django_capture_on_commit_callbacks
):
    # The test sets the window: a long one here, so that neither a cold broker
    # connection nor a slow machine can outlast it while the signals are sent.
    monkeypatch.setattr(receivers, "COALESCE_SECONDS", 30)
    lead = LeadFactory()

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(50):
            lead_activity.send(sender=Lead, lead_ids=[lead.id])

    assert queued_task_names(empty_queue) == ["scoring.tasks.rescore_dirty_leads"]
    assert 0 < empty_queue.pttl(receivers.COALESCE_KEY) <= 30_000  # the key lasts one window, then expires
    with django_capture_on_commit_callbacks(execute=True):
        lead_activity.send(sender=Lead, lead_ids=[lead.id])
    assert empty_queue.llen("celery") == 1  # still inside the window


@pytest.mark.django_db
def test_the_first_signal_after_the_coalescing_window_schedules_again(
    monkeypatch, empty_queue, django_capture_on_commit_callbacks
):
    # A short window, and one signal at a time: only its expiry is awaited, so
    # the test holds however slowly the broker answers.
    monkeypatch.setattr(receivers, "COALESCE_SECONDS", 0.2)
    lead = LeadFactory()

    with django_capture_on_commit_callbacks(execute=True):
        lead_activity.send(sender=Lead, lead_ids=[lead.id])
    assert empty_queue.llen("celery") == 1
    assert wait_for(lambda: not empty_queue.exists(receivers.COALESCE_KEY), timeout=5)
    with django_capture_on_commit_callbacks(execute=True):
        lead_activity.send(sender=Lead, lead_ids=[lead.id])

    assert queued_task_names(empty_queue) == ["scoring.tasks.rescore_dirty_leads"] * 2


@pytest.mark.django_db
def test_an_empty_signal_schedules_nothing(empty_queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lead_activity.send(sender=Lead, lead_ids=[])
    assert empty_queue.llen("celery") == 0
    assert not empty_queue.exists(receivers.COALESCE_KEY)


@pytest.mark.django_db
def test_dirty_leads_are_rescored_in_batches_and_unflagged(monkeypatch):
    activate()
    monkeypatch.setattr(tasks, "DIRTY_BATCH_SIZE", 3)
    qualifying = [LeadFactory(industry="Software", needs_rescore=True) for _ in range(5)]
    for lead in qualifying:
        EngagementEventFactory(lead=lead, kind="demo_request", occurred_at=timezone.now())
    quiet = [LeadFactory(industry="Retail", needs_rescore=True) for _ in range(3)]
    untouched = LeadFactory(industry="Software")  # not flagged: left alone

    result = tasks.rescore_dirty_leads()

    assert result == {"changed": 8, "promoted": 5}
    assert not Lead.objects.filter(needs_rescore=True).exists()
    assert set(Lead.objects.filter(status=Status.NURTURE).values_list("id", flat=True)) == {
        *(lead.id for lead in quiet),
        untouched.id,
    }
    untouched.refresh_from_db()
    assert untouched.score is None
    assert tasks.rescore_dirty_leads() == {"changed": 0, "promoted": 0}


@pytest.mark.django_db
def test_rescoring_without_an_active_version_leaves_flags_for_later():
    lead = LeadFactory(needs_rescore=True)
    assert tasks.rescore_dirty_leads() == {"changed": 0, "promoted": 0}
    assert tasks.rescore_pool() == {"version": None, "changed": 0, "promoted": 0}
    lead.refresh_from_db()
    assert (lead.score, lead.needs_rescore) == (None, True)


@pytest.mark.django_db
def test_the_pool_task_rescores_everyone_and_is_safe_to_run_twice():
    activate()
    promoted = LeadFactory(industry="Software")
    EngagementEventFactory(lead=promoted, kind="demo_request", occurred_at=timezone.now())
    LeadFactory(industry="Retail")

    assert tasks.rescore_pool() == {"version": 1, "changed": 2, "promoted": 1}
    assert tasks.rescore_pool() == {"version": 1, "changed": 0, "promoted": 0}


@pytest.mark.django_db(transaction=True)
def test_two_claimers_take_disjoint_batches():
    ids = [LeadFactory(needs_rescore=True).id for _ in range(6)]
    first_claimed = threading.Event()
    release = threading.Event()
    claims: dict[str, list[int]] = {}

    def first():
        try:
            with transaction.atomic():
                claims["first"] = dirty_leads_claim(limit=4)
                first_claimed.set()
                release.wait(5)
        finally:
            first_claimed.set()
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert first_claimed.wait(5)
        with transaction.atomic():
            claims["second"] = dirty_leads_claim(limit=4)  # skips the rows the first holds
    finally:
        release.set()
        thread.join(10)

    assert claims == {"first": ids[:4], "second": ids[4:]}
