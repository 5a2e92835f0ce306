"""Exactly once under faults, with real Celery workers and Redis: two workers at once, a worker
killed mid-sweep, a Redis server restarted between sweeps. Every clock gets each warning and its
breach once, each notification row is created once, and nothing due is left."""

import contextlib
import datetime
import signal
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from celery import Celery
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from leads.models import FirstContactClock, HistoryAction, LeadHistory
from sla.models import ClockEvent, EventKind, Notification, SweepRun
from tests.conftest import running_worker
from tests.sla.helpers import due_leads

TASK = "sla.tasks.sla_sweep"


def poll(condition, timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def late_leads(cast, n: int) -> list[int]:
    """Leads whose clocks started 25 hours ago (real time, as the workers read it): two warnings and the breach due."""
    return due_leads(n=n, rep=cast.rep, team=cast.team, started_at=timezone.now() - datetime.timedelta(hours=25))


def nothing_due() -> bool:
    return not FirstContactClock.objects.filter(next_action_at__lte=timezone.now()).exists()


def assert_each_once(lead_ids: list[int]) -> None:
    """Warning 1, warning 2 and the breach once per clock; the rep told of each, the manager of the breach."""
    n = len(lead_ids)
    per_clock = (
        ClockEvent.objects.filter(lead_id__in=lead_ids)
        .values("clock_id")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
        .order_by()
    )
    assert sorted(set(per_clock)) == [3] and len(per_clock) == n
    kinds = (
        ClockEvent.objects.filter(lead_id__in=lead_ids).values_list("kind", "seq").annotate(n=Count("id")).order_by()
    )
    assert sorted(kinds) == [(EventKind.BREACH, 1, n), (EventKind.WARNING, 1, n), (EventKind.WARNING, 2, n)]
    assert Notification.objects.filter(lead_id__in=lead_ids).count() == 4 * n
    assert (
        Notification.objects.filter(lead_id__in=lead_ids).values("event_id", "recipient_id").distinct().count() == 4 * n
    )
    history = LeadHistory.objects.filter(
        lead_id__in=lead_ids, action__in=[HistoryAction.SLA_WARNING, HistoryAction.SLA_BREACHED]
    )
    assert history.count() == 3 * n


def other_sessions() -> int:
    """Other sessions busy or holding a transaction (a killed worker's lingers until PostgreSQL
    notices); idle connections other tests left behind hold nothing and do not count."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend' AND state IS DISTINCT FROM 'idle'"
        )
        return cursor.fetchone()[0]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_the_same_due_clocks_at_once_act_once(cast, settings, tmp_path):
    from leadhandoff.celery import app

    ids = late_leads(cast, 600)
    with (
        running_worker(settings, log=tmp_path / "a.log") as a,
        running_worker(settings, log=tmp_path / "b.log"),
    ):
        # Four sweeps in small batches: both workers are at it together.
        for _ in range(4):
            app.send_task(TASK, kwargs={"batch": 20})
        assert a.wait_for(lambda: SweepRun.objects.filter(finished_at__isnull=False).count() == 4, timeout=180), (
            tmp_path / "a.log"
        ).read_text() + (tmp_path / "b.log").read_text()
    assert nothing_due()
    assert_each_once(ids)
    totals = [run.counts for run in SweepRun.objects.all()]
    assert sum(c["breaches"] for c in totals) == 600 and sum(c["warnings"] for c in totals) == 1200
    assert sum(c["failed"] for c in totals) == 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_sweep_and_restarted_skips_nothing_and_doubles_nothing(cast, settings, tmp_path):
    from leadhandoff.celery import app

    ids = late_leads(cast, 4000)
    total = 3 * len(ids)

    def mid_way() -> bool:
        return 0 < ClockEvent.objects.count() < total

    with running_worker(settings, log=tmp_path / "first.log") as first:
        app.send_task(TASK, kwargs={"batch": 25})
        assert poll(mid_way), (tmp_path / "first.log").read_text()
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(10)
    done_before = ClockEvent.objects.count()
    assert 0 < done_before < total
    assert not SweepRun.objects.filter(finished_at__isnull=False).exists()  # the killed run never finished
    # Its open transaction (the batch it was in) is rolled back once PostgreSQL sees the connection gone.
    assert poll(lambda: other_sessions() == 0, timeout=30)
    assert ClockEvent.objects.count() == done_before

    with running_worker(settings, log=tmp_path / "second.log") as second:
        app.send_task(TASK, kwargs={"batch": 25})
        assert second.wait_for(lambda: SweepRun.objects.filter(finished_at__isnull=False).exists(), timeout=180), (
            tmp_path / "second.log"
        ).read_text()
    assert nothing_due()
    assert_each_once(ids)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def redis_server(port: int) -> Iterator[subprocess.Popen]:
    """A Redis server of this test's own (no persistence: a restart loses every message, the worst case)."""
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert poll(lambda: _answers(port), timeout=10)
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def send_sweep(broker_url: str) -> None:
    """Send the beat's message through a fresh connection (the old one died with the server)."""
    # Not the current app: tasks this process sends later must keep the suite's broker.
    sender = Celery(broker=broker_url, set_as_current=False)
    try:
        sender.send_task(TASK, kwargs={"batch": 50})
    finally:
        sender.close()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_redis_restart_between_sweeps_loses_nothing_and_doubles_nothing(cast, settings, tmp_path):
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    log = tmp_path / "worker.log"

    def finished_runs(n: int):
        return lambda: SweepRun.objects.filter(finished_at__isnull=False).count() >= n

    # Only the worker talks to the test's own Redis (this process keeps the suite's broker,
    # so no connection to a server the test kills outlives the test).
    with (
        redis_server(port) as first_server,
        running_worker(settings, log=log, TEST_CELERY_BROKER_URL=broker) as worker,
    ):
        before = late_leads(cast, 200)
        send_sweep(broker)
        assert worker.wait_for(finished_runs(1), timeout=120), log.read_text()
        # Redis goes away and comes back empty; meanwhile more clocks fall due.
        first_server.terminate()
        first_server.wait(10)
        after = late_leads(cast, 200)
        with redis_server(port):
            # The worker reconnects by itself; beat's next message (sent twice here) reaches it.
            send_sweep(broker)
            send_sweep(broker)
            assert worker.wait_for(finished_runs(3), timeout=120), log.read_text()
    assert nothing_due()
    assert_each_once(before)
    assert_each_once(after)
    runs = list(SweepRun.objects.order_by("id").values_list("counts", flat=True))
    assert [c["breaches"] for c in runs[:1]] == [200] and sum(c["breaches"] for c in runs) == 400
