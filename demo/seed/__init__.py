"""The demo history: six months of a believable field, generated deterministically.

`demo_seed` builds the demo logins (see README), two teams of reps, the active
qualified-lead definition with its sign-off, and about 5,000 leads with their
engagement events, touches, outcomes, history rows and SLA breaches, in which
the story of the product is visible:

* marketing-qualified leads close in about 5 touches and about a month, while
  rep-sourced cold calls need about 25 touches and about three months;
* two reps (rep2 in East, rep7 in West) skip qualified leads: assigned leads
  never contacted, contacted days late, or rejected back to marketing;
* some first contacts come after the 24-hour deadline, with their breaches.

Determinism: every choice comes from one `random.Random(seed)` and every time is
an offset from the anchor, today at 00:00 UTC, so a given seed and date give the
same rows. Only rep1's live queue (a few leads due soon and one overdue) and the
unassigned team queues are placed relative to the real clock, so the queue
looks alive after login; they are the same rows, just stamped at "now".

Re-running is safe: the demo's leads carry external ids starting with "demo-";
when they exist the seed is skipped (``demo_present``), and ``demo_clear`` removes
them (and every definition version) for a rebuild.

Everything is written with bulk_create in chunks inside one transaction: a few
seconds.

The parts: `cast` (logins, teams, rep profiles), `definition` (the active
definition with its sign-off thread, and the routing rules), `names` (word
lists), `builder` (each lead and its children planned in memory; every history
row comes from a `leads.history` builder) and `writer` (the chunked inserts).
"""

from __future__ import annotations

import datetime
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from demo.seed.builder import Builder
from demo.seed.cast import cast_ensure
from demo.seed.constants import DEFAULT_LEADS, DEFAULT_SEED, DEMO_PASSWORD, DEMO_PREFIX, HOUR, LIVE_PREFIX, UTC
from demo.seed.definition import ROUTING_RULES, definition_ensure, routing_rules_ensure
from demo.seed.not_free import not_free_mark
from demo.seed.writer import plans_write, rep_profiles_touch
from leadhandoff.sql import tables_analyze
from leads.models import AssignmentRule, Lead, LeadScore, ScoreLegend
from scoring.models import DefinitionVersion

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_LEADS",
    "DEFAULT_SEED",
    "DEMO_PASSWORD",
    "DEMO_PREFIX",
    "LIVE_PREFIX",
    "SeedResult",
    "demo_clear",
    "demo_present",
    "demo_seed",
]


@dataclass
class SeedResult:
    skipped: bool = False
    seconds: float = 0.0
    counts: dict = field(default_factory=dict)


def demo_present() -> bool:
    return Lead.objects.filter(external_id__startswith=DEMO_PREFIX).exists()


@transaction.atomic
def demo_clear() -> int:
    """Delete the demo's leads (with their events, touches, history, SLA rows) and every
    definition version, so a rebuild starts from the same place. Users and teams stay
    (they are updated in place by the next seed)."""
    deleted, _ = Lead.objects.filter(external_id__startswith=DEMO_PREFIX).delete()
    DefinitionVersion.objects.all().delete()
    # Legends no stored score uses any more went with the demo's leads; one still in
    # use (another lead's score) stays, and the next version is numbered past it.
    ScoreLegend.objects.exclude(version__in=LeadScore.objects.values("legend")).delete()
    AssignmentRule.objects.filter(name__in=[r["name"] for r in ROUTING_RULES]).delete()
    return deleted


def demo_seed(
    *,
    leads: int = DEFAULT_LEADS,
    seed: int = DEFAULT_SEED,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
    log: Callable[[str], None] = logger.info,
) -> SeedResult:
    """Create the demo history unless it is present; return what was created.

    `today` fixes the anchor (default: today in UTC); `now` stamps the live queue
    (default: the real clock, read once; midday of `today` when that is another day).
    """
    started = time.monotonic()
    clock = datetime.datetime.now(tz=UTC)
    today = today or (now or clock).date()
    anchor = datetime.datetime.combine(today, datetime.time(0), tzinfo=UTC)
    if now is None:
        now = clock if today == clock.date() else anchor + 12 * HOUR
    if demo_present():
        log("Demo data already present (leads with external ids demo-*); nothing to do. Use --reset to rebuild.")
        return SeedResult(skipped=True, seconds=time.monotonic() - started)
    if leads < 50:
        raise ValueError("The demo needs at least 50 leads.")
    with transaction.atomic():
        rng = random.Random(seed)
        cast = cast_ensure()
        log(f"Users and teams ready ({len(cast.users)} logins).")
        definition = definition_ensure(cast=cast, anchor=anchor)
        routing_rules_ensure(cast=cast)
        builder = Builder(rng=rng, cast=cast, definition=definition, anchor=anchor, now=now)
        plans = builder.build(total=leads)
        log(f"Planned {len(plans)} leads; writing.")
        counts = plans_write(plans, definition=definition, now=now, log=log)
        rep_profiles_touch(plans)
        counts["not_free"] = not_free_mark(prefix=DEMO_PREFIX)
    tables_analyze(
        "leads_lead",
        "leads_leadhistory",
        "leads_leadscore",
        "leads_engagementevent",
        "leads_touch",
        "leads_firstcontactclock",
        "sla_clockevent",
    )
    seconds = time.monotonic() - started
    log(
        f"Demo history created in {seconds:.1f}s: {counts['leads']} leads, {counts['events']} events, "
        f"{counts['touches']} touches, {counts['history']} history rows, "
        f"{counts['clocks']} first-contact clocks, {counts['clock_events']} SLA events."
    )
    return SeedResult(skipped=False, seconds=seconds, counts=counts)
