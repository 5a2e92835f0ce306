"""What every page pays before its view runs, and what the hot pages pay in all (issue 15 point 9)."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def test_a_logged_in_page_reads_its_session_from_the_cache_not_the_database(client, cast):
    client.force_login(cast.rep)
    assert client.get("/leads/queue/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/leads/queue/").status_code == 200
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"]]


def test_a_flushed_cache_logs_nobody_out(client, cast):
    client.force_login(cast.rep)
    cache.clear()  # a Redis restart
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/leads/queue/")
    assert response.status_code == 200 and response.context["user"] == cast.rep
    assert [q for q in queries.captured_queries if "django_session" in q["sql"]]  # read from its row


def test_logging_out_ends_the_session_in_the_cache_too(client, cast):
    client.force_login(cast.rep)
    assert client.get("/leads/queue/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/leads/queue/").status_code == 302
