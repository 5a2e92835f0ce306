"""A touch and the sweep at the same moment: the lead's row lock decides, and the sweep never waits."""

import datetime
import threading

import pytest
from django.db import connections, transaction

from leads.models import ClockOutcome, FirstContactClock, TouchKind, TouchOutcome
from leads.queue.services import touch_log
from sla.models import ClockEvent, Notification
from sla.sweep.services import sla_sweep
from tests.sla.helpers import HOUR, T0, lead_with_clock

MS = datetime.timedelta(milliseconds=1)
DUE = T0 + HOUR


@pytest.mark.django_db(transaction=True)
def test_a_touch_in_progress_when_the_sweep_claims_is_skipped_then_met(cast):
    lead = lead_with_clock(rep=cast.rep, hours=1)
    touched, swept = threading.Event(), threading.Event()
    errors = []

    def rep_calls():
        try:
            with transaction.atomic():
                # Logged a millisecond before the deadline; its transaction still open when the sweep comes.
                touch_log(
                    user=cast.rep, lead_id=lead.pk, kind=TouchKind.CALL, outcome=TouchOutcome.CONNECTED, now=DUE - MS
                )
                touched.set()
                assert swept.wait(30)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=rep_calls)
    thread.start()
    assert touched.wait(30)
    first = sla_sweep(now=DUE)  # SKIP LOCKED: returns at once, leaving the held lead alone
    swept.set()
    thread.join(30)
    assert not errors
    assert first["breaches"] == 0
    again = sla_sweep(now=DUE + MS)
    assert again["breaches"] == 0 and again["warnings"] == 0
    clock = FirstContactClock.objects.get(lead=lead)
    assert (clock.outcome, clock.contacted_at) == (ClockOutcome.MET, DUE - MS)
    assert not ClockEvent.objects.filter(lead=lead, kind="breach").exists()
    assert not Notification.objects.filter(lead=lead, kind="breach").exists()
