import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from scoring.selectors import scoring_health
from sla.models import SweepRun

from .celery import app as celery_app

logger = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any failure means "not answering"
        logger.exception("healthz: database check failed")
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            return True
    except Exception:
        logger.exception("healthz: broker check failed")
        return False


def _sweep_age_s() -> int | None:
    """Whole seconds since the last first-contact sweep finished; None if none ever did (or the database is down)."""
    try:
        finished = (
            SweepRun.objects.filter(finished_at__isnull=False, dry_run=False)
            .order_by("-finished_at")
            .values_list("finished_at", flat=True)
            .first()
        )
    except Exception:
        logger.exception("healthz: sweep age unknown")
        return None
    return None if finished is None else max(0, int((timezone.now() - finished).total_seconds()))


def _scoring() -> dict:
    try:
        return scoring_health()
    except Exception:
        logger.exception("healthz: scoring check failed")
        return {"ok": None}


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For the load balancer: 200 while the database and the broker answer, whatever the sweep's age."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable", **{k: "ok" if v else "down" for k, v in checks.items()}}
    body["sweep_age_s"] = _sweep_age_s() if checks["database"] else None
    # Scoring that fails is reported, not a reason to take this node out of the load
    # balancer (pages and intake still work): "degraded", still 200. ok None: unknown.
    body["scoring"] = _scoring() if checks["database"] else {"ok": None}
    if healthy and body["scoring"]["ok"] is False:
        body["status"] = "degraded"
    return JsonResponse(body, status=200 if healthy else 503)


@never_cache
def healthz_jobs(request: HttpRequest) -> JsonResponse:
    """For monitoring, not the load balancer: 503 when no sweep finished lately (beat or the workers are down)."""
    age = _sweep_age_s()
    limit = settings.SWEEP_STALE_AFTER_SECONDS
    fresh = age is not None and age <= limit
    body = {"status": "ok" if fresh else "stale", "sweep_age_s": age, "stale_after_s": limit}
    return JsonResponse(body, status=200 if fresh else 503)
