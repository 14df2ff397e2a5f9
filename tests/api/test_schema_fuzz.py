"""Schemathesis against the API's own schema, in-process: generated requests to every operation,
with a real key and real members, must never get a 5xx nor a response that breaks the schema."""

import json

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from merchants.models import ApiScope
from merchants.services import api_key_create
from tests.factories import MemberFactory, RewardFactory

# The schema as /api/schema/ serves it (drf-spectacular's generator), the requests to the app in-process.
schema = schemathesis.openapi.from_dict(json.loads(json.dumps(SchemaGenerator().get_schema(public=True), default=str)))


@pytest.fixture
def in_process():
    """As Django's test client does: a request must not close the test's database connection."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield get_wsgi_application()  # made now, after the test settings (plain http) are in place
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def key(merchant, program):
    MemberFactory(merchant=merchant)
    RewardFactory(merchant=merchant, points_cost=5)
    return api_key_create(merchant=merchant, name="Fuzz", scope=ApiScope.FULL, by=None)[1]


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_schema(case, key, in_process):
    case.call_and_validate(
        app=in_process,
        headers={"Authorization": f"Bearer {key}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
