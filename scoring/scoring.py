"""Writing scores: the whole pool or a few leads, set-based in SQL.

The pool is never scored lead by lead in Python: scoring.sql compiles the active
definition to one SELECT, and `leads_rescore` wraps it in one INSERT ... ON
CONFLICT DO UPDATE into the narrow leads.LeadScore table that writes only leads
whose score actually changed. Every lead carries its score against the active
version, whatever its status (the pages and routing read it);
only nurture leads can be promoted. scoring.engine stays the reference for
single leads (lead_score) and tests.

Entry points:
  definition_for_version(version) -> Definition
  active_definition() -> Definition | None
  leads_rescore(definition=, now=, lead_ids=None) -> int        scores only
  rescore_and_promote(now=, lead_ids=None) -> RescoreOutcome    scores + promotion
  pool_rescore(now=) -> RescoreOutcome                          the whole pool, in chunks
  pool_rescore_tracked(now=) -> RescoreOutcome | None           the same, as a PoolRescore job
  dirty_leads_rescore(now=) -> RescoreOutcome                   one batch of flagged leads
  definition_trial(definition, now=)                             compile and run on a sample (on save)

When rescoring with the active version fails (a whole-pool run, or a batch of
flagged leads), the version stays active and the failure is recorded on it
(DefinitionVersion.scoring_failed_at / scoring_error: the definition page and
/healthz show it) until a whole-pool rescore with it finishes. Meanwhile each
batch of new or changed leads is scored with the last version that worked
(selectors.fallback_version), so intake keeps reaching sales.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from leadhandoff.jobs import job_claim, job_fail, job_failure, job_finish, job_lock, job_progress, job_timed_out
from leadhandoff.sql import tables_analyze
from leads.models import EngagementEvent, Lead
from leads.pool.services import leads_promote
from leads.scores import explanation_render

from .engine import LeadFacts, ScoreResult, evaluate
from .legend import legend_ensure, legend_values
from .models import DefinitionVersion, PoolRescore
from .rules import ATTRIBUTE_PREFIX, LEAD_FIELDS, Definition, rules_parse
from .selectors import fallback_version, rule_catalogue
from .sql import changed_scores_select_sql, scores_select_sql

logger = logging.getLogger(__name__)

# Rule fields that are not lead columns: derived from others.
DERIVED_FIELDS = ("email_domain", "contactable")

# Advisory lock (two int4 keys: "scoring", "pool rescore") held by a whole-pool
# rescore for its whole run: a second run (beat and an activation at once) waits
# and then rescores with whatever version is active by then. Incremental
# rescoring does not take it, so events keep reaching the sales queue while the
# pool is rescored (its rows are claimed FOR UPDATE; the pool's chunk waits for them).
POOL_RESCORE_LOCK = (0x5C0, 1)
# Lead ids per transaction of a whole-pool rescore (about a second of row locks).
POOL_CHUNK_SIZE = 20_000


def definition_for_version(version: DefinitionVersion) -> Definition:
    """The engine's view of a stored version (rules parsed through the one schema)."""
    catalogue = rule_catalogue(stored_rules=version.rules)
    return Definition.from_rules(
        version=version.number, threshold=version.threshold, rules=rules_parse(version.rules, **catalogue)
    )


def active_definition() -> Definition | None:
    version = DefinitionVersion.objects.filter(state=DefinitionVersion.State.ACTIVE).first()
    return definition_for_version(version) if version is not None else None


def facts_for_lead(lead: Lead, *, events: Sequence[tuple[str, datetime.datetime]] | None = None) -> LeadFacts:
    """A lead's facts for the pure engine (one query for its events unless given)."""
    values = {name: getattr(lead, name) for name in LEAD_FIELDS if name not in DERIVED_FIELDS}
    values["contactable"] = not (lead.do_not_email or lead.do_not_call or lead.unsubscribed)
    values.update({f"{ATTRIBUTE_PREFIX}{name}": value for name, value in (lead.attributes or {}).items()})
    if events is None:
        events = list(EngagementEvent.objects.filter(lead=lead).values_list("kind", "occurred_at"))
    return LeadFacts(values=values, events=tuple(events))


