"""page_with_count: Paginator's page, read with the list's length in one query."""

import pytest
from django.core.paginator import Paginator
from django.db.models import F

from leadhandoff.paging import page_with_count
from leads.models import Lead
from tests.factories import LeadFactory


@pytest.mark.django_db
def test_every_page_number_gives_paginators_page_in_one_query(django_assert_num_queries):
    LeadFactory.create_batch(7)
    leads = Lead.objects.order_by(F("id").desc())
    for number in ["1", "2", "3", 2, None, ""]:
        expected = Paginator(leads, 3).get_page(number)
        expected_ids = [lead.pk for lead in expected]
        with django_assert_num_queries(1):
            page = page_with_count(leads, number, 3)
            assert [lead.pk for lead in page] == expected_ids
            assert (page.number, page.paginator.count, page.paginator.num_pages) == (expected.number, 7, 3)
            assert (page.start_index(), page.end_index(), page.has_next()) == (
                expected.start_index(),
                expected.end_index(),
                expected.has_next(),
            )
    # Past the end, not a number, zero: Paginator's own answers (the last page, the first page).
    for number in ["4", "99", "abc", "0", "-1", "1.5"]:
        expected = Paginator(leads, 3).get_page(number)
        page = page_with_count(leads, number, 3)
        assert ([lead.pk for lead in page], page.number) == ([lead.pk for lead in expected], expected.number)


@pytest.mark.django_db
def test_an_empty_list_is_one_empty_page():
    page = page_with_count(Lead.objects.order_by("id"), "1", 25)
    assert (list(page), page.number, page.paginator.count, page.paginator.num_pages) == ([], 1, 0, 1)


@pytest.mark.django_db
def test_a_page_of_values_carries_the_count_and_only_the_values(django_assert_num_queries):
    LeadFactory.create_batch(4)
    values = Lead.objects.order_by("id").values("id", "email")
    with django_assert_num_queries(1):
        page = page_with_count(values, "2", 3)
    assert page.paginator.count == 4 and list(page) == list(values[3:])
