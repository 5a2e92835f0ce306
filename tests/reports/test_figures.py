"""leads.figures and the comparison on hand-made histories: edge cases, the Kaplan–Meier
median, Wilson intervals and the verdict's tests, each against an independent computation."""

import datetime
import random
from decimal import Decimal

import pytest
from scipy import stats

from leads.figures import LeadSet, group_figures, group_rows, side_from_row, verdict, wilson
from leads.models import Lead, Status
from reports.selectors import ComparisonParams, comparison_compute
from tests.factories import LeadFactory
from tests.reports import expected

NOW = datetime.datetime(2026, 6, 30, 12, tzinfo=datetime.UTC)
T0 = datetime.datetime(2026, 1, 5, 9, tzinfo=datetime.UTC)


def day(n, hour=9):
    return T0.replace(hour=hour) + datetime.timedelta(days=n)


def mql(rep, *, status, assigned=0, closed=None, value=None, touches=5, version=1, created=None, **kw):
    assigned_at = day(assigned) if assigned is not None else None
    return LeadFactory(
        origin="marketing",
        promoted_version=version,
        created_at=day(created if created is not None else (assigned or 0) - 3),
        promoted_at=assigned_at,
        assigned_at=assigned_at,
        status=status,
        owner=rep,
        team=rep.rep_profile.team,
        closed_at=day(closed) if closed is not None else None,
        first_contact_at=assigned_at,
        deal_value=value,
        touch_count=touches,
        **kw,
    )


def cold_call(rep, *, status, created=0, closed=None, value=None, touches=25, **kw):
    return LeadFactory(
        origin="rep_sourced",
        rep_source_channel="cold_call",
        created_at=day(created),
        assigned_at=day(created),
        status=status,
        owner=rep,
        team=rep.rep_profile.team,
        closed_at=day(closed) if closed is not None else None,
        deal_value=value,
        touch_count=touches,
        **kw,
    )


def compute(**params):
    return comparison_compute(params=ComparisonParams(**params), now=NOW)


def test_a_group_without_closed_deals_has_counts_and_no_rates_or_cycles(cast):
    mql(cast.rep, status=Status.WORKING)
    mql(cast.rep, status=Status.ASSIGNED)
    g = compute(cohort=True)["groups"]["mql:v1"]
    assert (g["leads"], g["won"], g["lost"], g["open"], g["closed"]) == (2, 0, 0, 2, 0)
    assert g["win_rate"] is None and g["win_rate_low"] is None
    assert g["conversion"] == 0 and g["conversion_low"] == 0
    assert g["median_cycle_days_won"] is None and g["km_median_cycle_days"] is None
    assert g["won_value"] == 0 and g["average_deal"] is None
    assert g["median_touches_won"] is None


def test_one_deal_is_its_own_median_and_75th_percentile(cast):
    mql(cast.rep, status=Status.WON, assigned=0, closed=12, value=Decimal("1000.50"))
    g = compute()["groups"]["mql:v1"]
    assert (g["median_cycle_days_won"], g["p75_cycle_days_won"], g["km_median_cycle_days"]) == (12, 12, 12)
    assert g["win_rate"] == 1
    low, high = expected.wilson(1, 1)
    assert g["win_rate_low"] == round(low, 6) and g["win_rate_high"] == 1
    assert Decimal(str(g["won_value"])) == Decimal("1000.50") and g["average_deal"] == 1000.5


def test_ties_and_interpolation_follow_percentile_cont(cast):
    for cycle in (3, 3, 3, 10):
        mql(cast.rep, status=Status.WON, assigned=0, closed=cycle)
    g = compute()["groups"]["mql:v1"]
    assert g["median_cycle_days_won"] == 3
    assert g["p75_cycle_days_won"] == expected.percentile_linear([3, 3, 3, 10], 0.75) == 4.75
    for cycle in (1, 20):
        mql(cast.rep, status=Status.WON, assigned=0, closed=cycle)
    assert compute()["groups"]["mql:v1"]["median_cycle_days_won"] == 3  # (3 + 3) / 2 of six


def test_cycles_are_calendar_days_in_utc(cast):
    late = datetime.datetime(2026, 2, 1, 23, 30, tzinfo=datetime.UTC)
    LeadFactory(
        origin="marketing",
        promoted_version=1,
        created_at=late,
        promoted_at=late,
        assigned_at=late,
        status=Status.WON,
        owner=cast.rep,
        closed_at=late + datetime.timedelta(hours=1),  # 00:30 the next UTC day
    )
    assert compute()["groups"]["mql:v1"]["median_cycle_days_won"] == 1


