"""A rep's queue: only their own leads, most urgent first, filters, a fixed number of queries."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from leads.models import Origin, Status
from leads.queue.selectors import QueueFilters, my_queue
from tests.factories import LeadFactory, make_queue_lead

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
NOW = T0 + datetime.timedelta(hours=12)


def hours(n: float) -> datetime.datetime:
    return T0 + datetime.timedelta(hours=n)


def test_the_queue_holds_only_the_reps_own_leads(cast, leads):
    mine = make_queue_lead(rep=cast.rep, at=T0)
    assert set(my_queue(user=cast.rep, now=NOW)) == {leads.rep_owned, mine}
    assert leads.teammate_owned not in my_queue(user=cast.rep, now=NOW)
    assert leads.pool not in my_queue(user=cast.rep, now=NOW)


def test_the_most_urgent_first_contact_deadline_comes_first(cast):
    later = make_queue_lead(rep=cast.rep, at=hours(-1), sla_hours=10)
    sooner = make_queue_lead(rep=cast.rep, at=hours(-20), sla_hours=24)
    contacted = make_queue_lead(
        rep=cast.rep, at=hours(-30), status=Status.CONTACTED, sla_due_at=None, last_activity_at=hours(5)
    )
    working_old = make_queue_lead(
        rep=cast.rep, at=hours(-40), status=Status.WORKING, sla_due_at=None, last_activity_at=hours(1)
    )
    assert list(my_queue(user=cast.rep, now=NOW)) == [sooner, later, contacted, working_old]


def test_the_queue_filters_by_status_source_origin_overdue_and_search(cast):
    overdue = make_queue_lead(rep=cast.rep, at=hours(-30), source="webinar", company="Overdue Ltd")
    fresh = make_queue_lead(rep=cast.rep, at=hours(0), source="ebook", first_name="Zelda")
    working = make_queue_lead(rep=cast.rep, at=hours(-50), status=Status.WORKING, sla_due_at=None, source="ebook")
    own = make_queue_lead(rep=cast.rep, at=hours(0), origin=Origin.REP_SOURCED, sla_due_at=None, source="")
    won = make_queue_lead(rep=cast.rep, at=hours(-90), status=Status.WON, sla_due_at=None, closed_at=hours(-2))

    def ids(**filters):
        return {lead.pk for lead in my_queue(user=cast.rep, filters=QueueFilters(**filters), now=NOW)}

    assert ids() == {overdue.pk, fresh.pk, working.pk, own.pk}
    assert ids(status="closed") == {won.pk}
    assert ids(status="all") == {overdue.pk, fresh.pk, working.pk, own.pk, won.pk}
    assert ids(status="working") == {working.pk}
    assert ids(source="ebook") == {fresh.pk, working.pk}
    assert ids(origin="rep_sourced") == {own.pk}
    assert ids(origin="marketing") == {overdue.pk, fresh.pk, working.pk}
    assert ids(overdue=True) == {overdue.pk}
    assert ids(q="zelda") == {fresh.pk}
    assert ids(q="overdue ltd") == {overdue.pk}
    assert ids(q=overdue.email.upper()) == {overdue.pk}


def test_the_page_shows_countdown_score_source_and_activity(cast, client):
    lead = make_queue_lead(rep=cast.rep, at=T0, score=87, source="webinar", touch_count=2)
    client.force_login(cast.rep)
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("leads:my_queue"))
    content = response.content.decode()
    # Assigned at T0 with 24 h: 12 h in, past the 50% warning; in words, never "12h 00m".
    assert 'data-state="warning"' in content and "12 h left" in content and "due tomorrow 09:00" in content
    assert ">87<" in content
    assert "webinar" in content
    assert "2 Mar 2026, 09:00" in content  # last activity, in the rep's time zone (UTC here)
    assert reverse("leads:brief", kwargs={"lead_id": lead.pk}) in content


def test_the_page_marks_rep_sourced_leads_and_applies_filters(cast, client):
    make_queue_lead(rep=cast.rep, at=T0, origin=Origin.REP_SOURCED, rep_source_channel="referral", sla_due_at=None)
    make_queue_lead(rep=cast.rep, at=T0, source="webinar")
    client.force_login(cast.rep)
    response = client.get(reverse("leads:my_queue"), {"origin": "rep_sourced"})
    assert len(response.context["leads"]) == 1
    assert "Rep-sourced" in response.content.decode() and "Referral" in response.content.decode()


def test_a_lead_with_no_name_or_email_is_shown_by_its_crm_id(cast, client, django_assert_num_queries):
    lead = make_queue_lead(rep=cast.rep, at=T0, first_name="", last_name="", email=None, external_id="CRM-7")
    client.force_login(cast.rep)
    client.get(reverse("leads:my_queue"))
    with django_assert_num_queries(6):  # as for any page: the fallback reads no deferred field
        content = client.get(reverse("leads:my_queue")).content.decode()
    assert f'data-lead-id="{lead.pk}"' in content and ">CRM-7</a>" in content and ">None<" not in content


def test_bad_filters_fall_back_to_the_open_queue(cast, client):
    make_queue_lead(rep=cast.rep, at=T0)
    client.force_login(cast.rep)
    response = client.get(reverse("leads:my_queue"), {"status": "bogus", "origin": "aliens"})
    assert response.status_code == 200
    assert len(response.context["leads"]) == 1


def test_the_queue_is_paginated(cast, client):
    for n in range(30):
        make_queue_lead(rep=cast.rep, at=hours(-n))
    client.force_login(cast.rep)
    first = client.get(reverse("leads:my_queue"))
    second = client.get(reverse("leads:my_queue"), {"page": 2})
    assert len(first.context["leads"]) == 25 and len(second.context["leads"]) == 5
    assert not {lead.pk for lead in first.context["leads"]} & {lead.pk for lead in second.context["leads"]}
    assert "?page=2" in first.content.decode()


def test_the_page_makes_the_same_number_of_queries_for_1_or_30_leads(cast, client, django_assert_num_queries):
    client.force_login(cast.rep)
    make_queue_lead(rep=cast.rep, at=T0, source="webinar")
    client.get(reverse("leads:my_queue"))  # warm the session
    # user (the session comes from the cache; the rep's team comes with the user), the page of
    # leads with the list's length, the page's clocks, free to cold-call (the policy with one
    # aggregate, and the names of the overdue leads: leads assigned in March are long overdue),
    # and one aggregate for the summary strip and the source filter's choices.
    with django_assert_num_queries(6):
        one = client.get(reverse("leads:my_queue"))
    for n in range(29):
        make_queue_lead(rep=cast.rep, at=hours(-n), source=f"source {n % 4}", touch_count=n)
    with django_assert_num_queries(6):
        thirty = client.get(reverse("leads:my_queue"), {"q": "", "source": "", "status": "open"})
    assert one.context["page"].paginator.count == 1
    assert thirty.context["page"].paginator.count == 30
    assert thirty.context["sources"] == ["source 0", "source 1", "source 2", "source 3", "webinar"]


def test_the_api_lists_the_callers_queue_with_filters(cast, leads, api):
    overdue = make_queue_lead(rep=cast.rep, at=T0 - datetime.timedelta(days=3))
    client = api.as_user(cast.rep)

    body = client.get(reverse("api-queue")).json()
    assert [row["id"] for row in body["results"]] == [overdue.pk, leads.rep_owned.pk]
    assert body["results"][0]["overdue"] is True
    assert [row["score"] for row in body["results"]] == [72, leads.rep_owned.score]

    only_overdue = client.get(reverse("api-queue"), {"overdue": "true"}).json()
    assert [row["id"] for row in only_overdue["results"]] == [overdue.pk]

    theirs = api.as_user(cast.teammate).get(reverse("api-queue")).json()
    assert [row["id"] for row in theirs["results"]] == [leads.teammate_owned.pk]

    bad = client.get(reverse("api-queue"), {"status": "nurture"})
    assert bad.status_code == 400 and "status" in bad.json()["fields"]


def test_the_api_queue_makes_the_same_number_of_queries_for_1_or_30_leads(cast, api, django_assert_num_queries):
    client = api.as_user(cast.rep)
    make_queue_lead(rep=cast.rep, at=T0, score=64)
    client.get(reverse("api-queue"))  # warm the token
    with django_assert_num_queries(3):  # token+user, count, page (scores joined)
        client.get(reverse("api-queue"))
    for n in range(29):
        make_queue_lead(rep=cast.rep, at=hours(-n), score=None if n % 3 else 50 + n)
    with django_assert_num_queries(3):
        body = client.get(reverse("api-queue")).json()
    assert body["count"] == 30 and {row["score"] for row in body["results"]} >= {None, 64, 50}


def test_the_api_queue_is_refused_to_other_roles(cast, api):
    for user in (cast.marketer, cast.manager, cast.admin):
        assert api.as_user(user).get(reverse("api-queue")).status_code == 403


def test_nurture_leads_never_appear_even_if_an_owner_was_left_behind(cast):
    # The DB forbids an owned nurture lead; a queued one with no owner never shows either.
    LeadFactory(status=Status.QUEUED, team=cast.team)
    assert list(my_queue(user=cast.rep, filters=QueueFilters(status="all"), now=NOW)) == []


def test_the_summary_strip_counts_the_reps_open_leads_by_deadline_and_filters_the_list(cast, client):
    import zoneinfo

    from accounts.models import User

    # 12:00 UTC is 13:00 in Paris: "today" runs to Paris midnight (23:00 UTC).
    now = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)
    User.objects.filter(pk=cast.rep.pk).update(timezone="Europe/Paris")
    due = {
        "late": now - datetime.timedelta(hours=3),
        "later": now - datetime.timedelta(days=6),
        "soon": now + datetime.timedelta(minutes=40),
        "tonight": now + datetime.timedelta(hours=10, minutes=30),  # 22:30 UTC = 23:30 Paris
        "tomorrow": now + datetime.timedelta(hours=11, minutes=30),  # 00:30 Paris tomorrow
    }
    made = {name: make_queue_lead(rep=cast.rep, at=T0, sla_due_at=at, company=name) for name, at in due.items()}
    own = make_queue_lead(
        rep=cast.rep, at=T0, origin=Origin.REP_SOURCED, rep_source_channel="referral", sla_due_at=None
    )
    make_queue_lead(rep=cast.rep, at=T0, origin=Origin.REP_SOURCED, status="won", sla_due_at=None)  # closed
    make_queue_lead(rep=cast.teammate, at=T0, sla_due_at=due["late"])  # someone else's
    client.force_login(cast.rep)

    def listed(**params) -> set[int]:
        with time_machine.travel(now, tick=False):
            response = client.get(reverse("leads:my_queue"), params)
        return response, {lead.pk for lead in response.context["leads"]}

    response, _ = listed()
    summary = response.context["summary"]
    # Counted independently from the deadlines above.
    tonight_paris = datetime.datetime(2026, 3, 11, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    assert summary.overdue == sum(at < now for at in due.values()) == 2
    assert summary.due_within_hour == sum(now <= at < now + datetime.timedelta(hours=1) for at in due.values()) == 1
    assert summary.due_today == sum(now <= at < tonight_paris for at in due.values()) == 2
    assert summary.rep_sourced_open == 1
    html = response.content.decode()
    assert 'href="?due=overdue"' in html and 'href="?origin=rep_sourced"' in html
    assert listed(due="overdue")[1] == {made["late"].pk, made["later"].pk}
    assert listed(due="hour")[1] == {made["soon"].pk}
    assert listed(due="today")[1] == {made["soon"].pk, made["tonight"].pk}
    assert listed(origin="rep_sourced")[1] == {own.pk}
    filtered = listed(due="overdue")[0].content.decode()
    assert "Showing overdue leads" in filtered and 'aria-current="true"' in filtered
