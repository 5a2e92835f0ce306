"""Marketing's nurture pool page, its CSV export and the lead page."""

import csv
import datetime
import io

import pytest
import time_machine
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from leads import history
from leads.models import Lead, RejectReason, Status, TouchKind, TouchOutcome
from tests.factories import EngagementEventFactory, LeadFactory, TouchFactory, lead_score_set

NOW = datetime.datetime(2025, 3, 10, 12, 0, tzinfo=datetime.UTC)
POOL = reverse("leads:pool")
EXPORT = reverse("leads:pool_export")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def marketer_client(cast) -> Client:
    client = Client()
    client.force_login(cast.marketer)
    return client


def pool_ids(client: Client, query: str = "") -> list[int]:
    response = client.get(POOL + query)
    assert response.status_code == 200
    return [lead.pk for lead in response.context["leads"]]


def days_ago(n: int) -> datetime.datetime:
    return NOW - datetime.timedelta(days=n)


# --- The list -----------------------------------------------------------------


def test_the_pool_lists_only_nurture_leads(marketer_client, leads):
    response = marketer_client.get(POOL)
    assert [lead.pk for lead in response.context["leads"]] == [leads.pool.pk]
    assert b"pool@nurture.com" in response.content
    assert b"mine@x.com" not in response.content and b"queued@x.com" not in response.content


def test_search_matches_name_email_and_company_word_by_word(marketer_client):
    ana = LeadFactory(first_name="Ana", last_name="Lima", email="ana@acme.com", company="Acme")
    bob = LeadFactory(first_name="Bob", last_name="Stone", email="bob@initech.com", company="Initech")
    assert pool_ids(marketer_client, "?q=lima") == [ana.pk]
    assert pool_ids(marketer_client, "?q=INITECH.com") == [bob.pk]
    assert pool_ids(marketer_client, "?q=ana+acme") == [ana.pk]
    assert pool_ids(marketer_client, "?q=ana+initech") == []


def test_filters_by_source_campaign_country_and_industry(marketer_client):
    match = LeadFactory(source="webinar", campaign="Q1", country="DE", industry="Retail")
    LeadFactory(source="webinar", campaign="Q1", country="DE", industry="Software")
    LeadFactory(source="ads", campaign="Q1", country="DE", industry="Retail")
    LeadFactory(source="webinar", campaign="Q2", country="US", industry="Retail")
    assert pool_ids(marketer_client, "?source=webinar&campaign=Q1&country=DE&industry=Retail") == [match.pk]


@pytest.mark.parametrize(
    ("band", "expected"),
    [("unscored", {None}), ("lt25", {0, 24}), ("25-49", {25, 49}), ("50-74", {50, 74}), ("75plus", {75, 100})],
)
def test_filters_by_score_band_at_its_edges(marketer_client, band, expected):
    for score in (None, 0, 24, 25, 49, 50, 74, 75, 100):
        LeadFactory(score=score)
    ids = pool_ids(marketer_client, f"?score_band={band}")
    assert set(Lead.objects.filter(pk__in=ids).values_list("scorecard__total", flat=True)) == expected


@pytest.mark.parametrize(
    ("window", "expected"),
    [("7", {"d0", "d7"}), ("30", {"d0", "d7", "d30"}), ("90", {"d0", "d7", "d30", "d90"}), ("older", {"d91"})],
)
def test_filters_by_last_activity_window(marketer_client, window, expected):
    for days in (0, 7, 30, 90, 91):
        LeadFactory(company=f"d{days}", last_activity_at=days_ago(days))
    LeadFactory(company="never", last_activity_at=None)
    ids = pool_ids(marketer_client, f"?activity={window}")
    assert set(Lead.objects.filter(pk__in=ids).values_list("company", flat=True)) == expected
    never = pool_ids(marketer_client, "?activity=never")
    assert list(Lead.objects.filter(pk__in=never).values_list("company", flat=True)) == ["never"]


