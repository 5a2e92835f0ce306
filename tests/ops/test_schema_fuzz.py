"""Schemathesis over the served OpenAPI schema: no 5xx, and every answer as documented.

Every operation in /api/v1/schema/ gets generated requests (valid and invalid)
from an admin and from a marketer; the run fails on a server error or an answer whose status code,
content type or body the schema does not describe. The same examples on every
run (fixed seed, derandomized), bounded to a few minutes on a 2-core machine;
`make fuzz` raises the count and draws fresh examples (FUZZ_EXAMPLES, FUZZ_SEED).
"""

import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, seed, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from leadhandoff.wsgi import application
from tests.factories import LeadFactory, TeamFactory

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or 30)
SEED = os.environ.get("FUZZ_SEED")  # unset: the fixed, derandomized run of the test command
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(params=["admin", "marketer"])
def token(request, cast) -> str:
    # Something to find: leads in the pool and in a queue, a team (ids are small, so fuzzed ids hit them).
    TeamFactory()
    LeadFactory.create_batch(3)
    return Token.objects.create(user=getattr(cast, request.param)).key


@pytest.fixture
def wsgi_in_test_transaction():
    # Straight through the WSGI app, as Django's test client does it: the end of a
    # request must not close the connection that holds the test's transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _served_schema() -> dict:
    # The document /api/v1/schema/ serves (tests/ops/test_openapi.py reads it there),
    # built the same way here because the operations are collected before any user exists.
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


schema = schemathesis.openapi.from_dict(_served_schema())
schema.app = application


def _fuzz_settings(test):
    test = settings(
        max_examples=EXAMPLES,
        derandomize=SEED is None,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )(test)
    return seed(int(SEED))(test) if SEED else test


@pytest.mark.django_db
@schema.parametrize()
@_fuzz_settings
def test_every_operation_answers_as_documented(case, token, wsgi_in_test_transaction):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