def test_a_deal_closed_before_it_was_assigned_is_a_data_error_not_a_negative_cycle(cast):
    mql(cast.rep, status=Status.WON, assigned=10, closed=4, value=100)
    mql(cast.rep, status=Status.WON, assigned=0, closed=6, value=100)
    g = compute()["groups"]["mql:v1"]
    assert g["closed_before_start"] == 1
    assert g["won"] == 2 and g["won_value"] == 200  # still a won deal
    assert g["median_cycle_days_won"] == 6 and g["p75_cycle_days_won"] == 6


def test_a_lead_recycled_twice_is_one_recycled_mql_neither_open_nor_closed(cast):
    LeadFactory(origin="marketing", promoted_version=1, status=Status.NURTURE, recycled_count=2, created_at=day(0))
    mql(cast.rep, status=Status.WON, assigned=0, closed=5, recycled_count=2)  # recycled twice, then won
    LeadFactory(origin="marketing", status=Status.NURTURE, created_at=day(0))  # never reached sales
    data = compute(cohort=True)
    g = data["groups"]["recycled_mql"]
    assert (g["leads"], g["won"], g["open"], g["lost"]) == (2, 1, 0, 0)
    assert data["total"]["leads"] == 2
    assert "mql:v1" not in data["groups"]


def test_the_cycle_start_is_selectable_with_assignment_for_mqls_and_creation_for_rep_sourced_by_default(cast):
    mql(cast.rep, status=Status.WON, created=0, assigned=10, closed=30)
    cold_call(cast.rep, status=Status.WON, created=2, closed=32)
    groups = compute()["groups"]
    assert groups["mql:v1"]["median_cycle_days_won"] == 20
    assert groups["rep_sourced:cold_call"]["median_cycle_days_won"] == 30
    groups = compute(cycle_from="created")["groups"]
    assert groups["mql:v1"]["median_cycle_days_won"] == 30
    Lead.objects.filter(origin="marketing").update(first_contact_at=day(25))
    assert compute(cycle_from="first_contact")["groups"]["mql:v1"]["median_cycle_days_won"] == 5


def test_cohort_mode_counts_leads_that_entered_the_queue_in_the_period_and_shows_conversion(cast):
    mql(cast.rep, status=Status.WON, assigned=0, closed=40)
    mql(cast.rep, status=Status.WORKING, assigned=1)
    mql(cast.rep, status=Status.LOST, assigned=2, closed=3)
    mql(cast.rep, status=Status.WON, assigned=60, closed=70)  # entered later
    period = {"since": day(0).date(), "until": day(10).date()}
    g = compute(cohort=True, **period)["groups"]["mql:v1"]
    assert (g["leads"], g["won"], g["lost"], g["open"]) == (3, 1, 1, 1)
    assert g["conversion"] == round(1 / 3, 6) and g["win_rate"] == 0.5
    # Close-date mode: the deals closed in the period, conversion not shown.
    g = compute(since=day(0).date(), until=day(45).date())["groups"]["mql:v1"]
    assert (g["leads"], g["won"], g["lost"], g["conversion"]) == (2, 1, 1, None)


def test_filters_by_team_rep_version_source_and_campaign(cast):
    mql(cast.rep, status=Status.WON, assigned=0, closed=5, source="webinar", campaign="spring")
    mql(cast.teammate, status=Status.WON, assigned=0, closed=5, version=2, source="ads")
    mql(cast.other_rep, status=Status.WON, assigned=0, closed=5)
    assert compute(team_id=cast.team.id)["total"]["won"] == 2
    assert compute(rep_id=cast.rep.id)["total"]["won"] == 1
    assert compute(version=2)["total"]["won"] == 1
    assert compute(source="webinar")["total"]["won"] == 2
    assert compute(campaign="spring")["total"]["won"] == 1
    assert set(compute(group_by="version")["groups"]) == {"v1", "v2"}
    assert compute(group_by="team")["groups"]["East"]["won"] == 2