def test_sorts_by_created_score_activity_and_company(marketer_client):
    a = LeadFactory(company="Beta", score=10, last_activity_at=days_ago(3), created_at=days_ago(1))
    b = LeadFactory(company="Alpha", score=None, last_activity_at=None, created_at=days_ago(3))
    c = LeadFactory(company="Gamma", score=80, last_activity_at=days_ago(1), created_at=days_ago(2))
    assert pool_ids(marketer_client) == [a.pk, c.pk, b.pk]  # newest first by default
    assert pool_ids(marketer_client, "?sort=created") == [b.pk, c.pk, a.pk]
    assert pool_ids(marketer_client, "?sort=-score") == [c.pk, a.pk, b.pk]  # not scored goes last
    assert pool_ids(marketer_client, "?sort=score") == [a.pk, c.pk, b.pk]
    assert pool_ids(marketer_client, "?sort=-activity") == [c.pk, a.pk, b.pk]
    assert pool_ids(marketer_client, "?sort=company") == [b.pk, a.pk, c.pk]
    assert pool_ids(marketer_client, "?sort=-company") == [c.pk, a.pk, b.pk]


def test_the_pool_pages_by_50_and_keeps_the_filters_in_page_links(marketer_client):
    for n in range(120):
        LeadFactory(source="ads", created_at=NOW - datetime.timedelta(minutes=n))
    LeadFactory(source="other")
    first = marketer_client.get(POOL + "?source=ads")
    assert len(first.context["leads"]) == 50
    assert first.context["page"].paginator.count == 120
    assert "?source=ads&amp;page=2" in first.content.decode()
    third = marketer_client.get(POOL + "?source=ads&page=3")
    assert len(third.context["leads"]) == 20
    seen = pool_ids(marketer_client, "?source=ads") + pool_ids(marketer_client, "?source=ads&page=2")
    assert len(set(seen)) == 100


def test_a_bad_filter_value_shows_an_error_and_still_lists(marketer_client):
    LeadFactory()
    response = marketer_client.get(POOL + "?score_band=legendary&sort=sideways")
    assert response.status_code == 200
    assert "score_band" in response.context["filter"].form.errors
    assert len(response.context["leads"]) == 1
    assert b"Select a valid choice" in response.content


def test_the_pool_page_makes_the_same_queries_whatever_its_size(marketer_client, django_assert_num_queries):
    LeadFactory.create_batch(3, last_activity_at=days_ago(1), score=40)
    marketer_client.get(POOL)
    # user (the session comes from the cache), the declared custom fields (their filters), count, page
    with django_assert_num_queries(4):
        marketer_client.get(POOL + "?sort=-score&activity=30")
    LeadFactory.create_batch(80, last_activity_at=days_ago(1), score=40, rejected_at=days_ago(2))
    with django_assert_num_queries(4):
        response = marketer_client.get(POOL + "?sort=-score&activity=30")
    assert len(response.context["leads"]) == 50


# --- The export -----------------------------------------------------------------


def export_rows(client: Client, query: str = "") -> list[dict]:
    response = client.get(EXPORT + query)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_export_streams_the_filtered_pool_only(marketer_client, leads):
    LeadFactory(email="ads@pool.com", source="ads", score=61, score__behaviour=21, score__passes_gates=False)
    rows = export_rows(marketer_client)
    assert {row["email"] for row in rows} == {"pool@nurture.com", "ads@pool.com"}
    assert next(row for row in rows if row["email"] == "pool@nurture.com")["score"] == ""  # not scored yet
    filtered = export_rows(marketer_client, "?source=ads")
    columns = ("email", "score", "fit_score", "behaviour_score", "passes_gates")
    assert [tuple(row[c] for c in columns) for row in filtered] == [("ads@pool.com", "61", "40", "21", "False")]


def test_the_export_defuses_spreadsheet_formulas(marketer_client):
    LeadFactory(email="f@pool.com", company='=HYPERLINK("http://evil")', first_name="+1")
    row = export_rows(marketer_client)[0]
    assert row["company"].startswith("'=")
    assert row["first_name"] == "'+1"


# --- The lead page --------------------------------------------------------------

EXPLANATION = {
    "version": 4,
    "total": 67,
    "fit": 45,
    "behaviour": 22,
    "threshold": 60,
    "gates": [{"id": "g1", "label": "Company has 50+ employees", "passed": True}],
    "rules": [
        {"id": "r1", "label": "Industry is Software", "type": "fit", "points": 45},
        {"id": "r2", "label": "Visited pricing", "type": "behaviour", "points": 22},
    ],
}