def lead_score(*, lead: Lead, definition: Definition, now: datetime.datetime) -> ScoreResult:
    """Score one lead in Python (what the lead page or a what-if needs); writes nothing."""
    return evaluate(facts_for_lead(lead), definition, now)


def scores_fetch(
    *, definition: Definition, now: datetime.datetime, lead_ids: Sequence[int] | None = None
) -> dict[int, dict]:
    """Scores computed in SQL, keyed by lead id, with the explanation rendered (tests, small previews; no writes)."""
    where_sql, where_params = ("l.id = ANY(%s)", [list(lead_ids)]) if lead_ids is not None else ("", [])
    sql, params = scores_select_sql(definition, now=now, where_sql=where_sql, where_params=where_params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [c.name for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    legend = legend_values(definition)
    for row in rows:
        for name in ("rule_points", "gates_passed"):
            if isinstance(row[name], str):
                row[name] = json.loads(row[name])
        row["explanation"] = explanation_render(
            version=definition.version,
            threshold=legend["threshold"],
            legend_gates=legend["gates"],
            legend_rules=legend["rules"],
            total=row["total"],
            fit=row["fit"],
            behaviour=row["behaviour"],
            passes_gates=row["passes_gates"],
            gates_passed=row["gates_passed"],
            rule_points=row["rule_points"],
        )
    return {row["lead_id"]: row for row in rows}


# One upsert into the narrow score table: a lead's first score inserts, later ones
# update, and only leads whose score changed reach it (changed_scores_select_sql).
_RESCORE_UPSERT = (
    "INSERT INTO leads_leadscore AS t"
    " (lead_id, version, total, fit, behaviour, passes_gates, rule_points, gates_passed, scored_at)"
    " SELECT s.lead_id, %s, s.total, s.fit, s.behaviour, s.passes_gates, s.rule_points, s.gates_passed, %s"
    " FROM ({select_sql}) AS s"
    " ON CONFLICT (lead_id) DO UPDATE SET version = EXCLUDED.version, total = EXCLUDED.total, fit = EXCLUDED.fit,"
    " behaviour = EXCLUDED.behaviour, passes_gates = EXCLUDED.passes_gates, rule_points = EXCLUDED.rule_points,"
    " gates_passed = EXCLUDED.gates_passed, scored_at = EXCLUDED.scored_at"
    # Within a version, a score computed as of an earlier moment never replaces a
    # later one: a whole-pool run scoring from its start-time snapshot of the
    # events must not undo what incremental rescoring wrote meanwhile from newer
    # events. Another version always replaces it (the active one is being applied).
    " WHERE t.version <> EXCLUDED.version OR t.scored_at <= EXCLUDED.scored_at"
)


def leads_rescore(
    *,
    definition: Definition,
    now: datetime.datetime,
    lead_ids: Sequence[int] | None = None,
    id_range: tuple[int, int] | None = None,
) -> int:
    """Store scores of every lead (or of `lead_ids`, or low < id <= high) in one statement; return how many changed.

    Only leads whose score, gates, per-rule points or version differ are written,
    so a periodic rescore for decay rewrites just the leads whose points moved,
    and scored_at is when the stored score last changed.
    """
    legend_ensure(definition)
    where_sql, where_params = ("l.id = ANY(%s)", [list(lead_ids)]) if lead_ids is not None else ("", [])
    select_sql, select_params = changed_scores_select_sql(
        definition,
        now=now,
        where_sql=where_sql,
        where_params=where_params,
        id_range=id_range,
    )
    # select_sql comes from scoring.sql, which passes every rule value as a param.
    sql = _RESCORE_UPSERT.format(select_sql=select_sql)
    params = [definition.version, now, *select_params]
    with transaction.atomic(), connection.cursor() as cursor:
        # JIT-compiling this wide expression list costs seconds (measured 2 s at
        # 200k leads) and saves less than that: the statement is I/O-bound.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return cursor.rowcount


@dataclass(frozen=True)
class RescoreOutcome:
    version: int | None
    changed: int
    promoted: list[int]


def rescore_and_promote(*, now: datetime.datetime, lead_ids: Sequence[int] | None = None) -> RescoreOutcome:
    """Rescore with the active version and promote who now qualifies.

    lead_ids: those leads, in one transaction. None: the whole pool (pool_rescore).
    """
    if lead_ids is None:
        return pool_rescore(now=now)
    with transaction.atomic():
        definition = active_definition()
        if definition is None:
            return RescoreOutcome(version=None, changed=0, promoted=[])
        return _rescore_and_promote(definition=definition, now=now, lead_ids=lead_ids)


def _rescore_and_promote(
    *,
    definition: Definition,
    now: datetime.datetime,
    lead_ids: Sequence[int] | None = None,
    id_range: tuple[int, int] | None = None,
) -> RescoreOutcome:
    changed = leads_rescore(definition=definition, now=now, lead_ids=lead_ids, id_range=id_range)
    promoted = leads_promote(
        version=definition.version, threshold=definition.threshold, now=now, lead_ids=lead_ids, id_range=id_range
    )
    return RescoreOutcome(version=definition.version, changed=changed, promoted=promoted)


@contextlib.contextmanager
def _pool_rescore_lock() -> Iterator[None]:
    # Session-level (the run spans many transactions); released on exit or when
    # the connection drops with a dead worker.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", POOL_RESCORE_LOCK)
    try:
        yield
    finally:
        # A lost connection already released the lock; do not mask the real error.
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", POOL_RESCORE_LOCK)


def pool_rescore(
    *,
    now: datetime.datetime,
    chunk_size: int = POOL_CHUNK_SIZE,
    on_progress: Callable[[RescoreOutcome, float], None] | None = None,
) -> RescoreOutcome:
    """Rescore every lead with the active version and promote who qualifies.

    Set-based in chunks of `chunk_size` lead ids, one transaction each (scores,
    promotion, history, routing): row locks are held for about a second, not for
    the whole run, so intake and the sales queue keep working during an
    activation. A lead rescored incrementally meanwhile from newer events keeps
    that score (leads_rescore never replaces a later score with an earlier one).
    Under POOL_RESCORE_LOCK a second run waits for the first and then uses
    whatever version is active by then. A run cut short leaves the remaining
    chunks for the next run; each chunk is idempotent.

    on_progress(outcome so far, share of the pool's ids done) is called once the
    version is known and after each chunk commits (scoring.tasks shows it).
    """
    # Called inside a caller's transaction, the chunks commit with it: still
    # correct, only the row locks are held longer.
    with _pool_rescore_lock():
        version = DefinitionVersion.objects.filter(state=DefinitionVersion.State.ACTIVE).first()
        if version is None:
            return RescoreOutcome(version=None, changed=0, promoted=[])
        try:
            outcome = _pool_rescore_with(version, now=now, chunk_size=chunk_size, on_progress=on_progress)
        except Exception as exc:
            # The version stays active; the page and /healthz say it fails, and new
            # leads are scored with the last version that worked (dirty_leads_rescore).
            scoring_failure_record(version_id=version.pk, exc=exc)
            raise
        DefinitionVersion.objects.filter(pk=version.pk).update(
            scoring_ok_at=timezone.now(), scoring_failed_at=None, scoring_error=""
        )
        return outcome


def _pool_rescore_with(
    version: DefinitionVersion,
    *,
    now: datetime.datetime,
    chunk_size: int,
    on_progress: Callable[[RescoreOutcome, float], None] | None,
) -> RescoreOutcome:
    report = on_progress or (lambda outcome, share: None)
    # Reported before parsing: a run that fails on the version still names it.
    report(RescoreOutcome(version=version.number, changed=0, promoted=[]), 0.0)
    definition = definition_for_version(version)
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM leads_lead")
        low, high = cursor.fetchone()
    changed, promoted = 0, []
    if low is not None:
        for start in range(low - 1, high, chunk_size):
            end = min(start + chunk_size, high)
            with transaction.atomic():
                outcome = _rescore_and_promote(definition=definition, now=now, id_range=(start, end))
            changed += outcome.changed
            promoted += outcome.promoted
            so_far = RescoreOutcome(version=definition.version, changed=changed, promoted=promoted)
            report(so_far, (end - low + 1) / (high - low + 1))
    tables_analyze("leads_leadscore", "leads_lead", "leads_leadhistory", rows=changed)
    return RescoreOutcome(version=definition.version, changed=changed, promoted=promoted)


# Whole-pool runs are kept this long for the definition page and the admin.
POOL_RESCORE_HISTORY = datetime.timedelta(days=7)


def pool_rescore_tracked(*, now: datetime.datetime, rescore_id: int | None = None) -> RescoreOutcome | None:
    """pool_rescore, run as a PoolRescore job whose progress the definition page shows.

    Without `rescore_id` a new run is recorded (beat, an activation); with one,
    that queued run (a retry, or beat's recovery of a dead worker's run) is
    claimed. Progress is written as each chunk commits, with the job's heartbeat,
    so a page polling the row sees the run advance. A failure is logged and the
    run retried up to three times (leadhandoff.jobs); None when the run failed
    or another worker has it.
    """
    if rescore_id is None:
        PoolRescore.objects.filter(started_at__lt=now - POOL_RESCORE_HISTORY).delete()
        rescore_id = PoolRescore.objects.create(started_at=now).pk
    with job_lock(PoolRescore, rescore_id) as got:
        if not got or not job_claim(PoolRescore, rescore_id, now=now):
            return None

        def progress(outcome: RescoreOutcome, share: float) -> None:
            job_progress(
                PoolRescore,
                rescore_id,
                percent=int(share * 100),
                version=outcome.version,
                changed=outcome.changed,
                promoted=len(outcome.promoted),
            )

        try:
            outcome = pool_rescore(now=now, on_progress=progress)
        except Exception as exc:
            logger.exception("Pool rescore %s failed", rescore_id)
            error, retry = job_failure(exc, message=str(exc))
            job_fail(PoolRescore, rescore_id, error=error, retry=retry)
            return None
        job_finish(
            PoolRescore,
            rescore_id,
            version=outcome.version,
            changed=outcome.changed,
            promoted=len(outcome.promoted),
        )
    return outcome


def dirty_leads_claim(*, limit: int) -> list[int]:
    """Take up to `limit` leads flagged needs_rescore and clear their flag.

    Rows another worker holds are skipped (SKIP LOCKED), so concurrent claimers
    get disjoint batches; the caller's transaction keeps the rows locked until
    their new scores are committed, and a rollback leaves them flagged.
    """
    sql = (
        "UPDATE leads_lead SET needs_rescore = false WHERE id IN ("
        "SELECT id FROM leads_lead WHERE needs_rescore ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)"
        " RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return sorted(row[0] for row in cursor.fetchall())


def dirty_leads_rescore(*, now: datetime.datetime, batch_size: int = 500) -> RescoreOutcome:
    """Rescore and promote one batch of flagged leads in one transaction.

    Returns version None when there was nothing to do: no flagged lead, or no
    active version (flags then stay; activation rescores the whole pool anyway).
    """
    with transaction.atomic():
        lead_ids = dirty_leads_claim(limit=batch_size)
        if not lead_ids:
            return RescoreOutcome(version=None, changed=0, promoted=[])
        # Read after claiming: a version activated before our claim is the one used,
        # and one activated after it waits (pool UPDATE) for our rows, then rescores them.
        active = DefinitionVersion.objects.filter(state=DefinitionVersion.State.ACTIVE).first()
        if active is None:
            transaction.set_rollback(True)  # keep the flags for when a version is active
            return RescoreOutcome(version=None, changed=0, promoted=[])
        # The active version first, every batch (cheap when it fails: it fails while
        # parsing or planning), so scoring returns to it as soon as it works again.
        try:
            with transaction.atomic():
                return _rescore_and_promote(definition=definition_for_version(active), now=now, lead_ids=lead_ids)
        except (DatabaseError, ValidationError, ValueError) as exc:
            if _transient(exc):
                raise
            logger.exception("Rescoring leads with v%s failed; trying the last version that worked", active.number)
            scoring_failure_record(version_id=active.pk, exc=exc)
        fallback = fallback_version(active=active)
        if fallback is None:
            # Nothing that works: the leads keep their flag for when a version scores them.
            Lead.objects.filter(id__in=lead_ids).update(needs_rescore=True)
            return RescoreOutcome(version=None, changed=0, promoted=[])
        return _rescore_and_promote(definition=definition_for_version(fallback), now=now, lead_ids=lead_ids)


# --- when a version cannot be scored -----------------------------------------

# A version is compiled and run on this many of the newest leads when it is saved,
# with at most this long for the query (definition_trial).
TRIAL_SAMPLE_LEADS = 50
TRIAL_TIMEOUT_SECONDS = 5


class DefinitionUnscorableError(Exception):
    """A version that cannot be scored in SQL; the message says why, for whoever saved it."""


def _failure_text(exc: BaseException) -> str:
    """One readable line saying why scoring failed."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)[:2000]
    if job_timed_out(exc):
        return "A scoring query ran past its time limit and was stopped."
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else "no message"
    # PostgreSQL's own message says it all; a Python error needs its kind.
    return (text if isinstance(exc, DatabaseError) else f"{type(exc).__name__}: {text}")[:2000]


def _transient(exc: BaseException) -> bool:
    """A failure the next try may not repeat (deadlock, lost connection, server shutting down): not the version's."""
    if not isinstance(exc, DatabaseError):
        return False
    code = getattr(exc.__cause__, "pgcode", None)
    # SQLSTATE classes: 08 connection, 40 rollback (deadlock, serialization),
    # 53 insufficient resources, 57P shutdown; 55P03 lock not available.
    return code is None or code[:2] in ("08", "40", "53") or code.startswith("57P") or code == "55P03"


def scoring_failure_record(*, version_id: int, exc: BaseException) -> None:
    """Write on the version that rescoring with it failed, and why (the page and /healthz show it)."""
    try:
        DefinitionVersion.objects.filter(pk=version_id).update(
            scoring_failed_at=timezone.now(), scoring_error=_failure_text(exc)
        )
    except DatabaseError:  # a lost connection: the caller's own error says more
        logger.exception("Could not record the scoring failure of version %s", version_id)


def definition_trial(definition: Definition, *, now: datetime.datetime) -> None:
    """Compile `definition` and run its rescore query on a sample of leads; raise DefinitionUnscorableError if it fails.

    Read-only, under a short statement timeout, in a savepoint that is always
    rolled back (so the settings end with it). It runs on the newest
    TRIAL_SAMPLE_LEADS leads, or on none in an empty database: PostgreSQL still
    parses and plans the statement, which is where limits (arguments per call,
    columns per SELECT) are enforced.
    """
    sample = "l.id IN (SELECT id FROM leads_lead ORDER BY id DESC LIMIT %s)"
    try:
        sql, params = changed_scores_select_sql(
            definition, now=now, where_sql=sample, where_params=[TRIAL_SAMPLE_LEADS]
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL transaction_read_only = on")
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{TRIAL_TIMEOUT_SECONDS}s"])
            cursor.execute(sql, params)
            cursor.fetchall()
            transaction.set_rollback(True)
    except (DatabaseError, ValueError) as exc:
        if isinstance(exc, DatabaseError) and _transient(exc):
            raise
        if job_timed_out(exc):
            reason = f"scoring {TRIAL_SAMPLE_LEADS} leads with it took longer than {TRIAL_TIMEOUT_SECONDS} s"
        elif isinstance(exc, DatabaseError):
            reason = f"PostgreSQL refused its scoring query ({_failure_text(exc)})"
        else:
            reason = f"the SQL compiler refused it ({_failure_text(exc)})"
        raise DefinitionUnscorableError(f"This definition cannot be scored: {reason}.") from exc
