"""What a version would do before anyone signs it off: the preview job.

`preview_build(preview_id=..., now=...)` (run by scoring.tasks.definition_preview_build)
scores, against the version and against the active one, in SQL (scoring.sql):

* the nurture pool, in chunks of lead ids so the page can show progress: how many
  leads qualify under each, which would newly qualify and which would drop out
  (the lists name pool leads: scoring.selectors.preview_data_for_user keeps them
  from sales), and the score distribution;
* the closed history (won and lost leads, imported or live): for leads at or above
  the threshold and below it, the count, conversion rate (won / closed), median
  cycle length in days (closed_at - promoted_at, or created_at when never promoted)
  and median touches of the won. A closed lead is scored as of the end of the UTC
  day it was handed over (promoted, or created), not as of today, so its behaviour
  rules see the activity that sales saw, not an empty recent window.

Nothing is written but the Preview row, a job of the shared model
(leadhandoff.jobs): claimed with a compare-and-set, so running it twice does the work once.
"""

from __future__ import annotations

import datetime
import heapq
import logging
import statistics
from collections import Counter
from typing import Any

from django.db import connection

from leadhandoff.jobs import job_claim, job_fail, job_failure, job_finish, job_lock, job_progress
from leads.models import CLOSED_STATUSES, Lead, Status

from .models import DefinitionVersion, Preview
from .rules import Definition
from .scoring import definition_for_version
from .sql import scores_select_sql

logger = logging.getLogger(__name__)

POOL_CHUNK = 5000
LIST_LIMIT = 200
HISTOGRAM_BINS = 12
# Bins from 0 up to twice the threshold in the histogram sales see, plus one open bin at either end.
SALES_HISTOGRAM_BINS = 10
# Share of the progress bar given to the pool scan; the backtest takes the rest.
POOL_SHARE = 60


def preview_build(*, preview_id: int, now: datetime.datetime) -> Preview | None:
    """Compute a queued preview; return it, or None when someone else has it (or had it).

    A job of the shared model (leadhandoff.jobs): claimed under its lock, progress
    with a heartbeat, a failure retried up to three runs and then shown on the page.
    """
    with job_lock(Preview, preview_id) as got:
        if not got or not job_claim(Preview, preview_id, now=now):
            return None
        preview = Preview.objects.select_related("version").get(pk=preview_id)
        try:
            version = preview.version
            # The version may have been edited since the request: preview what is stored now.
            Preview.objects.filter(pk=preview_id).update(revision=version.revision)
            data = preview_compute(
                version=version,
                now=now,
                on_progress=lambda percent: job_progress(Preview, preview_id, percent=percent),
            )
        except Exception as exc:  # a failed preview says so on the page rather than spinning forever
            logger.exception("Preview %s failed", preview_id)
            error, retry = job_failure(exc, message=f"{type(exc).__name__}: {exc}")
            job_fail(Preview, preview_id, error=error, retry=retry)
        else:
            job_finish(Preview, preview_id, now=now, data=data)
    preview.refresh_from_db()
    return preview


def preview_compute(*, version: DefinitionVersion, now: datetime.datetime, on_progress=lambda percent: None) -> dict:
    proposed = definition_for_version(version)
    active_version = (
        DefinitionVersion.objects.filter(state=DefinitionVersion.State.ACTIVE).exclude(pk=version.pk).first()
    )
    active = definition_for_version(active_version) if active_version else None

    pool = _pool_scan(proposed, active, now, lambda share: on_progress(int(POOL_SHARE * share)))
    backtest = _backtest(proposed, active, lambda share: on_progress(POOL_SHARE + int((99 - POOL_SHARE) * share)))
    return {
        "version": version.number,
        "revision": version.revision,
        "threshold": proposed.threshold,
        "active_version": active.version if active else None,
        "active_threshold": active.threshold if active else None,
        "scored_at": now.isoformat(),
        "list_limit": LIST_LIMIT,
        **pool,
        "backtest": backtest,
    }


# --- the pool ---------------------------------------------------------------------