def test_the_kaplan_meier_median_counts_open_deals_as_censored(cast):
    rng = random.Random(12)
    won, open_ages = [], []
    for _ in range(40):
        start = rng.randint(0, 100)
        if rng.random() < 0.6:
            length = rng.randint(0, 60)
            mql(cast.rep, status=Status.WON, assigned=start, closed=start + length)
            won.append(length)
        else:
            mql(cast.rep, status=Status.WORKING, assigned=start)
            open_ages.append((NOW.date() - day(start).date()).days)
    g = compute()["groups"]
    g = compute(cohort=True)["groups"]["mql:v1"]
    assert g["km_median_cycle_days"] == expected.kaplan_meier_median(won, open_ages)
    assert g["median_cycle_days_won"] == expected.percentile_linear(won, 0.5)


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 2), (5, 40), (39, 40), (412, 800)])
def test_the_wilson_interval_matches_its_formula(k, n):
    low, high = wilson(k, n)
    exp_low, exp_high = expected.wilson(k, n)
    assert low == pytest.approx(exp_low, abs=1e-12) and high == pytest.approx(exp_high, abs=1e-12)
    assert wilson(0, 0) is None


def _sides(cast, *, open_deals: bool, mql_won=25, mql_lost=5, cold_won=20, cold_lost=20):
    for i in range(mql_won):
        mql(cast.rep, status=Status.WON, assigned=0, closed=10 + i % 7)
    for _ in range(mql_lost):
        mql(cast.rep, status=Status.LOST, assigned=0, closed=5)
    for i in range(cold_won):
        cold_call(cast.rep, status=Status.WON, created=0, closed=60 + i % 30)
    for _ in range(cold_lost):
        cold_call(cast.rep, status=Status.LOST, created=0, closed=30)
    if open_deals:
        mql(cast.rep, status=Status.WORKING, assigned=100)
        cold_call(cast.rep, status=Status.WORKING, created=50)


def test_the_verdict_uses_log_rank_when_deals_are_open_and_chi_square_for_large_cells(cast):
    _sides(cast, open_deals=True)
    data = compute(cohort=True)
    v = data["verdict"]
    mql_cycles = [10 + i % 7 for i in range(25)]
    cold_cycles = [60 + i % 30 for i in range(20)]
    mql_ages = [(NOW.date() - day(100).date()).days]
    cold_ages = [(NOW.date() - day(50).date()).days]
    exp = stats.logrank(
        x=stats.CensoredData(uncensored=mql_cycles, right=mql_ages),
        y=stats.CensoredData(uncensored=cold_cycles, right=cold_ages),
    )
    assert v["cycle_test"] == "log-rank" and v["cycle_p"] == pytest.approx(exp.pvalue)
    table = [[25, 31 - 25], [20, 41 - 20]]
    assert v["rate_test"] == "chi-square"
    assert v["rate_p"] == pytest.approx(stats.chi2_contingency(table).pvalue)
    assert v["text"].startswith(
        f"Marketing-qualified leads closed in a median of {expected.percentile_linear(mql_cycles, 0.5):g} days "
        f"against {expected.percentile_linear(cold_cycles, 0.5):g} for rep-sourced leads (log-rank p "
    )
    assert "25 vs 20 deals" in v["text"] and "chi-square" in v["text"]


def test_the_verdict_uses_mann_whitney_without_open_deals_and_fisher_for_small_cells(cast):
    _sides(cast, open_deals=False, mql_won=22, mql_lost=2, cold_won=18, cold_lost=4)
    v = compute()["verdict"]
    mql_cycles = [10 + i % 7 for i in range(22)]
    cold_cycles = [60 + i % 30 for i in range(18)]
    exp = stats.mannwhitneyu(mql_cycles, cold_cycles, alternative="two-sided")
    assert v["cycle_test"] == "Mann–Whitney" and v["cycle_p"] == pytest.approx(exp.pvalue)
    assert v["rate_test"] == "Fisher's exact test"
    assert v["rate_p"] == pytest.approx(stats.fisher_exact([[22, 2], [18, 4]]).pvalue)


def test_below_twenty_closed_deals_a_side_the_verdict_says_too_few_to_tell(cast):
    _sides(cast, open_deals=True, cold_won=10, cold_lost=9)
    v = compute()["verdict"]
    assert v["text"].startswith("Too few closed deals to tell")
    assert v["cycle_test"] is None and v["rate_test"] is None


