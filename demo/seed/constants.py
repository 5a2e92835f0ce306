"""The demo's fixed values: logins' password, id prefixes, default size and seed, the span of the history."""

from __future__ import annotations

import datetime

DEMO_PASSWORD = "leadhandoff"  # noqa: S105 - demo only; README says so
DEMO_PREFIX = "demo-"
LIVE_PREFIX = "demo-live-"  # rows stamped relative to the real clock
DEFAULT_LEADS = 5000
DEFAULT_SEED = 2024
HISTORY_DAYS = 182
SLA_HOURS = 24
CHUNK = 1000
UTC = datetime.UTC

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)
SECOND = datetime.timedelta(seconds=1)
MINUTE = datetime.timedelta(minutes=1)
