"""bench.sla's pieces inside the suite: its generated clocks sweep as the product's do, and its
hand-written baseline writes the same rows as the product's sweep."""

import pytest
from django.db import connection

from bench.sla import BASELINE_SQL, DUE, NOW, add_open_clocks, create_people, make_due
from leads.models import FirstContactClock, LeadHistory
from sla.models import ClockEvent, Notification
from sla.sweep.services import sla_sweep

pytestmark = pytest.mark.django_db


def written() -> tuple[set, set, set]:
    events = set(ClockEvent.objects.values_list("clock_id", "kind", "seq", "due_at"))
    # Who is told of what; the words themselves are personalised in Python (the reader's time
    # zone, "You" for the rep), which the baseline's one statement writes more plainly.
    told = set(Notification.objects.values_list("event__clock_id", "recipient_id", "kind", "lead_id"))
    rows = set(LeadHistory.objects.filter(action__startswith="sla_").values_list("lead_id", "action", "new_value"))
    return events, told, rows


def test_the_generated_clocks_are_open_and_not_due_and_the_baseline_writes_what_the_sweep_writes():
    team, reps = create_people()
    pick = "SELECT id FROM leads_firstcontactclock ORDER BY id LIMIT %s"
    with connection.cursor() as cursor:
        add_open_clocks(cursor, n=300, team_id=team.pk, rep_ids=reps)
    assert FirstContactClock.objects.filter(ended_at__isnull=True).count() == 300
    assert sla_sweep(now=NOW)["breaches"] == 0  # none due
    with connection.cursor() as cursor:
        assert make_due(cursor, clock_ids_sql=pick, params=[DUE]) == DUE
    counts = sla_sweep(now=NOW)
    assert (counts["breaches"], counts["notifications"]) == (DUE, 2 * DUE)  # the rep and the manager
    product = written()
    with connection.cursor() as cursor:
        make_due(cursor, clock_ids_sql=pick, params=[DUE])
        assert written() == (set(), set(), set())
        cursor.execute(BASELINE_SQL, {"now": NOW})
    assert written() == product
