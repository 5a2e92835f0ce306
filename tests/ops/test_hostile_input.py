"""Hostile input answers 400 naming the field, stores nothing, never a 500.

Each case here answered 500 before: text PostgreSQL cannot store (NUL, lone
surrogates), an event in year 1 with a time zone, JSON nested 1,000 deep.
"""

import datetime
import json

import pytest
import time_machine

from leads.models import EngagementEvent, Lead
from scoring.models import DefinitionVersion
from tests.scoring.definition_helpers import sample_rules

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2025, 3, 10, 12, 0, tzinfo=datetime.UTC)
LEADS = "/api/v1/leads/"
EVENTS = "/api/v1/events/"
VERSIONS = "/api/v1/definitions/versions/"
TOKEN = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def post_raw(client, url, raw: bytes | str):
    return client.post(url, raw.encode() if isinstance(raw, str) else raw, content_type="application/json")


def event(**overrides) -> dict:
    return {"kind": "page_view", "occurred_at": "2025-03-10T09:00:00Z", "email": "ana@acme.com", **overrides}


def refused(response, field: str) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["fields"], body
    return body


# --- Leads ------------------------------------------------------------------


def test_a_nul_in_lead_attributes_is_refused_on_the_field(api, cast):
    client = api.as_user(cast.marketer)
    response = client.post(LEADS, {"email": "a@acme.com", "attributes": {"notes": "a\u0000b"}}, "json")
    body = refused(response, "attributes")
    assert "attributes.notes" in body["fields"]["attributes"][0]
    assert "NUL" in body["fields"]["attributes"][0]
    assert not Lead.objects.exists()


def test_a_nul_in_a_lead_attribute_name_is_refused(api, cast):
    response = api.as_user(cast.marketer).post(LEADS, {"email": "a@acme.com", "attributes": {"a\u0000": 1}}, "json")
    refused(response, "attributes")
    assert not Lead.objects.exists()


def test_a_lone_surrogate_in_a_lead_is_refused_on_the_field(api, cast):
    raw = b'{"email": "a@acme.com", "first_name": "\\ud800"}'
    body = refused(post_raw(api.as_user(cast.marketer), LEADS, raw), "first_name")
    assert "surrogate" in body["fields"]["first_name"][0]
    assert not Lead.objects.exists()


def test_a_valid_surrogate_pair_is_an_ordinary_character(api, cast):
    raw = b'{"email": "a@acme.com", "first_name": "Ana \\ud83d\\ude00"}'
    response = post_raw(api.as_user(cast.marketer), LEADS, raw)
    assert response.status_code == 201
    assert Lead.objects.get().first_name == "Ana \U0001f600"


def test_the_lead_service_refuses_what_the_parser_would(cast):
    # The CSV import and other callers reach lead_upsert without the API's parser.
    from leadhandoff.api import ApplicationError
    from leads.intake.services import lead_upsert

    with pytest.raises(ApplicationError) as exc:
        lead_upsert(data={"email": "a@acme.com", "company": "Ac\u0000me"}, actor=None, now=NOW)
    assert "company" in exc.value.fields
    with pytest.raises(ApplicationError) as exc:
        lead_upsert(data={"email": "a@acme.com", "attributes": {"x": ["\ud800"]}}, actor=None, now=NOW)
    assert exc.value.fields["attributes"] == [
        "attributes.x[0]: Text may not contain a lone surrogate (such as \\ud800); send valid UTF-8."
    ]
    assert not Lead.objects.exists()


# --- Events -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"properties": {"url": "/pricing\u0000"}}, "properties"),
        ({"properties": {"\u0000": "x"}}, "properties"),
        ({"external_id": "evt-\u0000"}, "external_id"),
        ({"lead_external_id": "crm-\u0000"}, "lead_external_id"),
        ({"email": "a\u0000@acme.com"}, "email"),
        ({"occurred_at": "0001-01-01T00:00:00+05:00"}, "occurred_at"),
        ({"occurred_at": "0001-01-01T00:00:00"}, "occurred_at"),
        ({"occurred_at": "1899-12-31T23:00:00-05:00"}, "occurred_at"),
    ],
)
def test_a_hostile_single_event_is_refused_on_its_field(api, cast, overrides, field):
    response = api.as_user(cast.marketer).post(EVENTS, event(**overrides), "json")
    body = refused(response, field)
    assert body["rejected"] == [{"index": 0, "fields": body["fields"]}]
    assert not EngagementEvent.objects.exists()
    assert not Lead.objects.exists()


