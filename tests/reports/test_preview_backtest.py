"""The definition preview's backtest counts through the comparison's figure functions (issue 12.5):
the median cycle is of won deals only, conversion is won / all leads (open ones included), and the
"does not qualify" row holds the marketing leads a version would not qualify, never the rep-sourced."""

import datetime
import io
import statistics

import pytest
from django.core.management import call_command

from leads.models import Status
from scoring.preview import preview_compute
from tests.factories import LeadFactory
from tests.reports.expected import percentile_linear
from tests.reports.test_comparison_crm_example import EXAMPLE, _csv_rows
from tests.scoring.definition_helpers import make_active, make_proposed

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
BIG = [{"id": "big", "type": "fit", "field": "company_size", "op": "gt", "value": 100, "points": 60}]


def _rows(version):
    return {row["key"]: row for row in preview_compute(version=version, now=NOW)["backtest"]["rows"]}


def lead(status, *, size=500, cycle=None, origin="marketing", start_days_ago=100):
    start = NOW - start_days_ago * DAY
    return LeadFactory(
        status=status,
        origin=origin,
        rep_source_channel="cold_call" if origin == "rep_sourced" else "",
        company_size=size,
        created_at=start - DAY,
        promoted_at=start if origin == "marketing" else None,
        assigned_at=start,
        closed_at=start + cycle * DAY if cycle is not None else None,
        promoted_version=1 if origin == "marketing" else None,
    )


def test_the_median_cycle_is_of_won_deals_only_on_the_crm_example(cast):
    call_command(
        "import_leads",
        str(EXAMPLE / "sales_pipeline.csv"),
        mapping=str(EXAMPLE / "mapping.json"),
        no_progress=True,
        stdout=io.StringIO(),
    )
    everyone = make_proposed(
        cast.marketer,
        rules=[{"id": "any", "type": "fit", "field": "industry", "op": "equals", "value": "retail", "points": 10}],
        threshold=0,
    )
    rows = list(_csv_rows())
    won_cycles = [r["cycle"] for r in rows if r["status"] == "won"]
    closed_cycles = [r["cycle"] for r in rows if r["status"] in ("won", "lost")]
    above = _rows(everyone)["proposed-above"]
    assert above["median_cycle_days"] == percentile_linear(won_cycles, 0.5) == 57
    assert statistics.median(closed_cycles) != 57  # what mixing won and lost deals gave
    assert above["count"] == 8800 and above["won"] == len(won_cycles)
    assert above["conversion_rate"] == round(len(won_cycles) / 8800, 6)


def test_conversion_counts_every_lead_of_the_row_not_only_the_closed(cast):
    proposed = make_proposed(cast.marketer, rules=BIG, threshold=50)
    for _ in range(2):
        lead(Status.WON, cycle=10)
    for _ in range(15):
        lead(Status.WORKING)  # an MQL funnel with no lost outcomes
    above = _rows(proposed)["proposed-above"]
    assert (above["count"], above["won"], above["open"]) == (17, 2, 15)
    assert above["conversion_rate"] == round(2 / 17, 6) == 0.117647  # not 100%
    assert above["win_rate"] == 1


def test_does_not_qualify_is_the_marketing_leads_a_version_would_not_qualify_so_thresholds_show(cast):
    active = make_active(cast.marketer, cast.rep, rules=BIG, threshold=50)
    stricter = make_proposed(cast.marketer, rules=BIG, threshold=70)
    for cycle in (5, 9, 30):
        lead(Status.WON, size=500, cycle=cycle)
    lead(Status.LOST, size=10, cycle=4)
    for _ in range(5):
        lead(Status.WON, size=10, cycle=50, origin="rep_sourced")  # no definition scores for these
    LeadFactory(status=Status.NURTURE, company_size=500)  # never reached sales
    assert active.number != stricter.number
    rows = _rows(stricter)
    assert (rows["active-above"]["count"], rows["active-below"]["count"]) == (3, 1)
    assert (rows["proposed-above"]["count"], rows["proposed-below"]["count"]) == (0, 4)  # the threshold shows
    assert rows["proposed-below"]["won"] == 3 and rows["active-below"]["won"] == 0
    assert rows["active-above"]["median_cycle_days"] == 9
