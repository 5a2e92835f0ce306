"""One job model for every background job (imports, previews, pool rescores, reports).

A job row goes queued -> running -> done | failed. A run:
- holds a PostgreSQL advisory lock on (the model's namespace, the job id) for its
  whole run, so a job left "running" by a worker that died can be told from one
  still running: its lock went away with the worker's connection;
- claims the row with a compare-and-set update (queued -> running, or running ->
  running when nobody holds the lock: a takeover), so a task delivered twice, or
  to two workers at once, does the work once;
- writes its progress with a heartbeat.

Recovery (`jobs_recover`, beat every minute): a running job whose heartbeat is
older than JOB_STALE_AFTER_SECONDS and whose lock nobody holds is queued again
and its task sent again, until it has been attempted MAX_ATTEMPTS times; then it
is failed with a message and the page offers "Run again". A job that raises is
retried the same way (`job_fail(retry=True)`).
"""

from __future__ import annotations

import contextlib
import datetime
import logging
from collections.abc import Iterator
from typing import Any, ClassVar

import psycopg2.errors
from celery import current_app, shared_task
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone

logger = logging.getLogger(__name__)

# Runs of one job (a worker that died counts as one): after the third, it is failed.
MAX_ATTEMPTS = 3


class Job(models.Model):
    """Abstract: the state, progress and recovery fields every background job shares."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Written with every progress update; jobs_recover looks only at runs whose heartbeat stopped.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)

    # The Celery task that runs a job of this model; called with the job id as its one argument.
    task_name: ClassVar[str] = ""
    # First key of the job's advisory lock: one per model, clear of other features' locks.
    lock_namespace: ClassVar[int] = 0

    class Meta:
        abstract = True

    @property
    def can_run_again(self) -> bool:
        return self.state == Job.State.FAILED


def job_models() -> list[type[Job]]:
    return [m for m in apps.get_models() if issubclass(m, Job) and m.task_name]


@contextlib.contextmanager
def job_lock(model: type[Job], job_id: int) -> Iterator[bool]:
    """Hold the job's advisory lock for the block; yields False when someone else holds it.

    Session-level: the run spans many transactions, and the lock must outlive
    each one but not the worker's connection.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [model.lock_namespace, job_id])
        got = cursor.fetchone()[0]
        if got:
            # Every statement of the run is time-limited: a bad plan fails the job
            # (job_failure) instead of holding a core for an hour.
            cursor.execute("SELECT set_config('statement_timeout', %s, false)", [f"{_timeout_ms()}ms"])
    try:
        yield got
    finally:
        if got:
            # A lost connection already released the lock; do not mask the real error.
            with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
                cursor.execute("RESET statement_timeout")
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [model.lock_namespace, job_id])


def _timeout_ms() -> int:
    return max(1, int(settings.JOB_STATEMENT_TIMEOUT_SECONDS * 1000))


def job_timed_out(exc: BaseException) -> bool:
    """Whether a run stopped because one of its queries exceeded JOB_STATEMENT_TIMEOUT_SECONDS."""
    while exc is not None:
        if isinstance(exc, psycopg2.errors.QueryCanceled):
            return True
        exc = exc.__cause__
    return False


def job_failure(exc: BaseException, *, message: str) -> tuple[str, bool]:
    """(the error to show, whether to run the job again) for a run that raised.

    A query stopped by the statement timeout is not retried: the same plan on the
    same data would run out of time again; a person can press "Run again".
    """
    if job_timed_out(exc):
        seconds = settings.JOB_STATEMENT_TIMEOUT_SECONDS
        return (
            f"A query of this job ran longer than {seconds:g} s (JOB_STATEMENT_TIMEOUT_SECONDS) and was stopped. "
            "Nothing half-done was kept; run it again, or raise the limit if the data is simply large.",
            False,
        )
    return message, True


def job_claim(model: type[Job], job_id: int, *, now: datetime.datetime, fresh: dict[str, Any] | None = None) -> bool:
    """Compare-and-set queued -> running (or take over a running job); call it holding job_lock.

    Holding the lock, a job still "running" is one whose worker died: nobody else
    can hold its lock. `fresh` resets the model's own counters for the new run.
    """
    claim = {
        "state": Job.State.RUNNING,
        "started_at": now,
        "heartbeat_at": now,
        "finished_at": None,
        "progress": 0,
        "error": "",
        "attempts": F("attempts") + 1,
        **(fresh or {}),
    }
    rows = model.objects.filter(pk=job_id, state__in=(Job.State.QUEUED, Job.State.RUNNING))
    return rows.update(**claim) == 1


