"""Shared fixtures: a standing cast (marketer, two reps on one team, a rep on
another team, a manager, an admin) so permission tests read plainly."""

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from accounts.models import Role, Team, User
from leads.models import Lead, Status
from tests.factories import LeadFactory, TeamFactory, UserFactory, make_rep

# Property tests: "ci" replays the same 300 examples on every run (a failure in CI
# reproduces anywhere); "dev" draws fewer, fresh ones. CI sets CI=true; choose
# either with HYPOTHESIS_PROFILE. No deadline and no too_slow check: examples
# write to PostgreSQL on a shared, loaded machine, so timing says nothing there.
_UNTIMED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
hypothesis_settings.register_profile("ci", max_examples=300, derandomize=True, database=None, **_UNTIMED)
hypothesis_settings.register_profile("dev", max_examples=60, **_UNTIMED)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(autouse=True)
def _empty_throttle_counts():
    """API throttles count in the cache (per-process in test settings): each test starts at zero."""
    from django.core.cache import cache

    cache.clear()


@dataclass
class Cast:
    team: Team
    other_team: Team
    marketer: User
    rep: User
    teammate: User
    other_rep: User
    manager: User
    other_manager: User
    admin: User

    def by_role(self, name: str) -> User | None:
        return None if name == "anonymous" else getattr(self, name)


ROLE_NAMES = ["anonymous", "marketer", "rep", "other_rep", "manager", "admin"]


@pytest.fixture
def cast(db) -> Cast:
    manager = UserFactory(username="manager", role=Role.MANAGER)
    other_manager = UserFactory(username="other_manager", role=Role.MANAGER)
    team = TeamFactory(name="East", manager=manager)
    other_team = TeamFactory(name="West", manager=other_manager)
    return Cast(
        team=team,
        other_team=other_team,
        marketer=UserFactory(username="marketer", role=Role.MARKETING),
        rep=make_rep(team=team, username="rep1"),
        teammate=make_rep(team=team, username="rep2"),
        other_rep=make_rep(team=other_team, username="rep3"),
        manager=manager,
        other_manager=other_manager,
        admin=UserFactory(username="admin", role=Role.ADMIN, is_superuser=True, is_staff=True),
    )


@dataclass
class Leads:
    """One lead in each place that matters for visibility."""

    pool: Lead  # nurture pool: marketing only
    rep_owned: Lead  # assigned to cast.rep
    teammate_owned: Lead  # assigned to cast.teammate (same team)
    other_team: Lead  # assigned to cast.other_rep
    team_queued: Lead  # promoted, unassigned, in cast.team's queue


@pytest.fixture
def leads(cast) -> Leads:
    return Leads(
        pool=LeadFactory(email="pool@nurture.com", status=Status.NURTURE),
        rep_owned=LeadFactory(email="mine@x.com", status=Status.ASSIGNED, owner=cast.rep, team=cast.team),
        teammate_owned=LeadFactory(email="mate@x.com", status=Status.ASSIGNED, owner=cast.teammate, team=cast.team),
        other_team=LeadFactory(email="other@y.com", status=Status.ASSIGNED, owner=cast.other_rep, team=cast.other_team),
        team_queued=LeadFactory(email="queued@x.com", status=Status.QUEUED, team=cast.team),
    )


@pytest.fixture
def api():
    """An API client; `api.as_user(user)` authenticates with that user's token."""
    client = APIClient()

    def as_user(user):
        client.force_authenticate(user=None)
        client.credentials()
        if user is not None:
            from rest_framework.authtoken.models import Token

            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    client.as_user = as_user
    return client


def login(client, user):
    if user is not None:
        client.force_login(user)
    return client


class Worker:
    """Handle on a real Celery worker subprocess (see `celery_worker`)."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc

    def wait_for(self, condition: Callable[[], bool], timeout: float = 60.0) -> bool:
        """Poll `condition` until it holds: the worker runs in another process."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            assert self.proc.poll() is None, "the Celery worker exited"
            time.sleep(0.05)
        return False


@contextlib.contextmanager
def running_worker(settings, *, log: Path | None = None, **extra_env: str) -> Iterator[Worker]:
    """Start a real Celery worker on this test's Redis database, against this test database."""
    from leadhandoff.celery import app

    app.control.purge()  # messages earlier tests left on this Redis db would only slow it down
    db = connections["default"].settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leadhandoff.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "TEST_CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        **extra_env,
    }
    command = [sys.executable, "-m", "celery", "-A", "leadhandoff", "worker", "--pool=solo", "-Q", "celery"]
    command += ["--loglevel=WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle"]
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(open(log, "w")) if log else subprocess.DEVNULL  # noqa: SIM115
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield Worker(proc)
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            app.control.purge()


@pytest.fixture
def celery_worker(settings) -> Iterator[Worker]:
    """A real Celery worker through Redis. Tests using it need django_db(transaction=True)
    so the worker, another process, sees their data."""
    with running_worker(settings) as worker:
        yield worker
