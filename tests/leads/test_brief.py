"""The lead brief: everything a rep needs before the first call, on one page."""

import datetime
import random
from decimal import Decimal

import pytest
from django.http import Http404
from django.urls import reverse
from django.utils.html import escape

from leads import history
from leads.models import (
    EngagementEvent,
    EventKind,
    FirstContactClock,
    Lead,
    LeadHistory,
    Origin,
    Status,
    Touch,
    TouchKind,
)
from leads.queue.selectors import BRIEF_EVENTS_LIMIT, brief_lead_get
from leads.queue.selectors import brief as brief_select
from leads.selectors import lead_get_for_user
from tests.factories import EngagementEventFactory, TouchFactory, make_clock, make_queue_lead

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)

PROMOTION = {
    "version": 4,
    "total": 81,
    "fit": 50,
    "behaviour": 31,
    "threshold": 60,
    "passes_gates": True,
    "qualifies": True,
    "gates": [{"id": "g1", "label": "Not a competitor", "passed": True}],
    "rules": [
        {"id": "r1", "label": "Director or above", "type": "fit", "points": 30},
        {"id": "r2", "label": "Visited pricing twice", "type": "behaviour", "points": 31},
    ],
}


def brief_url(lead) -> str:
    return reverse("leads:brief", kwargs={"lead_id": lead.pk})


@pytest.fixture
def lead(cast):
    lead = make_queue_lead(
        rep=cast.rep,
        at=T0,
        first_name="Ada",
        last_name="Byron",
        title="VP Engineering",
        company="Analytical Engines",
        industry="Manufacturing",
        company_size=420,
        country="UK",
        source="webinar",
        campaign="Spring launch",
        phone="+44 20 1234",
        promoted_version=4,
        promotion_explanation=PROMOTION,
        score=10,
        score__explanation={
            "version": 5,
            "total": 10,
            "rules": [{"id": "x", "label": "Later rule", "type": "fit", "points": 10}],
        },
    )
    EngagementEventFactory(lead=lead, kind=EventKind.PRICING_PAGE_VIEW)
    EngagementEventFactory(lead=lead, kind=EventKind.PRICING_PAGE_VIEW)
    EngagementEventFactory(lead=lead, kind=EventKind.WEBINAR_ATTENDED, properties={"title": "Scaling engines"})
    history.promoted(version=5, score=81, threshold=60, explanation={}).write(lead=lead, at=T0)
    return lead


def test_the_brief_explains_why_the_lead_qualified_and_who_it_is(cast, client, lead):
    client.force_login(cast.rep)
    content = client.get(brief_url(lead)).content.decode()
    # Why: the version and rules frozen at promotion, not the later score.
    assert "v4" in content
    assert "Director or above" in content and "Visited pricing twice" in content
    assert "Not a competitor" in content
    explained = content.split('data-testid="score-explanation"')[1].split('data-testid="current-score"')[0]
    assert "Later rule" not in explained
    # Profile, company, source and campaign.
    for text in ("Ada Byron", "VP Engineering", "Analytical Engines", "Manufacturing", "420", "Spring launch"):
        assert text in content
    # Engagement timeline with counts, and the history.
    assert "Pricing page view × 2" in content and "Scaling engines" in content
    assert "Promoted to the sales queue: Score 81 reached the threshold 60 of definition v5" in content
    # The clock in words, its timeline, and the forms to work the lead.
    assert 'data-testid="clock-left"' in content and 'data-testid="sla-timeline"' in content
    assert f"Assigned to {lead.owner}: first contact within 1 day (hours)." in content
    assert 'data-testid="touch-form"' in content and 'data-testid="reject-form"' in content


def test_the_brief_falls_back_to_the_current_score_explanation(cast, client, lead):
    lead.promotion_explanation = {}
    lead.save()
    client.force_login(cast.rep)
    assert "Later rule" in client.get(brief_url(lead)).content.decode()


def test_the_brief_shows_prior_touches(cast, client, lead):
    TouchFactory(lead=lead, rep=cast.rep, kind=TouchKind.EMAIL, outcome="sent", notes="Sent the deck")
    client.force_login(cast.rep)
    assert "Sent the deck" in client.get(brief_url(lead)).content.decode()