def job_progress(model: type[Job], job_id: int, *, percent: int | None = None, **fields: Any) -> None:
    """Write how far the run has come, with a heartbeat (its own statement, so a page sees it now)."""
    if percent is not None:
        fields["progress"] = max(0, min(99, int(percent)))
    model.objects.filter(pk=job_id, state=Job.State.RUNNING).update(heartbeat_at=timezone.now(), **fields)


def job_finish(model: type[Job], job_id: int, *, now: datetime.datetime | None = None, **fields: Any) -> None:
    """The run ended well; `now` is the job's own clock when it has one (a preview's "as of")."""
    now = now or timezone.now()
    model.objects.filter(pk=job_id).update(
        state=Job.State.DONE, progress=100, finished_at=now, heartbeat_at=now, error="", **fields
    )


def job_fail(model: type[Job], job_id: int, *, error: str, retry: bool, **fields: Any) -> str:
    """A run that stopped: queue it again while it has attempts left (when `retry`), else fail it.

    Returns "retrying" or "failed". A refusal that another run would repeat (a bad
    mapping) passes retry=False and fails at once.
    """
    now = timezone.now()
    with transaction.atomic():
        rows = model.objects.filter(pk=job_id)
        if retry and rows.filter(attempts__lt=MAX_ATTEMPTS).update(
            state=Job.State.QUEUED, error=error[:2000], heartbeat_at=now, **fields
        ):
            transaction.on_commit(lambda: job_send(model, job_id))
            return "retrying"
        rows.update(state=Job.State.FAILED, error=error[:2000], finished_at=now, heartbeat_at=now, **fields)
    return "failed"


def job_send(model: type[Job], job_id: int) -> None:
    current_app.send_task(model.task_name, args=[job_id])


def job_run_again(model: type[Job], job_id: int, *, from_states: tuple[str, ...], fresh: dict[str, Any]) -> bool:
    """ "Run again" (a person asked): queue a finished, failed or dead job with its attempts reset.

    A queued job is sent again (its message may be lost; only one run wins the
    claim); a running job is queued only when nobody holds its lock (its worker died).
    Returns False while it runs.
    """
    reset = {"state": Job.State.QUEUED, "attempts": 0, "progress": 0, "error": "", "finished_at": None, **fresh}
    with transaction.atomic():
        rows = model.objects.filter(pk=job_id)
        queued = rows.filter(state__in=from_states).update(**reset)
        if not queued:
            queued = rows.filter(state=Job.State.QUEUED).exists()
        if not queued:
            with job_lock(model, job_id) as free:
                if free:
                    queued = rows.filter(state=Job.State.RUNNING).update(**reset)
        if queued:
            transaction.on_commit(lambda: job_send(model, job_id))
    return bool(queued)


def jobs_recover(*, now: datetime.datetime) -> dict[str, int]:
    """Take over running jobs whose worker died: queue them again, or fail them after MAX_ATTEMPTS runs."""
    stale_before = now - datetime.timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    counts = {"requeued": 0, "failed": 0}
    for model in job_models():
        stale = model.objects.filter(state=Job.State.RUNNING).filter(
            Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True)
        )
        for job_id in stale.values_list("pk", flat=True):
            with job_lock(model, job_id) as free:
                if not free:
                    continue  # slow, not dead: its worker still holds the run
                rows = model.objects.filter(pk=job_id, state=Job.State.RUNNING)
                with transaction.atomic():
                    if rows.filter(attempts__lt=MAX_ATTEMPTS).update(state=Job.State.QUEUED, heartbeat_at=now):
                        counts["requeued"] += 1
                        transaction.on_commit(lambda m=model, pk=job_id: job_send(m, pk))
                        logger.warning("%s %s: its worker died; queued again", model.__name__, job_id)
                    elif rows.update(
                        state=Job.State.FAILED,
                        finished_at=now,
                        heartbeat_at=now,
                        error=f"The worker running this job stopped {MAX_ATTEMPTS} times; run it again to retry.",
                    ):
                        counts["failed"] += 1
                        logger.error("%s %s: failed after %d attempts", model.__name__, job_id, MAX_ATTEMPTS)
    return counts


@shared_task(name="leadhandoff.jobs.jobs_recover")
def jobs_recover_task() -> dict[str, int]:
    """Beat, every minute: resume jobs whose worker died (see jobs_recover)."""
    return jobs_recover(now=timezone.now())
