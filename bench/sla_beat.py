"""The product's Celery app with a beat schedule of the sweep alone, at BENCH_SLA_BEAT_SECONDS.

bench/sla.py runs `celery -A bench.sla_beat beat` so the breach lag is measured
through a real beat without the other periodic tasks (a pool rescore of a
million leads would hold the one worker).
"""

import os

from leadhandoff.celery import app

app.conf.beat_schedule = {
    "sla-sweep": {"task": "sla.tasks.sla_sweep", "schedule": float(os.environ.get("BENCH_SLA_BEAT_SECONDS", "60"))}
}
app.conf.beat_scheduler = "celery.beat:PersistentScheduler"
