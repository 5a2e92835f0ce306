"""The lead table's sales-only indexes leave nurture leads out, and sales queries still read them.

Every insert and every non-HOT update of a lead pays for each index entry it makes.
The nurture pool holds most leads and takes the imports and the activity, but
nothing in the pool has an owner, a team or an outcome, so the indexes that only
the queue, the team dashboards and the comparison reports read are partial
(owner, team or closed date set). These tests keep both halves true: pool leads
make no entry, and the sales queries' predicates still imply the index's.
"""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from leads.models import Lead, Status
from leads.queue.selectors import my_queue
from leads.routing.selectors import team_unassigned_queue
from tests.factories import LeadFactory
from tests.plans import plan_with_only_index

pytestmark = pytest.mark.django_db

SALES_ONLY_INDEXES = {
    "lead_owner_queue_idx": "owner_id IS NOT NULL",
    "lead_team_status_idx": "team_id IS NOT NULL",
    "lead_origin_outcome_idx": "closed_at IS NOT NULL",
}


@pytest.fixture
def crowded_pool():
    Lead.objects.bulk_create(
        Lead(email=f"bulk{n}@example.org", company=f"Company {n}", created_at=timezone.now()) for n in range(2000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")


def _index_definition(index: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [index])
        (definition,) = cursor.fetchone()
    return definition


@pytest.mark.parametrize("index, predicate", SALES_ONLY_INDEXES.items())
def test_sales_only_indexes_leave_nurture_leads_out(index, predicate):
    definition = _index_definition(index)
    assert definition.endswith(f"WHERE ({predicate})"), definition
    # A pool lead matches none of the predicates (the model forbids an owner in the pool).
    pool_lead = LeadFactory(status=Status.NURTURE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM leads_lead WHERE id = %s AND ({predicate})", [pool_lead.pk])  # noqa: S608
        assert cursor.fetchone()[0] == 0


def test_a_reps_queue_reads_the_partial_owner_index(cast, crowded_pool):
    LeadFactory(status=Status.ASSIGNED, owner=cast.rep, team=cast.team)
    plan = plan_with_only_index(my_queue(user=cast.rep, now=timezone.now()), only_index="lead_owner_queue_idx")
    assert "lead_owner_queue_idx" in plan


def test_a_teams_unassigned_queue_reads_the_partial_team_index(cast, crowded_pool):
    LeadFactory(status=Status.QUEUED, team=cast.team)
    queryset = team_unassigned_queue(user=cast.manager, team_ids=[cast.team.pk])
    assert "lead_team_status_idx" in plan_with_only_index(queryset, only_index="lead_team_status_idx")


def test_closed_deals_by_origin_read_the_partial_outcome_index(cast, crowded_pool):
    LeadFactory(status=Status.WON, owner=cast.rep, team=cast.team, closed_at=timezone.now())
    queryset = Lead.objects.filter(
        origin="marketing",
        status__in=[Status.WON, Status.LOST],
        closed_at__gte=timezone.now() - datetime.timedelta(days=90),
    )
    assert "lead_origin_outcome_idx" in plan_with_only_index(queryset, only_index="lead_origin_outcome_idx")
