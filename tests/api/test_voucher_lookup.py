"""Looking a voucher up by its code (GET /api/v1/redemptions/?code=): found however it is typed, every
miss the same empty page, and wrong codes limited per key and per client address."""

import time

import pytest
from django.test import Client

from merchants.models import ApiScope
from merchants.services import api_key_create
from rewards.models import Redemption
from tests.factories import RewardFactory

from .conftest import Api

URL = "/api/v1/redemptions/"
START = 1_800_000_000  # on the hour


@pytest.fixture
def voucher(api, customer, merchant) -> dict:
    reward = RewardFactory(merchant=merchant, name="Free wash", points_cost=20)
    api.post("/api/v1/purchases/", {"member": customer.pk, "amount": "30.00"})
    return api.post(URL, {"member": customer.pk, "reward": reward.pk}).json()


@pytest.fixture
def their_voucher(theirs, their_member, other_merchant) -> dict:
    reward = RewardFactory(merchant=other_merchant, points_cost=20)
    theirs.post("/api/v1/purchases/", {"member": their_member.pk, "amount": "30.00"})
    return theirs.post(URL, {"member": their_member.pk, "reward": reward.pk}).json()


@pytest.fixture
def clock(monkeypatch):
    now = [START]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def key_from(merchant, address: str) -> Api:
    """Another key of the shop, calling from this client address."""
    api = Api(api_key_create(merchant=merchant, name=f"Till at {address}", scope=ApiScope.READ, by=None)[1])
    api.client = Client(HTTP_AUTHORIZATION=api.client.defaults["HTTP_AUTHORIZATION"], REMOTE_ADDR=address)
    return api


def found_ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize("typed", ["{code}", "{lower}", "{plain}", " {spaced} "])
def test_a_code_is_found_however_it_is_typed(api, voucher, typed):
    code = voucher["code"]
    text = typed.format(code=code, lower=code.lower(), plain=code.replace("-", ""), spaced=code.replace("-", " "))

    assert found_ids(api.get(URL, code=text)) == [voucher["id"]]


def test_a_code_issued_before_as_two_groups_of_four_is_still_found(api, voucher):
    Redemption.objects.filter(pk=voucher["id"]).update(code="ACDE-FGHJ")

    assert found_ids(api.get(URL, code="acde fghj")) == [voucher["id"]]


def test_every_miss_answers_byte_for_byte_alike(api, voucher, their_voucher):
    misses = [
        api.get(URL, code=their_voucher["code"]),  # another shop's voucher
        api.get(URL, code="ACDEF-GHJKM"),  # no voucher has it
        api.get(URL, code="ABC"),  # cannot be a code at all
    ]

    assert {(miss.status_code, miss.content) for miss in misses} == {
        (200, b'{"count":0,"next":null,"previous":null,"results":[]}')
    }


def test_wrong_codes_beyond_the_keys_limit_are_refused_even_the_right_one(api, voucher, settings, clock):
    settings.VOUCHER_MISSES_PER_KEY_PER_HOUR = 3
    for n in range(3):
        assert api.get(URL, code=f"ACDEF-GHJK{n + 3}").status_code == 200
    clock[0] += 15 * 60

    refused = api.get(URL, code=voucher["code"])

    assert refused.status_code == 429
    assert refused.json()["detail"] == "Too many attempts. Please try again in 45 minutes."
    assert refused["Retry-After"] == str(45 * 60)


def test_found_codes_do_not_use_up_the_budget(api, voucher, settings):
    settings.VOUCHER_MISSES_PER_KEY_PER_HOUR = 2

    answers = [api.get(URL, code=voucher["code"]).status_code for _ in range(5)]

    assert answers == [200] * 5


def test_another_key_from_the_same_address_is_limited_by_the_address(merchant, program, voucher, settings):
    settings.VOUCHER_MISSES_PER_ADDRESS_PER_HOUR = 2
    first, second = key_from(merchant, "10.0.0.7"), key_from(merchant, "10.0.0.7")
    first.get(URL, code="ACDEF-GHJK3")
    first.get(URL, code="ACDEF-GHJK4")

    assert second.get(URL, code=voucher["code"]).status_code == 429
    assert key_from(merchant, "10.0.0.8").get(URL, code=voucher["code"]).status_code == 200


def test_one_key_from_many_addresses_is_limited_by_the_key(merchant, program, voucher, settings):
    settings.VOUCHER_MISSES_PER_KEY_PER_HOUR = 2
    till = key_from(merchant, "10.0.0.1")
    for n in range(2):
        till.client.get(URL, {"code": f"ACDEF-GHJK{n + 3}"}, REMOTE_ADDR=f"10.0.1.{n}")

    assert till.client.get(URL, {"code": voucher["code"]}, REMOTE_ADDR="10.0.2.1").status_code == 429


def test_the_limit_lifts_in_the_next_hour(api, voucher, settings, clock):
    settings.VOUCHER_MISSES_PER_KEY_PER_HOUR = 1
    api.get(URL, code="ACDEF-GHJK3")
    assert api.get(URL, code=voucher["code"]).status_code == 429
    clock[0] += 60 * 60

    assert found_ids(api.get(URL, code=voucher["code"])) == [voucher["id"]]


def test_on_redis_the_limit_holds_for_a_new_client(redis_cache, api, voucher, settings):
    settings.VOUCHER_MISSES_PER_KEY_PER_HOUR = 1
    api.get(URL, code="ACDEF-GHJK3")

    again = Api(api.client.defaults["HTTP_AUTHORIZATION"].removeprefix("Bearer "))

    assert again.get(URL, code=voucher["code"]).status_code == 429
