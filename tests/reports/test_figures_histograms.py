"""The comparison counts leads into histograms (leads.figures._histogram_sql) and takes
every percentile and Kaplan–Meier median from them: each histogram function against the
function over the expanded values, and the median hours to first contact (taken from
hour buckets, reading a bucket's values only when needed) against PostgreSQL's own
percentile_cont and a plain-Python computation."""

import datetime
import random
import threading
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leads.figures import (
    LeadSet,
    group_rows,
    histogram_km_median,
    histogram_percentile,
    histogram_values,
    km_median,
    percentile_cont,
)
from leads.models import Status
from tests.factories import LeadFactory
from tests.reports import expected

NOW = datetime.datetime(2026, 6, 30, 12, tzinfo=datetime.UTC)
T0 = datetime.datetime(2026, 1, 5, 9, tzinfo=datetime.UTC)

days = st.lists(st.integers(min_value=0, max_value=60), max_size=80)


@given(days, st.sampled_from([0.0, 0.25, 0.5, 0.75, 0.9, 1.0]))
def test_percentile_of_a_histogram_is_percentile_cont_of_its_values(values, q):
    assert histogram_percentile(Counter(values), q) == percentile_cont(values, q)


def test_percentile_of_a_histogram_edge_cases():
    assert histogram_percentile({}, 0.5) is None
    assert histogram_percentile({7: 1}, 0.5) == histogram_percentile({7: 1}, 0.75) == 7.0
    assert histogram_percentile({3: 2, 10: 2}, 0.5) == 6.5  # interpolated between the tied ranks
    assert histogram_percentile({3: 3, 10: 1}, 0.5) == 3.0
    assert histogram_percentile({3: 0, 10: 2}, 0.5) == 10.0  # an empty cell counts nothing


@given(days, days)
def test_kaplan_meier_median_of_histograms_is_that_of_the_values(events, censored):
    got = histogram_km_median(Counter(events), Counter(censored))
    assert got == km_median(events, censored)
    if events:
        assert got == expected.kaplan_meier_median(events, censored)


def test_kaplan_meier_median_of_histograms_edge_cases():
    assert histogram_km_median({}, {3: 4}) is None
    assert histogram_km_median({5: 1}, {}) == 5.0
    assert histogram_km_median({5: 1}, {9: 3}) is None  # never reaches one half
    assert histogram_km_median({5: 2}, {5: 2}) == km_median([5, 5], [5, 5])  # censored at t is at risk at t


@given(days)
def test_a_histograms_values_are_its_values_ascending(values):
    assert histogram_values(Counter(values)) == sorted(values)


def _lead(rep, minutes):
    assigned = T0 + datetime.timedelta(days=random.Random(minutes).randint(0, 50))
    return LeadFactory(
        origin="marketing",
        promoted_version=1,
        created_at=assigned,
        promoted_at=assigned,
        assigned_at=assigned,
        first_contact_at=assigned + datetime.timedelta(minutes=minutes) if minutes is not None else None,
        status=Status.WORKING,
        owner=rep,
        team=rep.rep_profile.team,
    )


def _postgres_median(ids):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_contact_at - assigned_at)"
            " / 3600.0) FROM leads_lead WHERE id = ANY(%s) AND first_contact_at >= assigned_at",
            [ids],
        )
        return cursor.fetchone()[0]


def test_median_hours_to_first_contact_is_percentile_cont_per_group_and_in_total(cast):
    """Minutes inside the same hour (a bucket the median falls inside), whole hours (buckets
    of equal values), ties, a lead contacted before assignment (left out), one never contacted."""
    rng = random.Random(11)
    groups = {
        "a": [7, 13, 29, 41, 44, 59, 59, 61, 120, 125, None, -30],
        "b": [60, 60, 60, 180, 180, 240],
        "c": [rng.randint(0, 600) for _ in range(25)] + [rng.randint(0, 59) for _ in range(30)],
        "d": [95],
        "e": [None],
    }
    ids, names = [], []
    for name, minutes in groups.items():
        for m in minutes:
            ids.append(_lead(cast.rep, m).id)
            names.append(name)
    lead_set = LeadSet(
        group_sql="s.grp",
        from_sql="leads_lead l JOIN unnest(%s::bigint[], %s::text[]) AS s(id, grp) ON s.id = l.id",
        from_params=[ids, names],
    )
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        rows = group_rows(lead_set, now=NOW)
    # Some median fell inside a bucket of unequal values: that bucket's values were read.
    assert any("= ANY(" in q["sql"] and "floor(date_part" in q["sql"] for q in queries.captured_queries)
    for name, minutes in groups.items():
        hours = [m / 60 for m in minutes if m is not None and m >= 0]
        mine = [i for i, n in zip(ids, names, strict=True) if n == name]
        got = rows["groups"][name]["median_hours_to_first_contact"]
        assert got == _postgres_median(mine)
        if hours:
            assert round(got, 9) == round(expected.percentile_linear(hours, 0.5), 9)
        else:
            assert got is None
    assert rows["total"]["median_hours_to_first_contact"] == _postgres_median(ids)


@pytest.mark.django_db(transaction=True)
def test_the_builds_hours_counted_on_a_second_connection_read_the_same_snapshot(cast, monkeypatch):
    """The comparison's build (group_rows, concurrent) counts the hours to first contact on a
    second connection, in the snapshot of the first: a lead changed after the build began is
    seen by neither, and every figure equals the one-connection path's."""
    import psycopg2
    from django.db import connection

    import leads.figures as figures

    rng = random.Random(5)
    # The lead changed while the build runs is a group of its own ("c"), contacted after 30 minutes.
    leads = [_lead(cast.rep, 30)] + [
        _lead(cast.rep, rng.choice([None, 5, 30, 59, 61, 90, 240, 600])) for _ in range(40)
    ]
    changed = leads[0]
    names = ["c"] + ["a" if i % 3 else "b" for i in range(len(leads) - 1)]
    lead_set = LeadSet(
        group_sql="s.grp",
        from_sql="leads_lead l JOIN unnest(%s::bigint[], %s::text[]) AS s(id, grp) ON s.id = l.id",
        from_params=[[lead.id for lead in leads], names],
    )
    before = group_rows(lead_set, now=NOW)
    threads = []
    real = figures._in_snapshot

    def in_snapshot_after_a_change(*args):
        threads.append(threading.get_ident())
        # Committed by someone else after the snapshot was exported, before it is imported.
        other = psycopg2.connect(**connection.get_connection_params())
        other.autocommit = True
        with other.cursor() as cursor:
            cursor.execute(
                "UPDATE leads_lead SET first_contact_at = assigned_at + interval '100 hours' WHERE id = %s",
                [changed.id],
            )
        other.close()
        return real(*args)

    monkeypatch.setattr(figures, "_in_snapshot", in_snapshot_after_a_change)
    concurrent = group_rows(lead_set, now=NOW, concurrent=True)
    assert threads and threads[0] != threading.get_ident()  # counted on another thread's connection
    assert before["groups"]["c"]["median_hours_to_first_contact"] == 0.5
    for name in ("a", "b", "c"):
        for key, value in before["groups"][name].items():
            assert concurrent["groups"][name][key] == value, (name, key)
    for key, value in before["total"].items():
        assert concurrent["total"][key] == value, key
    # The change is there for the next build.
    assert group_rows(lead_set, now=NOW)["groups"]["c"]["median_hours_to_first_contact"] == 100.0