def test_a_lone_surrogate_in_an_event_is_refused_on_its_field(api, cast):
    raw = b'{"kind": "page_view", "occurred_at": "2025-03-10T09:00:00Z", "email": "a@acme.com",'
    raw += b' "properties": {"q": "\\udfff"}, "\\ud800": 1}'
    body = refused(post_raw(api.as_user(cast.marketer), EVENTS, raw), "properties")
    assert "properties.q" in body["fields"]["properties"][0]
    assert body["fields"]["'\\ud800'"] == ["Unknown field."]
    assert not EngagementEvent.objects.exists()


def test_one_bad_event_in_a_full_batch_is_rejected_alone(api, cast):
    batch = [event(external_id=f"evt-{i}", email=f"p{i % 50}@acme.com") for i in range(1000)]
    batch[10]["properties"] = {"x": "\u0000"}
    batch[500]["occurred_at"] = "0001-01-01T00:00:00+05:00"
    raw = json.dumps(batch).replace('"evt-700"', '"evt-\\ud800"')
    response = post_raw(api.as_user(cast.marketer), EVENTS, raw)
    assert response.status_code == 201, response.content
    body = response.json()
    assert [r["index"] for r in body["rejected"]] == [10, 500, 700]
    assert list(body["rejected"][2]["fields"]) == ["external_id"]
    assert (body["received"], body["accepted"], body["stored"]) == (1000, 997, 997)
    assert EngagementEvent.objects.count() == 997


# --- Definitions ------------------------------------------------------------


def test_a_nul_in_a_rule_label_is_refused_on_rules(api, cast):
    rules = sample_rules()
    rules[1]["label"] = "Big\u0000 company"
    body = refused(api.as_user(cast.rep).post(VERSIONS, {"rules": rules}, "json"), "rules")
    assert "label" in body["fields"]["rules"][0]
    assert not DefinitionVersion.objects.exists()


def test_a_nul_in_a_rule_value_is_refused_on_rules(api, cast):
    rules = sample_rules()
    rules[2]["value"] = "soft\u0000ware"
    refused(api.as_user(cast.rep).post(VERSIONS, {"rules": rules}, "json"), "rules")
    assert not DefinitionVersion.objects.exists()


def test_a_nul_in_form_encoded_rules_is_refused(api, cast):
    response = api.as_user(cast.rep).post(VERSIONS, {"rules": "[\u0000]"})
    refused(response, "rules")
    assert not DefinitionVersion.objects.exists()


# --- Nesting ------------------------------------------------------------------


@pytest.mark.parametrize("url", [LEADS, EVENTS, VERSIONS])
def test_json_nested_1000_deep_is_refused_before_parsing(api, cast, url):
    raw = '{"email": "a@acme.com", "attributes": ' + "[" * 1000 + "]" * 1000 + "}"
    response = post_raw(api.as_user(cast.marketer), url, raw)
    refused(response, "non_field_errors")
    assert "nested too deeply" in response.json()["detail"]
    assert not Lead.objects.exists()


def test_deep_json_on_the_token_endpoint_is_refused_without_logging_in(api, cast):
    response = post_raw(api.as_user(None), TOKEN, "[" * 1000 + "]" * 1000)
    refused(response, "non_field_errors")


def test_a_nul_on_the_token_endpoint_is_a_400(api, cast):
    refused(api.as_user(None).post(TOKEN, {"username": "ad\u0000min", "password": "x"}, "json"), "username")
    refused(post_raw(api.as_user(None), TOKEN, b'{"username": "\\ud800", "password": "x"}'), "username")


def test_brackets_inside_strings_do_not_count_as_nesting(api, cast):
    response = api.as_user(cast.marketer).post(LEADS, {"email": "a@acme.com", "title": '\\"' + "[" * 100}, "json")
    assert response.status_code == 201


def test_nesting_up_to_the_limit_is_accepted(api, cast):
    from leadhandoff.parsers import JSON_MAX_DEPTH

    deep: object = 1
    for _ in range(JSON_MAX_DEPTH - 2):
        deep = {"x": deep}
    response = api.as_user(cast.marketer).post(LEADS, {"email": "a@acme.com", "attributes": deep}, "json")
    assert response.status_code == 201
