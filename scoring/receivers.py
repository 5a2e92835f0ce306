"""Incremental rescoring: react to leads.signals.lead_activity.

The intake, import and edit paths flag the leads needs_rescore and send
lead_activity(lead_ids=...) after commit. The receiver makes no query: it
schedules scoring.tasks.rescore_dirty_leads, which claims flagged leads,
coalesced: the first signal in a window of COALESCE_SECONDS sets a short Redis
key and enqueues the task with that countdown; signals inside the window find
the key and enqueue nothing, because their leads were flagged (and committed)
before the scheduled task claims its batch. A flood of events therefore makes
about one task per window, not one per event; beat's minute run catches
anything lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

COALESCE_SECONDS = 0.1
COALESCE_KEY = "scoring:rescore-dirty-scheduled"

_redis_client = None
_redis_lock = threading.Lock()
_local_next_run = 0.0


def _redis():
    """A Redis client on the broker's database, or None when the broker is not Redis."""
    global _redis_client
    url = settings.CELERY_BROKER_URL or ""
    if not url.startswith(("redis://", "rediss://")):
        return None
    with _redis_lock:
        if _redis_client is None:
            import redis

            _redis_client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    return _redis_client


def _window_is_free() -> bool:
    """True for the first caller in a coalescing window (across processes via Redis)."""
    global _local_next_run
    client = _redis()
    if client is not None:
        try:
            return bool(client.set(COALESCE_KEY, "1", nx=True, px=int(COALESCE_SECONDS * 1000)))
        except Exception:  # Redis down: schedule anyway rather than lose the rescore.
            logger.warning("coalescing key unavailable; scheduling rescore directly", exc_info=True)
            return True
    with _redis_lock:  # No Redis (the demo's filesystem broker): coalesce per process.
        current = time.monotonic()
        if current < _local_next_run:
            return False
        _local_next_run = current + COALESCE_SECONDS
        return True


def schedule_dirty_rescore() -> None:
    if _window_is_free():
        from .tasks import rescore_dirty_leads

        rescore_dirty_leads.apply_async(countdown=COALESCE_SECONDS)


def on_lead_activity(sender, lead_ids: Iterable[int] = (), **kwargs) -> None:
    if not lead_ids:
        return
    # robust: a broker hiccup must not fail the request that sent the signal.
    transaction.on_commit(schedule_dirty_rescore, robust=True)
