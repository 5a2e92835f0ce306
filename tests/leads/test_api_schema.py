"""The OpenAPI schema is generated from the code and lists the intake endpoints cleanly."""

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

INTAKE_VIEWS = ("LeadListCreateApi", "LeadDetailApi", "LeadEventsApi", "EventIngestApi")
INTAKE_OPERATIONS = {
    "/api/v1/leads/": {"get", "post"},
    "/api/v1/leads/{lead_id}/": {"get"},
    "/api/v1/leads/{lead_id}/events/": {"get"},
    "/api/v1/events/": {"post"},
}


@pytest.fixture
def schema():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        generated = SchemaGenerator().get_schema(request=None, public=True)
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    return generated, messages


def test_the_schema_builds_valid_and_lists_the_intake_endpoints(schema):
    generated, _ = schema
    validate_schema(generated)
    for path, methods in INTAKE_OPERATIONS.items():
        assert path in generated["paths"], path
        assert methods <= set(generated["paths"][path]), path


def test_the_intake_endpoints_raise_no_schema_warnings(schema):
    _, messages = schema
    ours = [m for m in messages if any(view in m for view in INTAKE_VIEWS) or "leads/apis.py" in m]
    assert ours == []


def test_the_schema_documents_filters_bodies_and_errors(schema):
    generated, _ = schema
    paths = generated["paths"]
    list_params = {p["name"] for p in paths["/api/v1/leads/"]["get"]["parameters"]}
    assert {
        "status",
        "source",
        "campaign",
        "country",
        "industry",
        "origin",
        "owner",
        "search",
        "ordering",
    } <= list_params
    assert {"page", "page_size"} <= list_params
    post = paths["/api/v1/leads/"]["post"]
    assert {"200", "201", "400", "409"} <= set(post["responses"])
    lead_input = generated["components"]["schemas"]["LeadInputRequest"]["properties"]
    assert "status" not in lead_input and "owner" not in lead_input and "email" in lead_input
    events_body = generated["components"]["schemas"]["EventOrBatchRequest"]
    assert len(events_body["oneOf"]) == 2  # one event, or a list of them
    enums = [c.get("enum", []) for c in generated["components"]["schemas"].values()]
    assert any({"pricing_page_view", "demo_request"} <= set(values) for values in enums)


@pytest.mark.django_db
def test_the_schema_and_docs_pages_answer(client):
    schema_response = client.get("/api/v1/schema/")
    assert schema_response.status_code == 200
    assert b"/api/v1/events/" in schema_response.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_every_documented_400_is_the_one_error_shape(schema):
    generated, _ = schema
    refs = {
        response["content"]["application/json"]["schema"].get("$ref")
        for path, operations in generated["paths"].items()
        if path != "/api/v1/events/"  # its 400 is the ingest report, which carries detail and fields too
        for operation in operations.values()
        if isinstance(operation, dict)
        for code, response in operation.get("responses", {}).items()
        if code == "400" and "content" in response
    }
    assert refs == {"#/components/schemas/Error"}
    report = generated["components"]["schemas"]["EventIngestOutput"]["properties"]
    assert {"detail", "fields", "rejected"} <= set(report)
    assert set(generated["components"]["schemas"]["Error"]["properties"]) == {"detail", "fields"}
