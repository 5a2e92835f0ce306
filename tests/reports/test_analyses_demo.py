"""On the demo history the reps built to skip (demo.seed.cast: rep2 and rep7) top the cherry-pick
index, and the credit page gives both sides their share of the won value."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction

from demo.seed import demo_seed
from demo.seed.cast import PEOPLE
from leads.models import Lead
from reports.analyses.cherry_pick import cherry_pick_compute
from reports.analyses.credit import credit_compute

TODAY = datetime.date(2025, 6, 30)
NOW = datetime.datetime(2025, 6, 30, 15, 30, tzinfo=datetime.UTC)
SINCE = TODAY - datetime.timedelta(days=89)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        demo_seed(today=TODAY, now=NOW, log=lambda _m: None)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo_db(demo, db):
    return demo


def test_the_demos_skipping_reps_top_the_cherry_pick_index(demo_db):
    data = cherry_pick_compute(since=SINCE, until=TODAY, team_id=None, now=NOW)
    skippers = {p.username for p in PEOPLE if p.skips}
    ranked = [r["username"] for r in data["reps"] if r["assigned"] >= 10]
    assert set(ranked[: len(skippers)]) == skippers, ranked
    by_name = {r["username"]: r for r in data["reps"]}
    for name in skippers:
        assert by_name[name]["sourced_not_free"] > 0
        assert by_name[name]["sourced_while_waiting"] > 0
    assert by_name["rep1"]["never"] == 0


def test_the_demos_credit_splits_won_value_between_both_sides(demo_db):
    data = credit_compute(since=SINCE, until=TODAY, team_id=None, now=NOW)
    start = datetime.datetime.combine(SINCE, datetime.time(), tzinfo=datetime.UTC)
    won = [lead for lead in Lead.objects.filter(status="won") if (lead.promoted_at or lead.created_at) >= start]
    assert Decimal(data["total"]["won_value"]) == sum(lead.deal_value or 0 for lead in won)
    marketing = sum(Decimal(r["marketing"]["won_value"]) for r in data["reps"])
    rep_sourced = sum(Decimal(r["rep_sourced"]["won_value"]) for r in data["reps"])
    assert marketing > 0 and rep_sourced > 0 and marketing + rep_sourced == Decimal(data["total"]["won_value"])
    assert sum(Decimal(f["won_value"]) for f in data["marketing"]["first_source"].values()) == marketing
