"""POST /api/v1/events/: single events and batches, set-based, idempotent on retry."""

import datetime
import threading

import pytest
import time_machine
from django.db import connection

from leads.intake.services import EVENTS_BATCH_MAX
from leads.models import EngagementEvent, HistoryAction, Lead, LeadHistory, Status
from leads.signals import lead_activity
from tests.factories import EngagementEventFactory, LeadFactory

URL = "/api/v1/events/"
NOW = datetime.datetime(2025, 3, 10, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def activity():
    sent: list[list[int]] = []

    def receiver(sender, lead_ids, **kwargs):
        sent.append(list(lead_ids))

    lead_activity.connect(receiver, weak=False, dispatch_uid="test-events-activity")
    yield sent
    lead_activity.disconnect(dispatch_uid="test-events-activity")


def event(**overrides) -> dict:
    return {"kind": "page_view", "occurred_at": "2025-03-10T09:00:00Z", **overrides}


def post(api, user, payload):
    return api.as_user(user).post(URL, payload, format="json")


def test_an_event_for_an_unknown_email_creates_the_nurture_lead(
    cast, api, activity, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api, cast.marketer, event(email="New@Visitor.com", kind="pricing_page_view"))
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "received": 1,
        "accepted": 1,
        "stored": 1,
        "duplicates": 0,
        "leads_created": 1,
        "rejected": [],
    }
    lead = Lead.objects.get()
    assert lead.email == "New@Visitor.com" and lead.status == Status.NURTURE and lead.owner is None
    assert lead.created_at == NOW
    assert lead.needs_rescore
    assert lead.last_activity_at == datetime.datetime(2025, 3, 10, 9, 0, tzinfo=datetime.UTC)
    stored = EngagementEvent.objects.get()
    assert (stored.lead, stored.kind, stored.received_at) == (lead, "pricing_page_view", NOW)
    assert LeadHistory.objects.get(lead=lead).action == HistoryAction.CREATED
    assert activity == [[lead.pk]]


def test_events_find_existing_leads_by_email_case_insensitively_or_external_id(cast, api):
    by_email = LeadFactory(email="known@acme.com", status=Status.ASSIGNED, owner=cast.rep, team=cast.team)
    by_ext = LeadFactory(email=None, external_id="crm-7")
    response = post(
        api,
        cast.marketer,
        [
            event(email="KNOWN@acme.com"),
            event(lead_external_id="crm-7", kind="webinar_attended"),
            event(lead_external_id="crm-7", email="someone-else@acme.com"),  # the external id decides
        ],
    )
    assert response.status_code == 201
    assert response.json()["leads_created"] == 0
    assert Lead.objects.count() == 2
    assert by_email.events.count() == 1
    assert by_ext.events.count() == 2


def test_a_batch_keeps_the_valid_events_and_reports_each_rejection(cast, api):
    batch = [
        event(email="ok1@acme.com"),
        event(email="ok2@acme.com", kind="telepathy"),
        event(email="not-an-email"),
        event(email="ok3@acme.com", occurred_at="last tuesday"),
        event(email="ok4@acme.com", colour="red"),
        event(),
        event(email="ok5@acme.com", occurred_at="2025-03-11T09:00:00Z"),
        event(email="ok6@acme.com", external_id="x" * 101),
        event(lead_external_id="nobody-has-this"),
        "not an object",
        event(email="ok7@acme.com", properties=["not", "a", "dict"]),
        event(email="ok8@acme.com", kind="demo_request", properties={"form": "contact"}),
    ]
    response = post(api, cast.marketer, batch)
    assert response.status_code == 201
    body = response.json()
    assert (body["received"], body["accepted"], body["stored"], body["leads_created"]) == (12, 2, 2, 2)
    assert [(r["index"], sorted(r["fields"])) for r in body["rejected"]] == [
        (1, ["kind"]),
        (2, ["email"]),
        (3, ["occurred_at"]),
        (4, ["colour"]),
        (5, ["email"]),
        (6, ["occurred_at"]),
        (7, ["external_id"]),
        (8, ["lead_external_id"]),
        (9, ["non_field_errors"]),
        (10, ["properties"]),
    ]
    assert set(Lead.objects.values_list("email", flat=True)) == {"ok1@acme.com", "ok8@acme.com"}
    assert EngagementEvent.objects.count() == 2


