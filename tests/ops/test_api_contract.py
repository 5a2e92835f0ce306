"""The schema tells the truth: paginated lists documented as pages, enums complete,
JSON errors under /api/ for every status, paging parameters checked."""

import json

import pytest

pytestmark = pytest.mark.django_db

PAGINATED = (
    "/api/v1/leads/",
    # The four documented as plain arrays before:
    "/api/v1/queue/",
    "/api/v1/leads/{lead_id}/touches/",
    "/api/v1/rejections/",
    "/api/v1/definitions/versions/",
)


@pytest.fixture
def schema(api, cast):
    response = api.as_user(cast.admin).get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_every_paginated_list_is_documented_as_pages(schema):
    for path in PAGINATED:
        operation = schema["paths"][path]["get"]
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.rsplit("/", 1)[1].startswith("Paginated") and ref.endswith("List"), (path, ref)
        assert {"page", "page_size"} <= {p["name"] for p in operation["parameters"]}, path
        page = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert {"count", "next", "previous", "results"} <= set(page["properties"]), path


def test_a_blank_rep_source_channel_is_within_the_documented_values(schema):
    channel = schema["components"]["schemas"]["LeadOutput"]["properties"]["rep_source_channel"]
    refs = [option.get("$ref", "").rsplit("/", 1)[-1] for option in channel.get("oneOf", [])]
    values = {v for name in refs if name for v in schema["components"]["schemas"][name]["enum"]}
    assert "" in values and "cold_call" in values


def test_every_operation_documents_the_error_answers(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert {"400", "401", "403", "404", "405"} <= set(operation["responses"]), (method, path)


def test_a_404_under_the_api_answers_json(api, cast):
    for client in (api.as_user(cast.admin), api.as_user(None)):
        response = client.get("/api/v1/no-such-thing/")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Not found."}


def test_a_404_outside_the_api_stays_a_page(client, cast):
    client.force_login(cast.admin)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("query", ["page_size=null", "page_size=abc", "page_size=0", "page_size=201", "page_size="])
def test_an_invalid_page_size_is_refused(api, cast, query):
    for path in ("/api/v1/leads/", "/api/v1/definitions/versions/", "/api/v1/rejections/"):
        response = api.as_user(cast.admin).get(f"{path}?{query}")
        assert response.status_code == 400, path
        assert list(response.json()["fields"]) == ["page_size"]


@pytest.mark.parametrize("query", ["page=abc", "page=0", "page=-1", "page=null"])
def test_an_invalid_page_number_is_refused(api, cast, query):
    response = api.as_user(cast.admin).get(f"/api/v1/leads/?{query}")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["page"]


def test_valid_paging_still_works(api, cast, leads):
    response = api.as_user(cast.admin).get("/api/v1/leads/?page_size=2&page=2")
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], len(body["results"])) == (5, 2)
    assert api.as_user(cast.admin).get("/api/v1/leads/?page=last&page_size=200").status_code == 200
    assert api.as_user(cast.admin).get("/api/v1/leads/?page=9").status_code == 404


def test_a_server_error_under_the_api_answers_json(rf):
    from leadhandoff.api import server_error

    response = server_error(rf.get("/api/v1/leads/"))
    assert (response.status_code, response["Content-Type"]) == (500, "application/json")
    assert "detail" in json.loads(response.content)
    page = server_error(rf.get("/leads/"))
    assert page.status_code == 500 and b"<html" in page.content.lower()


def test_a_forbidden_answer_under_the_api_answers_json(rf):
    from leadhandoff.api import permission_denied

    response = permission_denied(rf.get("/api/v1/leads/"))
    assert (response.status_code, response["Content-Type"]) == (403, "application/json")
