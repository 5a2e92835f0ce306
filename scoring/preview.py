"""What a version would do before anyone signs it off: the preview job.

`preview_build(preview_id=..., now=...)` (run by scoring.tasks.definition_preview_build)
scores, against the version and against the active one, in SQL (scoring.sql):

* the nurture pool, in chunks of lead ids so the page can show progress: how many
  leads qualify under each, which would newly qualify and which would drop out
  (the lists name pool leads: scoring.selectors.preview_data_for_user keeps them
  from sales), and the score distribution;
* the backtest: the marketing leads that reached sales (promoted MQLs, recycled
  ones, imported history; never rep-sourced leads, which no definition scores
  for), won, lost or still open. Each is scored as of the end of the UTC day it
  was handed over (promoted, or created), not as of today, so its behaviour rules
  see the activity that sales saw, not an empty recent window. The leads a
  version qualifies and those it does not are then counted by the comparison's
  own figure functions (leads.figures, cohort mode): conversion is won / all leads
  of the row (open ones included), the median cycle is of won deals only, from
  the same start as the comparison's (assignment for marketing leads).

Nothing is written but the Preview row, a job of the shared model
(leadhandoff.jobs): claimed with a compare-and-set, so running it twice does the work once.
"""

from __future__ import annotations

import datetime
import heapq
import logging
from collections import Counter

from django.db import connection

from leadhandoff.jobs import job_claim, job_fail, job_failure, job_finish, job_lock, job_progress
from leads.figures import QUEUED_AT_SQL, REACHED_SALES_SQL, LeadSet, group_figures
from leads.models import Lead, Origin, Status

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
    backtest = _backtest(proposed, active, now, lambda share: on_progress(POOL_SHARE + int((99 - POOL_SHARE) * share)))
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

# The marketing leads that reached sales, by the UTC day they were handed over.
_HISTORY_SQL = (
    f"SELECT l.id, date_trunc('day', {QUEUED_AT_SQL} AT TIME ZONE 'UTC') FROM leads_lead l "  # noqa: S608
    f"WHERE l.origin = %s AND {REACHED_SALES_SQL} ORDER BY 2, l.id"
)
# The backtest's rows, each a group of leads for leads.figures.
_ROWS_FROM_SQL = "leads_lead l JOIN unnest(%s::bigint[], %s::text[]) AS s(id, grp) ON s.id = l.id"


def _backtest(proposed: Definition, active: Definition | None, now: datetime.datetime, progress) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(_HISTORY_SQL, [Origin.MARKETING.value])
        by_day: dict[datetime.datetime, list[int]] = {}
        for lead_id, day in cursor.fetchall():
            by_day.setdefault(day, []).append(lead_id)
    return _backtest_from(by_day, proposed, active, now, progress)


def _backtest_from(by_day: dict, proposed: Definition, active: Definition | None, now, progress) -> dict:
    ids: list[int] = []
    groups: list[str] = []
    versions = [("proposed", proposed)] + ([("active", active)] if active else [])
    for done, (day, day_ids) in enumerate(sorted(by_day.items()), start=1):
        as_of = day.replace(tzinfo=datetime.UTC) + datetime.timedelta(days=1)
        for key, definition in versions:
            scores, params = scores_select_sql(
                definition, now=as_of, where_sql="l.id = ANY(%s)", where_params=[day_ids]
            )
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT s.lead_id, s.qualifies FROM ({scores}) s", params)  # noqa: S608
                for lead_id, qualifies in cursor.fetchall():
                    ids.append(lead_id)
                    groups.append(f"{key}-{'above' if qualifies else 'below'}")
        progress(done / len(by_day))

    lead_set = LeadSet(group_sql="s.grp", from_sql=_ROWS_FROM_SQL, from_params=[ids, groups])
    figures = group_figures(lead_set, now=now, cohort=True) if ids else {}
    rows = []
    for key, definition in versions:
        for above in (True, False):
            label = (
                f"v{definition.version} {'qualifies' if above else 'does not qualify'} "
                f"({'passes gates, ≥' if above else 'fails a gate or <'} {definition.threshold})"
            )
            row_key = f"{key}-{'above' if above else 'below'}"
            rows.append({"key": row_key, "label": label} | _row(figures.get(row_key)))
    leads = sum(len(day_ids) for day_ids in by_day.values())
    closed = sum(f["closed"] for key, f in figures.items() if key.startswith("proposed-"))
    return {"leads": leads, "closed": closed, "rows": rows}


def _row(figures: dict | None) -> dict:
    """A backtest row: the comparison's figures (leads.figures), under the preview's names too."""
    if figures is None:
        return {"count": 0, "won": 0, "lost": 0, "open": 0, "conversion_rate": None, "win_rate": None}
    return {
        "count": figures["leads"],
        "won": figures["won"],
        "lost": figures["lost"],
        "open": figures["open"],
        "conversion_rate": figures["conversion"],
        "conversion_low": figures["conversion_low"],
        "conversion_high": figures["conversion_high"],
        "win_rate": figures["win_rate"],
        "median_cycle_days": figures["median_cycle_days_won"],
        "p75_cycle_days": figures["p75_cycle_days_won"],
        "km_median_cycle_days": figures["km_median_cycle_days"],
        "median_touches_won": figures["median_touches_won"],
        "closed_before_start": figures["closed_before_start"],
    }