def test_group_figures_takes_any_grouping_of_leads(cast):
    """The preview's backtest groups leads by a version's verdict: any SQL grouping works."""
    a = mql(cast.rep, status=Status.WON, assigned=0, closed=8)
    b = mql(cast.rep, status=Status.WORKING, assigned=0)
    lead_set = LeadSet(
        group_sql="s.grp",
        from_sql="leads_lead l JOIN unnest(%s::bigint[], %s::text[]) AS s(id, grp) ON s.id = l.id",
        from_params=[[a.id, b.id], ["above", "below"]],
    )
    figures = group_figures(lead_set, now=NOW, cohort=True)
    assert figures["above"]["conversion"] == 1 and figures["below"]["conversion"] == 0
    rows = group_rows(lead_set, now=NOW)
    assert side_from_row("x", rows["groups"]["above"]).won_cycles == [8.0]
    assert verdict(side_from_row("a", None), side_from_row("b", None), cohort=True)["rate_test"] is None


def test_first_contact_compliance_per_group_is_the_slas_own_figure(cast):
    from leads.clock.selectors import compliance
    from leads.models import ClockOutcome, FirstContactClock
    from tests.factories import make_clock

    met = mql(cast.rep, status=Status.WON, assigned=0, closed=5)
    late = mql(cast.rep, status=Status.WORKING, assigned=1)
    cold_call(cast.rep, status=Status.WON, created=0, closed=30)
    for lead, outcome in ((met, ClockOutcome.MET), (late, ClockOutcome.BREACHED)):
        clock = make_clock(
            lead=lead, started_at=lead.assigned_at, due_at=lead.assigned_at + datetime.timedelta(hours=24)
        )
        FirstContactClock.objects.filter(pk=clock.pk).update(outcome=outcome, ended_at=lead.assigned_at)
    data = compute(cohort=True)
    expected_sla = compliance(clocks=FirstContactClock.objects.all(), now=NOW)
    g = data["groups"]["mql:v1"]
    assert (g["sla_met"], g["sla_came_due"], g["sla_compliance"]) == (1, 2, expected_sla.rate) == (1, 2, 0.5)
    assert data["groups"]["rep_sourced:cold_call"]["sla_compliance"] is None
    assert (data["total"]["sla_met"], data["total"]["sla_came_due"]) == (1, 2)
    assert g["median_hours_to_first_contact"] == 0  # first contact at assignment in these rows


def test_the_pure_percentile_agrees_with_postgresql_percentile_cont(db):
    from django.db import connection

    from leads.figures import percentile_cont

    rng = random.Random(7)
    for _ in range(30):
        values = [rng.randint(0, 200) for _ in range(rng.randint(1, 40))]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT percentile_cont(ARRAY[0.5, 0.75]) WITHIN GROUP (ORDER BY v) FROM unnest(%s::int[]) v",
                [values],
            )
            assert cursor.fetchone()[0] == [percentile_cont(values, 0.5), percentile_cont(values, 0.75)]
    assert percentile_cont([], 0.5) is None


def test_the_kaplan_meier_median_agrees_with_scipys_survival_function():
    from leads.figures import km_median

    rng = random.Random(3)
    for _ in range(50):
        events = [rng.randint(0, 90) for _ in range(rng.randint(1, 60))]
        censored = [rng.randint(0, 120) for _ in range(rng.randint(0, 60))]
        sf = stats.ecdf(stats.CensoredData(uncensored=events, right=censored)).sf
        from_scipy = next(
            (float(t) for t, s in zip(sf.quantiles, sf.probabilities, strict=True) if s <= 0.5 + 1e-12), None
        )
        assert km_median(events, censored) == from_scipy == expected.kaplan_meier_median(events, censored)
    assert km_median([], [3]) is None


def test_unknown_touch_counts_are_skipped_and_a_group_without_any_says_unknown(cast):
    for touches in (4, None, 6):
        mql(cast.rep, status=Status.WON, closed=10, value=Decimal(1000), touches=touches)
    mql(cast.rep, status=Status.LOST, closed=5, touches=None, version=2)
    data = comparison_compute(params=ComparisonParams(), now=NOW)
    # Won: 4, unknown, 6 -> the median of what is known, not of (0, 4, 6).
    assert data["groups"]["mql:v1"]["median_touches_won"] == 5
    # v2's one deal was lost with its touches unknown: unknown, never 0.
    assert data["groups"]["mql:v2"]["median_touches_lost"] is None
