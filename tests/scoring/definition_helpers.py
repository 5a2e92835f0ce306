"""Shared builders for the definition tests (versions, sign-off, previews)."""

import datetime
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from django.db import connections
from django.utils import timezone

from scoring import services
from scoring.models import DefinitionVersion

GATE_BUSINESS_EMAIL = {
    "id": "gate-email",
    "type": "gate",
    "label": "Business email",
    "field": "email_domain",
    "op": "not_one_of",
    "value": ["gmail.com", "yahoo.com"],
}
FIT_BIG_COMPANY = {
    "id": "fit-size",
    "type": "fit",
    "label": "Company over 100 people",
    "field": "company_size",
    "op": "gt",
    "value": 100,
    "points": 30,
}
FIT_SOFTWARE = {
    "id": "fit-industry",
    "type": "fit",
    "label": "Software industry",
    "field": "industry",
    "op": "equals",
    "value": "Software",
    "points": 20,
}
BEHAVIOUR_DEMO = {
    "id": "beh-demo",
    "type": "behaviour",
    "label": "Asked for a demo",
    "event_kind": "demo_request",
    "min_count": 1,
    "within_days": 30,
    "points": 40,
    "cap": 40,
    "half_life_days": None,
}


def sample_rules() -> list[dict]:
    return [dict(GATE_BUSINESS_EMAIL), dict(FIT_BIG_COMPANY), dict(FIT_SOFTWARE), dict(BEHAVIOUR_DEMO)]


def make_draft(actor, *, rules=None, threshold=50, title="", now=None) -> DefinitionVersion:
    return services.definition_draft_create(
        actor=actor,
        now=now or timezone.now(),
        rules=sample_rules() if rules is None else rules,
        threshold=threshold,
        title=title,
    )


def make_proposed(actor, **kwargs) -> DefinitionVersion:
    version = make_draft(actor, **kwargs)
    return services.definition_propose(version=version, actor=actor, now=timezone.now())


def make_active(marketer, sales, **kwargs) -> DefinitionVersion:
    """A version signed off by `marketer` and `sales` (so active)."""
    version = make_proposed(marketer, **kwargs)
    now = timezone.now()
    services.definition_approve(version=version, actor=marketer, now=now)
    services.definition_approve(version=version, actor=sales, now=now + datetime.timedelta(seconds=1))
    version.refresh_from_db()
    assert version.state == DefinitionVersion.State.ACTIVE
    return version


class Worker:
    """Handle on a real Celery worker subprocess (see the `definition_worker` fixture)."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc

    def wait_for(self, condition, timeout: float = 60.0) -> bool:
        """Poll `condition` until it holds (the worker runs in another process)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            assert self.proc.poll() is None, "the Celery worker exited"
            time.sleep(0.2)
        return False


@pytest.fixture
def definition_worker(settings) -> Iterator[Worker]:
    """A real Celery worker on Redis, against this test's database.

    Tests using it need django_db(transaction=True) so the worker sees their data.
    """
    from leadhandoff.celery import app

    app.control.purge()  # messages left by earlier tests on this Redis db would only slow it down
    db = connections["default"].settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leadhandoff.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "TEST_CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    command = [sys.executable, "-m", "celery", "-A", "leadhandoff", "worker", "--pool=solo", "-Q", "celery"]
    command += ["--loglevel=WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield Worker(proc)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