def test_the_lead_page_shows_profile_score_explanation_and_timeline(marketer_client, cast):
    lead = LeadFactory(
        email="ana@acme.com",
        company="Acme",
        title="CTO",
        score=67,
        score__explanation=EXPLANATION,
    )
    EngagementEventFactory(lead=lead, kind="pricing_page_view", occurred_at=days_ago(2))
    TouchFactory(lead=lead, rep=cast.rep, kind=TouchKind.CALL, outcome=TouchOutcome.NO_ANSWER, occurred_at=days_ago(1))
    history.created(note="Added by hand").write(lead=lead, at=days_ago(3), actor=cast.marketer)
    response = marketer_client.get(reverse("leads:lead_detail", args=[lead.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("ana@acme.com", "Acme", "CTO", "Company has 50+ employees", "Visited pricing", "+22", "threshold 60"):
        assert text in html, text
    assert 'data-testid="lead-score">67<' in html and "Passes the gates" in html
    assert [entry.kind for entry in response.context["timeline"]] == ["touch", "event", "history"]
    assert "Pricing page view" in html and "No answer" in html and "Created" in html


def test_the_lead_page_says_not_scored_yet_and_shows_a_rejection(marketer_client, cast):
    lead = LeadFactory(
        rejected_at=days_ago(1),
        rejected_by=cast.rep,
        reject_reason=RejectReason.NO_BUDGET,
        reject_note="Budget frozen until Q3",
        recycled_count=1,
    )
    html = marketer_client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert "Not scored yet." in html
    assert "Rejected by sales" in html and "No budget" in html and "Budget frozen until Q3" in html


def test_marketing_sees_any_lead_at_any_status(marketer_client, leads):
    for lead in (leads.pool, leads.rep_owned, leads.other_team, leads.team_queued):
        response = marketer_client.get(reverse("leads:lead_detail", args=[lead.pk]))
        assert response.status_code == 200
        assert lead.email in response.content.decode()
    assert marketer_client.get(reverse("leads:lead_detail", args=[999999])).status_code == 404


def test_the_lead_page_makes_a_fixed_number_of_queries(marketer_client, cast, django_assert_num_queries):
    lead = LeadFactory(rejected_by=cast.rep, rejected_at=days_ago(1))
    url = reverse("leads:lead_detail", args=[lead.pk])

    def grow(n: int) -> None:
        EngagementEventFactory.create_batch(n, lead=lead)
        TouchFactory.create_batch(n, lead=lead, rep=cast.rep)
        for _ in range(n):
            history.updated(field="phone", new="+1 555").write(lead=lead, at=NOW, actor=cast.marketer)

    grow(2)
    lead_score_set(lead, 67, explanation=EXPLANATION)
    # user (the session comes from the cache), lead (+owner, team, score, legend), rejected_by, events,
    # touches (+rep), history (+actor), the declared custom fields (their labels)
    with django_assert_num_queries(7):
        marketer_client.get(url)
    grow(20)
    with django_assert_num_queries(7):
        marketer_client.get(url)


def test_the_score_explanation_include_renders_any_explanation_dict():
    html = render_to_string("leads/_score_explanation.html", {"explanation": EXPLANATION})
    assert "67" in html and "v4" in html and "Industry is Software" in html and "+45" in html
    failed = render_to_string(
        "leads/_score_explanation.html",
        {"explanation": {**EXPLANATION, "gates": [{"id": "g", "label": "Not a student", "passed": False}]}},
    )
    assert 'aria-label="failed"' in failed and "Not a student" in failed
    assert "Not scored yet." in render_to_string("leads/_score_explanation.html", {"explanation": {}})
    assert "Not scored yet." in render_to_string("leads/_score_explanation.html", {})


def test_a_lead_in_the_sales_queue_shows_its_owner(marketer_client, leads):
    html = marketer_client.get(reverse("leads:lead_detail", args=[leads.rep_owned.pk])).content.decode()
    assert "Assigned" in html and "East" in html
    assert Lead.objects.get(pk=leads.rep_owned.pk).status == Status.ASSIGNED
