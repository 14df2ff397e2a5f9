"""API tests: a shop with its rules, a key for it, and a client that sends the key."""

import itertools
import json

import pytest
from django.test import Client

from merchants.models import ApiScope
from merchants.services import api_key_create
from tests.factories import MemberFactory, ProgramFactory
from tests.rewards import conftest as rewards_fixtures

_keys = itertools.count(1)
program = rewards_fixtures.program


class Api:
    """A test client speaking JSON with a shop's key; POSTs get a fresh Idempotency-Key unless given."""

    def __init__(self, raw: str) -> None:
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    def get(self, path: str, **params):
        return self.client.get(path, params)

    def post(self, path: str, data: dict | None = None, *, key: str | None = None):
        headers = {"Idempotency-Key": key or f"test-{next(_keys)}"}
        return self.client.post(path, json.dumps(data or {}), content_type="application/json", headers=headers)

    def patch(self, path: str, data: dict):
        return self.client.patch(path, json.dumps(data), content_type="application/json")


@pytest.fixture
def api(merchant, program):
    _key, raw = api_key_create(merchant=merchant, name="Till 1", scope=ApiScope.FULL, by=None)
    return Api(raw)


@pytest.fixture
def reader(merchant, program):
    _key, raw = api_key_create(merchant=merchant, name="Reports", scope=ApiScope.READ, by=None)
    return Api(raw)


@pytest.fixture
def theirs(other_merchant):
    """The other shop's key."""
    ProgramFactory(merchant=other_merchant)
    _key, raw = api_key_create(merchant=other_merchant, name="Their till", scope=ApiScope.FULL, by=None)
    return Api(raw)


@pytest.fixture
def their_member(other_merchant):
    return MemberFactory(merchant=other_merchant)


@pytest.fixture
def customer(merchant, program):
    return MemberFactory(merchant=merchant, first_name="Aminah", phone="+60123456789", email="aminah@example.com")
