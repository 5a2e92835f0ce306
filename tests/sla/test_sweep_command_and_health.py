"""`manage.py sla_sweep`, the beat entry, and what /healthz and /healthz/jobs say about the sweep."""

import datetime
import io
import json

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command

from sla.models import ClockEvent, SweepRun
from sla.sweep.services import sla_sweep
from tests.sla.helpers import HOUR, T0, lead_with_clock

pytestmark = pytest.mark.django_db

DUE = T0 + 24 * HOUR
SECOND = datetime.timedelta(seconds=1)


def run_command(*args) -> list[str]:
    out = io.StringIO()
    call_command("sla_sweep", *args, stdout=out)
    return out.getvalue().splitlines()


def test_the_command_ends_with_one_json_line_of_counts(cast):
    lead_with_clock(rep=cast.rep)
    with time_machine.travel(DUE, tick=False):
        lines = run_command("--json")
    counts = json.loads(lines[-1])
    assert {k: counts[k] for k in ("warnings", "breaches", "escalations", "reassigned", "notifications")} == {
        "warnings": 2,
        "breaches": 1,
        "escalations": 0,
        "reassigned": 0,
        "notifications": 4,
    }
    assert counts["dry_run"] is False
    assert ClockEvent.objects.count() == 3
    assert SweepRun.objects.filter(finished_at=DUE).count() == 1


def test_the_commands_dry_run_changes_nothing(cast):
    lead_with_clock(rep=cast.rep)
    with time_machine.travel(DUE, tick=False):
        lines = run_command("--dry-run", "--json")
    assert json.loads(lines[-1])["breaches"] == 1 and json.loads(lines[-1])["dry_run"] is True
    assert lines[0].startswith("Dry run, nothing changed")
    assert not ClockEvent.objects.exists() and not SweepRun.objects.exists()


def test_beat_runs_the_sweep_every_minute():
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "sla.tasks.sla_sweep")
    assert entry["schedule"] == 60.0


def test_healthz_reports_the_sweeps_age_and_stays_200_however_old(client):
    with time_machine.travel(T0, tick=False):
        assert client.get("/healthz").json()["sweep_age_s"] is None
        sla_sweep(now=T0)
    with time_machine.travel(T0 + HOUR, tick=False):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["sweep_age_s"] == 3600


def test_healthz_jobs_is_503_until_a_sweep_finished_and_when_the_last_one_is_over_five_minutes_old(client):
    with time_machine.travel(T0, tick=False):
        response = client.get("/healthz/jobs")
        assert (response.status_code, response.json()["sweep_age_s"]) == (503, None)
        sla_sweep(now=T0)
        sla_sweep(now=T0, dry_run=True)  # a dry run is not a sweep beat ran
    for age, status in ((0, 200), (300, 200), (301, 503)):
        with time_machine.travel(T0 + age * SECOND, tick=False):
            response = client.get("/healthz/jobs")
        assert (response.status_code, response.json()["sweep_age_s"]) == (status, age), age
    # An unfinished run (its worker died) does not count.
    SweepRun.objects.create(started_at=T0 + 400 * SECOND)
    with time_machine.travel(T0 + 400 * SECOND, tick=False):
        assert client.get("/healthz/jobs").status_code == 503


def test_healthz_jobs_answers_every_role_alike_without_a_login(client, cast):
    with time_machine.travel(T0, tick=False):
        sla_sweep(now=T0)
        assert client.get("/healthz/jobs").status_code == 200
        for user in (cast.rep, cast.marketer, cast.admin):
            client.force_login(user)
            assert client.get("/healthz/jobs").status_code == 200