def _chunk_bounds(*, status_sql: str, params: list, size: int) -> list[tuple[int, int]]:
    """(low, high] id ranges of about `size` leads each, in one query."""
    sql = (
        "SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM leads_lead WHERE "  # noqa: S608
        f"{status_sql}) x WHERE n %% %s = 0 ORDER BY id"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT max(id) FROM leads_lead WHERE {status_sql}", params)  # noqa: S608
        top = cursor.fetchone()[0]
        if top is None:
            return []
        cursor.execute(sql, [*params, size])
        cuts = [row[0] for row in cursor.fetchall()]
    if not cuts or cuts[-1] != top:
        cuts.append(top)
    return list(zip([0, *cuts[:-1]], cuts, strict=True))


def _pair_sql(proposed: Definition, active: Definition | None, *, now, where_sql: str, where_params: list) -> tuple:
    """Per lead: proposed total and verdict, and the active ones (NULL without an active version)."""
    p_sql, p_params = scores_select_sql(proposed, now=now, where_sql=where_sql, where_params=where_params)
    if active is None:
        return (f"SELECT p.lead_id, p.total, p.qualifies, NULL::int, false FROM ({p_sql}) p", p_params)  # noqa: S608
    a_sql, a_params = scores_select_sql(active, now=now, where_sql=where_sql, where_params=where_params)
    sql = (
        "SELECT p.lead_id, p.total, p.qualifies, a.total, a.qualifies "  # noqa: S608
        f"FROM ({p_sql}) p JOIN ({a_sql}) a ON a.lead_id = p.lead_id"
    )
    return sql, [*p_params, *a_params]


def _pool_scan(proposed: Definition, active: Definition | None, now: datetime.datetime, progress) -> dict:
    bounds = _chunk_bounds(status_sql="status = %s", params=[Status.NURTURE.value], size=POOL_CHUNK)
    total = qualify_p = qualify_a = newly = dropped = 0
    totals_p: Counter[int] = Counter()
    totals_a: Counter[int] = Counter()
    newly_top: list[tuple[int, int, int | None]] = []  # heap of (proposed total, -id, active total)
    dropped_top: list[tuple[int, int, int | None]] = []
    for done, (low, high) in enumerate(bounds, start=1):
        sql, params = _pair_sql(
            proposed,
            active,
            now=now,
            where_sql="l.status = %s AND l.id > %s AND l.id <= %s",
            where_params=[Status.NURTURE.value, low, high],
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        for lead_id, p_total, p_qualifies, a_total, a_qualifies in rows:
            total += 1
            totals_p[p_total] += 1
            if a_total is not None:
                totals_a[a_total] += 1
            qualify_p += p_qualifies
            qualify_a += a_qualifies
            if p_qualifies and not a_qualifies:
                newly += 1
                _keep_top(newly_top, (p_total, -lead_id, a_total))
            elif a_qualifies and not p_qualifies:
                dropped += 1
                _keep_top(dropped_top, (a_total, -lead_id, p_total))
        progress(done / len(bounds))
    names = _lead_names([-item[1] for item in newly_top + dropped_top])
    return {
        "pool": {
            "total": total,
            "qualify_proposed": qualify_p,
            "qualify_active": qualify_a if active else None,
            "newly_qualify_count": newly,
            "drop_out_count": dropped,
        },
        "newly_qualify": [
            {"id": -neg_id, **names.get(-neg_id, {}), "score": p_total, "active_score": a_total}
            for p_total, neg_id, a_total in sorted(newly_top, reverse=True)
        ],
        "drop_out": [
            {"id": -neg_id, **names.get(-neg_id, {}), "score": p_total, "active_score": a_total}
            for a_total, neg_id, p_total in sorted(dropped_top, reverse=True)
        ],
        "distribution": _histogram(totals_p, totals_a, proposed.threshold),
        "distribution_sales": _histogram_fixed(totals_p, totals_a if active else None, proposed.threshold),
    }


def _keep_top(heap: list, item: tuple) -> None:
    if len(heap) < LIST_LIMIT:
        heapq.heappush(heap, item)
    else:
        heapq.heappushpop(heap, item)


def _lead_names(ids: list[int]) -> dict[int, dict]:
    rows = Lead.objects.filter(id__in=ids).only("id", "first_name", "last_name", "email", "external_id", "company")
    return {lead.id: {"name": str(lead), "company": lead.company} for lead in rows}


def _histogram(proposed: Counter, active: Counter, threshold: int) -> dict:
    values = list(proposed) + list(active) + [threshold]
    low, high = min(values), max(values)
    width = max(1, -(-(high - low + 1) // HISTOGRAM_BINS))
    starts = list(range(low, high + 1, width))

    def binned(counter: Counter) -> list[int]:
        counts = [0] * len(starts)
        for value, n in counter.items():
            counts[(value - low) // width] += n
        return counts

    labels = [str(s) if width == 1 else f"{s}–{s + width - 1}" for s in starts]
    return {"labels": labels, "proposed": binned(proposed), "active": binned(active) if active else None}


def _histogram_fixed(proposed: Counter, active: Counter | None, threshold: int) -> dict:
    """The histogram sales see (scoring.selectors.preview_data_for_user): bins set by
    the threshold alone, open at both ends. The bins of _histogram follow the lowest
    and highest score, so one lead given an extreme score by a fit rule would move
    every label; here no label depends on any lead."""
    top = max(SALES_HISTOGRAM_BINS, 2 * threshold)
    width = -(-top // SALES_HISTOGRAM_BINS)
    starts = list(range(0, width * SALES_HISTOGRAM_BINS, width))
    labels = ["< 0"] + [str(s) if width == 1 else f"{s}–{s + width - 1}" for s in starts[:-1]]
    labels.append(f"≥ {starts[-1]}")

    def binned(counter: Counter) -> list[int]:
        counts = [0] * (len(starts) + 1)
        for value, n in counter.items():
            counts[0 if value < 0 else 1 + min(value // width, len(starts) - 1)] += n
        return counts

    return {"labels": labels, "proposed": binned(proposed), "active": binned(active) if active is not None else None}


# --- the backtest -----------------------------------------------------------------

_CLOSED_SQL = (
    "SELECT id, date_trunc('day', coalesce(promoted_at, created_at) AT TIME ZONE 'UTC') "
    "FROM leads_lead WHERE status = ANY(%s) ORDER BY 2, id"
)
_OUTCOME_SQL = (
    "SELECT s.lead_id, s.qualifies, l.status = %s, "
    "extract(epoch FROM (l.closed_at - coalesce(l.promoted_at, l.created_at))) / 86400.0, l.touch_count "
    "FROM ({scores}) s JOIN leads_lead l ON l.id = s.lead_id"
)


def _backtest(proposed: Definition, active: Definition | None, progress) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(_CLOSED_SQL, [[str(s.value) for s in CLOSED_STATUSES]])
        by_day: dict[datetime.datetime, list[int]] = {}
        for lead_id, day in cursor.fetchall():
            by_day.setdefault(day, []).append(lead_id)
    return _backtest_from(by_day, proposed, active, progress)


def _backtest_from(by_day: dict, proposed: Definition, active: Definition | None, progress) -> dict:
    outcomes: dict[str, dict[bool, list]] = {"proposed": {True: [], False: []}, "active": {True: [], False: []}}
    versions = [("proposed", proposed)] + ([("active", active)] if active else [])
    for done, (day, ids) in enumerate(sorted(by_day.items()), start=1):
        as_of = day.replace(tzinfo=datetime.UTC) + datetime.timedelta(days=1)
        for key, definition in versions:
            scores, params = scores_select_sql(definition, now=as_of, where_sql="l.id = ANY(%s)", where_params=[ids])
            with connection.cursor() as cursor:
                cursor.execute(_OUTCOME_SQL.format(scores=scores), [Status.WON.value, *params])
                rows = cursor.fetchall()
            for _lead_id, qualifies, won, cycle_days, touches in rows:
                outcomes[key][bool(qualifies)].append((won, cycle_days, touches))
        progress(done / len(by_day))

    rows = []
    for key, definition in versions:
        for above in (True, False):
            label = (
                f"v{definition.version} {'qualifies' if above else 'does not qualify'} "
                f"({'passes gates, ≥' if above else 'fails a gate or <'} {definition.threshold})"
            )
            rows.append(
                {"key": f"{key}-{'above' if above else 'below'}", "label": label} | _figures(outcomes[key][above])
            )
    closed = sum(len(ids) for ids in by_day.values())
    return {"closed": closed, "rows": rows}


def _figures(items: list[tuple[bool, Any, int]]) -> dict:
    won = [i for i in items if i[0]]
    cycles = [float(i[1]) for i in items if i[1] is not None]
    return {
        "count": len(items),
        "won": len(won),
        "conversion_rate": round(len(won) / len(items), 4) if items else None,
        "median_cycle_days": round(statistics.median(cycles), 1) if cycles else None,
        # Over the won deals whose touch count is known (imported history may not give one).
        "median_touches_won": statistics.median(known) if (known := [i[2] for i in won if i[2] is not None]) else None,
    }