def test_the_brief_makes_a_fixed_number_of_queries(cast, client, lead, django_assert_num_queries):
    client.force_login(cast.rep)
    client.get(brief_url(lead))
    # user (the session comes from the cache), lead (+owner, team), and one statement for the
    # events (counted by kind from the rows when they are all the lead's), touches, history, the
    # lead's clocks (read once for the time left and the timeline) and the people they name
    with django_assert_num_queries(3):
        client.get(brief_url(lead))
    for n in range(25):
        EngagementEventFactory(lead=lead, kind=EventKind.PAGE_VIEW)
        TouchFactory(lead=lead, rep=cast.rep if n % 2 else cast.teammate, notes=f"touch {n}")
        history.updated(field="phone", old="", new="+1 555").write(lead=lead, at=T0, actor=cast.manager)
    with django_assert_num_queries(3):
        content = client.get(brief_url(lead)).content.decode()
    assert "Page view × 25" in content and "Pricing page view × 2" in content
    # Rows naming users in their payload: those users come in the same statement.
    for n in range(12):
        old, new = (cast.rep, cast.teammate) if n % 2 else (cast.teammate, cast.rep)
        history.reassigned(old_owner=old, owner=new, note="Cover").write(lead=lead, at=T0, actor=cast.manager)
    with django_assert_num_queries(3):
        content = client.get(brief_url(lead)).content.decode()
    assert escape(f"Reassigned from {cast.teammate} to {cast.rep} by {cast.manager}") in content
    # More events than the brief lists (BRIEF_EVENTS_LIMIT): their counts by kind come from one more query.
    for _ in range(30):
        EngagementEventFactory(lead=lead, kind=EventKind.PAGE_VIEW)
    with django_assert_num_queries(4):
        content = client.get(brief_url(lead)).content.decode()
    assert "Page view × 55" in content and "Pricing page view × 2" in content


def test_the_manager_reads_the_brief_but_gets_no_forms(cast, client, lead):
    client.force_login(cast.manager)
    response = client.get(brief_url(lead))
    assert response.status_code == 200
    assert 'data-testid="touch-form"' not in response.content.decode()


@pytest.mark.parametrize("who", ["teammate", "other_rep", "other_manager"])
def test_other_sales_users_get_404(cast, client, lead, who):
    client.force_login(getattr(cast, who))
    assert client.get(brief_url(lead)).status_code == 404


def test_marketing_is_sent_elsewhere_with_403(cast, client, lead):
    client.force_login(cast.marketer)
    assert client.get(brief_url(lead)).status_code == 403


def test_pool_leads_have_no_brief_even_for_admins(cast, client, leads):
    client.force_login(cast.admin)
    assert client.get(brief_url(leads.pool)).status_code == 404


def test_a_rep_sourced_brief_says_so_and_offers_no_rejection(cast, client):
    lead = make_queue_lead(rep=cast.rep, at=T0, origin=Origin.REP_SOURCED, rep_source_channel="event", sla_due_at=None)
    client.force_login(cast.rep)
    content = client.get(brief_url(lead)).content.decode()
    assert "You sourced this prospect yourself (event)" in content
    assert 'data-testid="reject-form"' not in content
    assert "No first-contact clock" in content


def test_a_closed_lead_has_no_forms(cast, client):
    lead = make_queue_lead(rep=cast.rep, at=T0, status=Status.WON, sla_due_at=None, deal_value=100)
    client.force_login(cast.rep)
    content = client.get(brief_url(lead)).content.decode()
    assert 'data-testid="touch-form"' not in content and 'data-testid="stage-form"' not in content


def test_an_uncontacted_lead_offers_only_lost_until_first_contact(cast, client, lead):
    client.force_login(cast.rep)
    response = client.get(brief_url(lead))
    assert [value for value, _ in response.context["stage_form"].fields["status"].choices] == ["lost"]
    assert 'data-testid="stage-hint"' in response.content.decode()

    lead.status, lead.first_contact_at, lead.sla_due_at = Status.CONTACTED, T0, None
    lead.save()
    response = client.get(brief_url(lead))
    assert [value for value, _ in response.context["stage_form"].fields["status"].choices] == [
        "working",
        "opportunity",
        "won",
        "lost",
    ]


def test_the_brief_shows_one_score_of_each_kind_labelled_and_why_they_differ(cast, client, lead):
    client.force_login(cast.rep)
    content = client.get(brief_url(lead)).content.decode()
    # The big figure is the score at promotion, labelled; today's score is labelled beside it.
    assert 'data-testid="score-total-label">Score at promotion<' in content
    assert 'data-testid="current-score-total">10<' in content
    why = content.split('data-testid="score-difference"')[1].split("</div>")[0]
    assert "v4 then, v5 now" in why
    assert "Later rule: +0 then, +10 now." in why
    assert "Director or above: +30 then, +0 now." in why


def test_the_reasons_a_score_moved_name_the_definition_and_each_rule():
    from leads.scores import score_change_reasons

    rules = [{"id": "a", "label": "Pricing visits", "points": 20}, {"id": "b", "label": "Director", "points": 30}]
    then = {"version": 3, "total": 50, "rules": rules}
    assert score_change_reasons(at_promotion=then, current={**then}) == []
    assert score_change_reasons(at_promotion=then, current={}) == []
    decayed = {"version": 3, "total": 42, "rules": [{**rules[0], "points": 12}, rules[1]]}
    assert score_change_reasons(at_promotion=then, current=decayed) == ["Pricing visits: +20 then, +12 now."]
    profile = {"version": 3, "total": 45, "rules": rules}  # totals differ, rules the same: not named
    assert score_change_reasons(at_promotion=then, current=profile) == [
        "Its engagement or profile changed since the promotion."
    ]


HOUR = datetime.timedelta(hours=1)


def _fields(obj) -> dict:
    """Every column's value, as repr: Decimal("12000.5") is not Decimal("12000.50") here."""
    return {f.attname: repr(getattr(obj, f.attname)) for f in type(obj)._meta.concrete_fields}


