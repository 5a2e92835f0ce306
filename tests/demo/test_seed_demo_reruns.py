"""Re-running the demo seed: --reset rebuilds the same rows, and the same seed and
date give the same history (small seeds; the full size is in test_seed_demo)."""

import datetime
import io

from django.core.management import call_command

from demo.seed import demo_clear, demo_seed
from tests.demo.helpers import fingerprint, table_counts

UTC = datetime.UTC
TODAY = datetime.date(2025, 6, 30)
NOW = datetime.datetime(2025, 6, 30, 15, 30, tzinfo=UTC)


def quiet(_message: str) -> None:
    pass


def test_reset_rebuilds_the_same_history_without_duplicates(db):
    call_command("seed_demo", "--leads", "300", "--today", "2025-06-30", stdout=io.StringIO())
    first = table_counts()
    call_command("seed_demo", "--reset", "--leads", "300", "--today", "2025-06-30", stdout=io.StringIO())
    assert table_counts() == first
    assert first["leads"] == 300


def test_the_same_seed_and_date_give_the_same_history(db):
    demo_seed(leads=400, seed=7, today=TODAY, now=NOW, log=quiet)
    first, first_counts = fingerprint(), table_counts()
    demo_clear()
    demo_seed(leads=400, seed=7, today=TODAY, now=NOW + datetime.timedelta(hours=3), log=quiet)
    assert fingerprint() == first
    assert table_counts() == first_counts
    demo_clear()
    demo_seed(leads=400, seed=8, today=TODAY, now=NOW, log=quiet)
    assert fingerprint() != first