def test_a_retried_batch_stores_nothing_twice(cast, api, activity, django_capture_on_commit_callbacks):
    batch = [event(email=f"r{n}@acme.com", external_id=f"evt-{n}") for n in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        first = post(api, cast.marketer, batch)
    assert first.status_code == 201 and first.json()["stored"] == 5
    with django_capture_on_commit_callbacks(execute=True):
        retry = post(api, cast.marketer, batch + [event(email="r0@acme.com", external_id="evt-new")])
    assert retry.status_code == 201
    assert retry.json() | {"rejected": None} == {
        "received": 6,
        "accepted": 6,
        "stored": 1,
        "duplicates": 5,
        "leads_created": 0,
        "rejected": None,
    }
    with django_capture_on_commit_callbacks(execute=True):
        again = post(api, cast.marketer, batch)
    assert again.status_code == 200 and again.json()["duplicates"] == 5
    assert EngagementEvent.objects.count() == 6
    assert Lead.objects.count() == 5
    # The retry touched only the lead with a new event; the last one touched nothing.
    assert activity[1:] == [[Lead.objects.get(email="r0@acme.com").pk]]


def test_the_same_external_id_twice_in_one_batch_is_stored_once(cast, api):
    response = post(api, cast.marketer, [event(email="d@acme.com", external_id="e1")] * 2)
    assert response.json()["stored"] == 1 and response.json()["duplicates"] == 1


def test_last_activity_is_the_newest_event_and_never_goes_back(cast, api):
    lead = LeadFactory(email="act@acme.com", last_activity_at=datetime.datetime(2025, 3, 1, tzinfo=datetime.UTC))
    post(
        api,
        cast.marketer,
        [event(email="act@acme.com", occurred_at="2025-03-05T10:00:00+01:00"), event(email="act@acme.com")],
    )
    lead.refresh_from_db()
    assert lead.last_activity_at == datetime.datetime(2025, 3, 10, 9, 0, tzinfo=datetime.UTC)
    assert lead.needs_rescore
    post(api, cast.marketer, event(email="act@acme.com", occurred_at="2024-01-01T00:00:00Z"))
    lead.refresh_from_db()
    assert lead.last_activity_at == datetime.datetime(2025, 3, 10, 9, 0, tzinfo=datetime.UTC)


def test_one_signal_per_batch_names_every_touched_lead(cast, api, activity, django_capture_on_commit_callbacks):
    known = LeadFactory(email="k@acme.com")
    with django_capture_on_commit_callbacks(execute=True):
        post(api, cast.marketer, [event(email="k@acme.com"), event(email="n1@acme.com"), event(email="n2@acme.com")])
    assert len(activity) == 1
    assert set(activity[0]) == set(Lead.objects.values_list("pk", flat=True)) and known.pk in activity[0]


def test_an_invalid_single_event_is_a_400_with_field_messages(cast, api):
    response = post(api, cast.marketer, event(email="x@acme.com", kind="nope"))
    assert response.status_code == 400
    body = response.json()
    assert body["fields"] == {"kind": ["'nope' is not a known event kind."]}
    assert body["rejected"] == [{"index": 0, "fields": body["fields"]}]
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([event(email=f"b{n}@acme.com") for n in range(EVENTS_BATCH_MAX + 1)], "at most 1000"),
        ([], "empty"),
        ("just a string", "Give one event object or a list"),
    ],
)
def test_an_unusable_batch_is_a_400_and_stores_nothing(cast, api, payload, message):
    response = post(api, cast.marketer, payload)
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not Lead.objects.exists() and not EngagementEvent.objects.exists()


def test_a_full_batch_of_1000_is_accepted(cast, api):
    response = post(api, cast.marketer, [event(email=f"b{n % 300}@acme.com") for n in range(EVENTS_BATCH_MAX)])
    assert response.status_code == 201
    assert response.json()["stored"] == 1000 and response.json()["leads_created"] == 300


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_sales_may_not_post_events(cast, api, role):
    response = post(api, getattr(cast, role), event(email="s@acme.com"))
    assert response.status_code == 403
    assert not EngagementEvent.objects.exists()


def test_a_batch_costs_the_same_few_queries_at_any_size(cast, api, django_assert_num_queries):
    client = api.as_user(cast.marketer)
    EngagementEventFactory(lead=LeadFactory(email="warm@acme.com"))
    client.post(URL, event(email="warm@acme.com"), format="json")  # the token exists from here on

    def batch(prefix: str, size: int) -> list[dict]:
        known = [event(email="warm@acme.com", external_id=f"{prefix}-k{n}") for n in range(size)]
        new = [event(email=f"{prefix}{n}@acme.com", kind="email_click") for n in range(size)]
        return known + new

    # token+user, savepoint, lead lookup, lead insert, history insert, event insert, lead update, release
    with django_assert_num_queries(8):
        assert client.post(URL, batch("small", 2), format="json").status_code == 201
    with django_assert_num_queries(8):
        assert client.post(URL, batch("large", 400), format="json").status_code == 201


def test_events_of_a_lead_read_back_through_the_api_newest_first(cast, leads, api):
    post(
        api,
        cast.marketer,
        [
            event(email="mine@x.com", occurred_at="2025-03-01T00:00:00Z", kind="email_click"),
            event(email="mine@x.com", occurred_at="2025-03-02T00:00:00Z", kind="demo_request"),
        ],
    )
    response = api.as_user(cast.rep).get(f"/api/v1/leads/{leads.rep_owned.pk}/events/")
    assert response.status_code == 200
    assert [e["kind"] for e in response.json()["results"]] == ["demo_request", "email_click"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_naming_the_same_new_emails_make_one_lead_each(cast):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=cast.marketer).key
    emails = [f"shared{n}@acme.com" for n in range(50)]
    workers = 4
    barrier = threading.Barrier(workers)
    codes: list[int] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            # Each worker names the emails in its own order (and case) to shake out lock-order bugs.
            mine = emails[n:] + emails[:n]
            batch = [event(email=e.upper() if n % 2 else e, external_id=f"w{n}-{e}") for e in mine]
            barrier.wait(timeout=10)
            codes.append(client.post(URL, batch, format="json").status_code)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and codes == [201] * workers
    assert Lead.objects.count() == 50
    assert EngagementEvent.objects.count() == 50 * workers
    assert LeadHistory.objects.filter(action=HistoryAction.CREATED).count() == 50
