"""The comparison on the demo history equals figures computed in plain Python from the lead
rows (read with the ORM, not the report's SQL), and tells the demo's story: MQLs close in about
5 touches and short cycles, cold calls in about 25 and long ones."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction

from demo.seed import demo_seed
from leads.models import OPEN_STATUSES, Lead
from reports.selectors import ComparisonParams, comparison_compute
from tests.reports import expected

TODAY = datetime.date(2025, 6, 30)
NOW = datetime.datetime(2025, 6, 30, 15, 30, tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        demo_seed(today=TODAY, now=NOW, log=lambda _m: None)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo_db(demo, db):
    return demo


def _group(lead) -> str:
    if lead["origin"] == "rep_sourced":
        return f"rep_sourced:{lead['rep_source_channel'] or 'unknown'}"
    if lead["recycled_count"] > 0:
        return "recycled_mql"
    if lead["promoted_version"] is not None:
        return f"mql:v{lead['promoted_version']}"
    return "imported"


def _rows(cohort: bool, since=None, until=None):
    """Every lead the comparison counts, with its group, cycle and age, in plain Python."""
    fields = ["origin", "rep_source_channel", "recycled_count", "promoted_version", "status", "created_at"]
    fields += ["promoted_at", "assigned_at", "closed_at", "deal_value", "touch_count"]
    out: dict[str, list] = {}
    for lead in Lead.objects.values(*fields):
        if lead["status"] == "nurture" and lead["recycled_count"] == 0:
            continue  # never reached sales
        moment = (lead["promoted_at"] or lead["created_at"]) if cohort else lead["closed_at"]
        if not cohort and lead["status"] not in ("won", "lost"):
            continue
        if since and (moment is None or moment.date() < since) or until and (moment is None or moment.date() > until):
            continue
        start = lead["created_at"] if lead["origin"] == "rep_sourced" else lead["assigned_at"]
        cycle = None
        if lead["closed_at"] and start and lead["closed_at"] >= start:
            cycle = (lead["closed_at"].astimezone(datetime.UTC).date() - start.astimezone(datetime.UTC).date()).days
        age = (NOW.date() - start.astimezone(datetime.UTC).date()).days if start else None
        out.setdefault(_group(lead), []).append(
            {
                "status": lead["status"],
                "cycle": cycle,
                "age": age,
                "value": lead["deal_value"],
                "touches": lead["touch_count"],
            }
        )
    return out


def _check(figures, rows):
    exp = expected.summary(rows)
    for key in ("leads", "won", "lost", "win_rate", "median_cycle_days_won", "p75_cycle_days_won"):
        assert figures[key] == exp[key], key
    assert figures["median_touches_won"] == exp["median_touches_won"]
    assert Decimal(str(figures["won_value"])) == exp["won_value"]
    assert figures["open"] == sum(1 for r in rows if r["status"] in OPEN_STATUSES)
    won = [r["cycle"] for r in rows if r["status"] == "won" and r["cycle"] is not None]
    ages = [r["age"] for r in rows if r["status"] in OPEN_STATUSES and r["age"] is not None and r["age"] >= 0]
    assert figures["km_median_cycle_days"] == expected.kaplan_meier_median(won, ages)


def test_the_demo_comparison_equals_plain_python_per_group_in_both_modes(demo_db):
    for cohort in (False, True):
        data = comparison_compute(params=ComparisonParams(cohort=cohort), now=NOW)
        rows = _rows(cohort)
        assert set(data["groups"]) == set(rows)
        for name, group_rows in rows.items():
            _check(data["groups"][name], group_rows)
        if cohort:
            for name, group_rows in rows.items():
                won = sum(1 for r in group_rows if r["status"] == "won")
                assert data["groups"][name]["conversion"] == round(won / len(group_rows), 6)


def test_a_period_in_cohort_mode_counts_the_leads_that_entered_the_queue_in_it(demo_db):
    since, until = datetime.date(2025, 1, 1), datetime.date(2025, 3, 31)
    data = comparison_compute(params=ComparisonParams(cohort=True, since=since, until=until), now=NOW)
    rows = _rows(True, since, until)
    assert set(data["groups"]) == set(rows)
    for name, group_rows in rows.items():
        _check(data["groups"][name], group_rows)


def test_the_demo_tells_the_story_of_the_field(demo_db):
    data = comparison_compute(params=ComparisonParams(), now=NOW)
    mqls = [g for name, g in data["groups"].items() if name.startswith("mql:")]
    cold = data["groups"]["rep_sourced:cold_call"]
    assert mqls and all(4 <= g["median_touches_won"] <= 6 for g in mqls)
    assert 20 <= cold["median_touches_won"] <= 30
    assert data["sides"]["mql"]["median_cycle_days_won"] < cold["median_cycle_days_won"]
    assert max(g["median_cycle_days_won"] for g in mqls) < cold["median_cycle_days_won"]
    # Grouped another way, the sides come from their own pass and agree.
    by_team = comparison_compute(params=ComparisonParams(group_by="team"), now=NOW)
    assert by_team["sides"] == data["sides"] and by_team["verdict"] == data["verdict"]
    verdict = data["verdict"]
    assert verdict["cycle_test"] in ("log-rank", "Mann–Whitney")
    assert verdict["text"].startswith("Marketing-qualified leads closed in a median of")
