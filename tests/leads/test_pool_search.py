"""The pool stays fast at a million leads: its search and activity sort read indexes.

A word search is one trigram lookup (lead_search_trgm_idx, leads.search), not a
substring scan of five columns over the whole pool; sorting by activity walks
lead_activity_sort_idx. A test table is too small for the planner to prefer
them, so each plan is read with the other indexes dropped and scans and sorts
priced out (tests.plans): the index shows in the plan only if the query's
expression, order and predicate match it (the figures at scale are bench territory).
"""

import datetime

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, Status
from leads.pool.filters import PoolFilter
from tests.factories import LeadFactory
from tests.plans import plan_with_only_index as _plan

pytestmark = pytest.mark.django_db

POOL = reverse("leads:pool")


@pytest.fixture
def crowded_pool():
    """Enough pool leads, analysed, for the planner to weigh its indexes."""
    Lead.objects.bulk_create(
        Lead(email=f"bulk{n}@example.org", first_name="Bulk", company=f"Company {n}", created_at=timezone.now())
        for n in range(2000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")


def _pool_qs(params: dict):
    return PoolFilter(params, queryset=Lead.objects.filter(status=Status.NURTURE), now=timezone.now()).qs


def test_a_word_search_reads_the_trigram_index(crowded_pool):
    LeadFactory(first_name="Ana", company="Acme")
    assert "lead_search_trgm_idx" in _plan(_pool_qs({"q": "ana acme"}), only_index="lead_search_trgm_idx")


def test_sorting_by_activity_either_way_reads_the_activity_index(crowded_pool):
    for sort in ("-activity", "activity"):
        plan = _plan(_pool_qs({"sort": sort}), only_index="lead_activity_sort_idx")
        assert "lead_activity_sort_idx" in plan, plan


@pytest.fixture
def marketer_client(cast) -> Client:
    client = Client()
    client.force_login(cast.marketer)
    return client


def test_the_search_finds_words_across_fields_in_any_case_and_only_in_the_pool(marketer_client):
    ana = LeadFactory(first_name="Ana", last_name="Ng", company="Acme Labs", email="ana@acme.io")
    LeadFactory(first_name="Ana", company="Globex", email="ana@globex.io")
    by_id = LeadFactory(email=None, external_id="CRM-4711", company="Initech")
    LeadFactory(first_name="Ana", company="Acme Labs", email="ana2@acme.io", status=Status.QUEUED)

    def found(q: str) -> set[int]:
        response = marketer_client.get(POOL, {"q": q})
        return {lead.pk for lead in response.context["leads"]}

    assert found("ana ACME") == {ana.pk}
    assert found("NG acme") == {ana.pk}
    assert found("@acme.io") == {ana.pk}
    assert found("crm-4711") == {by_id.pk}
    assert found("ana nobody") == set()


def test_sorting_by_activity_puts_never_active_leads_at_the_quiet_end(marketer_client):
    now = timezone.now()
    recent = LeadFactory(last_activity_at=now)
    older = LeadFactory(last_activity_at=now - datetime.timedelta(days=30))
    never = LeadFactory(last_activity_at=None)

    def order(sort: str) -> list[int]:
        return [lead.pk for lead in marketer_client.get(POOL, {"sort": sort}).context["leads"]]

    assert order("-activity") == [recent.pk, older.pk, never.pk]
    assert order("activity") == [never.pk, older.pk, recent.pk]


# --- Score order --------------------------------------------------------------------


@pytest.fixture
def scored_pool():
    """Pool leads with tied, distinct and missing scores, and a lead outside the pool."""
    totals = [40, None, 75, 40, 10, None, 75, 90, 40, None, 5]
    leads = []
    for n, total in enumerate(totals):
        industry = "Software" if n % 2 else "Retail"
        leads.append(LeadFactory(industry=industry) if total is None else LeadFactory(industry=industry, score=total))
    LeadFactory(score=99, status=Status.QUEUED)
    return leads


@pytest.mark.parametrize("sort", ["-score", "score"])
@pytest.mark.parametrize("params", [{}, {"industry": "Software"}])
def test_score_order_read_in_two_parts_is_the_one_order_by_on_every_slice(scored_pool, sort, params):
    from leads.pool.filters import POOL_SORTS
    from leads.pool.selectors import LeadsInScoreOrder

    queryset = _pool_qs(params)
    expected = [lead.id for lead in queryset.order_by(*POOL_SORTS[sort])]
    in_order = LeadsInScoreOrder(queryset, descending=sort == "-score")

    assert in_order.count() == len(expected)
    for start in range(len(expected) + 2):
        for stop in range(start, len(expected) + 3):
            assert [lead.id for lead in in_order[start:stop]] == expected[start:stop], (start, stop)


def test_the_pool_page_in_score_order_reads_the_score_index_without_sorting(scored_pool):
    from leads.pool.selectors import LeadsInScoreOrder

    scored = LeadsInScoreOrder(_pool_qs({}), descending=True)._scored
    sql, params = scored[:50].query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_incremental_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "leadscore_total_lead_idx" in plan and "Sort" not in plan, plan


def test_the_pool_page_pages_through_scored_then_unscored_leads(marketer_client, scored_pool, monkeypatch):
    monkeypatch.setattr("leads.pool.views.POOL_PAGE_SIZE", 4)
    pages = [
        [lead.pk for lead in marketer_client.get(POOL, {"sort": "-score", "page": n}).context["leads"]]
        for n in (1, 2, 3)
    ]
    scores = {lead.pk: lead.score for lead in scored_pool}
    flat = [pk for page in pages for pk in page]
    assert sorted(flat) == sorted(scores)  # every pool lead once
    assert [scores[pk] for pk in flat] == [90, 75, 75, 40, 40, 40, 10, 5, None, None, None]
