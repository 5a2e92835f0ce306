import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from scoring.selectors import scoring_health

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


def _scoring() -> dict:
    try:
        return scoring_health()
    except Exception:
        logger.exception("healthz: scoring check failed")
        return {"ok": None}


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable", **{k: "ok" if v else "down" for k, v in checks.items()}}
    # Scoring that fails is reported, not a reason to take this node out of the load
    # balancer (pages and intake still work): "degraded", still 200. ok None: unknown.
    body["scoring"] = _scoring() if checks["database"] else {"ok": None}
    if healthy and body["scoring"]["ok"] is False:
        body["status"] = "degraded"
    return JsonResponse(body, status=200 if healthy else 503)