def test_the_briefs_one_statement_reads_what_the_orm_reads(cast, lead):
    """queue.selectors.brief reads its lists as JSON in one statement; every field of every row,
    the people named and the history's sentences equal what the ORM's own queries give."""
    rng = random.Random(5)
    kinds = [EventKind.PAGE_VIEW, EventKind.PRICING_PAGE_VIEW, EventKind.CONTENT_DOWNLOAD]
    for n in range(60):  # more than the brief lists
        properties = rng.choice([{}, {"url": f"/p/{n}?a=1&b=2"}, {"title": f'"Guide" {n}', "nested": {"x": [1, 2.5]}}])
        at = T0 + datetime.timedelta(minutes=rng.randrange(600), microseconds=rng.randrange(10**6))
        EngagementEventFactory(lead=lead, kind=rng.choice(kinds), occurred_at=at, properties=properties)
    for n in range(7):
        at = T0 + datetime.timedelta(hours=n, microseconds=n)
        TouchFactory(lead=lead, rep=rng.choice([cast.rep, cast.teammate]), occurred_at=at, notes=f"n{n}" * n)
    for n in range(6):
        old, new = (cast.rep, cast.teammate) if n % 2 else (cast.teammate, cast.rep)
        history.reassigned(old_owner=old, owner=new, note="Cover").write(lead=lead, at=T0, actor=cast.manager)
    history.updated(field="phone", old="", new="+1 555").write(lead=lead, at=T0, actor=None)
    clock = FirstContactClock.objects.get(lead=lead)
    FirstContactClock.objects.filter(pk=clock.pk).update(
        outcome="reassigned", ended_at=T0 + datetime.timedelta(hours=2)
    )
    make_clock(lead=lead, started_at=T0 + datetime.timedelta(hours=2), due_at=T0 + datetime.timedelta(hours=26))

    data = brief_select(lead=lead)

    events = list(EngagementEvent.objects.filter(lead=lead).order_by("-occurred_at", "-id")[:BRIEF_EVENTS_LIMIT])
    touches = list(Touch.objects.filter(lead=lead).select_related("rep").order_by("-occurred_at", "-id"))
    rows = history.sentences(
        LeadHistory.objects.filter(lead=lead).select_related("actor").order_by("-created_at", "-id")
    )
    clocks = list(FirstContactClock.objects.filter(lead=lead).select_related("rep").order_by("-started_at", "-id"))
    assert [_fields(e) for e in data.events] == [_fields(e) for e in events]
    assert [(_fields(t), str(t.rep)) for t in data.touches] == [(_fields(t), str(t.rep)) for t in touches]
    assert [(_fields(h), str(h.actor), h.sentence) for h in data.history] == [
        (_fields(h), str(h.actor), h.sentence) for h in rows
    ]
    assert [(_fields(c), str(c.rep)) for c in data.clocks] == [(_fields(c), str(c.rep)) for c in clocks]
    assert len(data.clocks) == 2 and data.clocks[1].warn_at and len(data.history) > 6
    assert data.event_total == EngagementEvent.objects.filter(lead=lead).count() > BRIEF_EVENTS_LIMIT


def test_the_briefs_lead_read_in_one_statement_is_the_orms(cast, lead, django_assert_num_queries):
    """brief_lead_get(with_score=True) reads the lead, owner, team, score and legend as JSON in one
    statement: every field equals lead_get_for_user's (decimals to the cent, JSON floats as floats),
    the related objects are cached as select_related caches them, and access is the door's."""
    Lead.objects.filter(pk=lead.pk).update(
        deal_value=Decimal("12000.50"),
        annual_revenue=Decimal("1500000.05"),
        attributes={"ratio": 0.25, "tags": ["a", "b"], "n": 3},
    )
    unscored = make_queue_lead(rep=cast.rep, at=T0, score=None, deal_value=None)
    nurture = make_queue_lead(rep=cast.rep, at=T0, status=Status.NURTURE, owner=None, sla_hours=None)
    for user, target in [(cast.rep, lead), (cast.manager, lead), (cast.admin, lead), (cast.rep, unscored)]:
        expected = lead_get_for_user(user=user, lead_id=target.pk, with_score=True)
        with django_assert_num_queries(1):
            got = brief_lead_get(user=user, lead_id=target.pk, with_score=True)
            related = (got.owner, got.team, got.scorecard_or_none, got.scorecard_or_none and got.scorecard.legend)
        assert _fields(got) == _fields(expected)
        assert [_fields(x) if x else x for x in related] == [
            _fields(x) if x else x
            for x in (
                expected.owner,
                expected.team,
                expected.scorecard_or_none,
                expected.scorecard_or_none and expected.scorecard.legend,
            )
        ]
        assert got.score == expected.score and got.score_explanation == expected.score_explanation
    assert str(lead_get_for_user(user=cast.rep, lead_id=lead.pk).deal_value) == "12000.50"
    assert unscored.score is None
    for user, target in [(cast.other_rep, lead), (cast.rep, nurture), (cast.admin, nurture)]:
        with pytest.raises(Http404):
            brief_lead_get(user=user, lead_id=target.pk, with_score=True)
