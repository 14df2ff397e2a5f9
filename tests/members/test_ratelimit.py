"""The rate limits' counting (members.ratelimit), on the in-process cache and on Redis, where every
worker must see one count."""

import time

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from loyalty.cache import PooledRedisCache
from members.models import Member
from members.ratelimit import Budget, limits_hit, limits_refund, retry_message

START = 1_800_000_000  # on the hour


@pytest.fixture(params=["memory", "redis"])
def any_cache(request):
    """Each test once on the embedded default (each process's memory) and once on Redis."""
    if request.param == "redis":
        return request.getfixturevalue("redis_cache")
    return caches["default"]


@pytest.fixture
def clock(monkeypatch):
    now = [START]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def test_the_hit_after_the_limit_is_refused(any_cache, clock):
    budget = Budget("test", "k", limit=3, seconds=60)

    allowed = [limits_hit(budget) for _ in range(3)]

    assert allowed == [None, None, None]
    assert limits_hit(budget) == 60


def test_the_wait_is_until_the_window_ends(any_cache, clock):
    budget = Budget("test", "k", limit=1, seconds=15 * 60)
    clock[0] += 4 * 60 + 30
    limits_hit(budget)

    assert limits_hit(budget) == 10 * 60 + 30


def test_the_next_window_starts_from_zero(any_cache, clock):
    budget = Budget("test", "k", limit=1, seconds=60)
    limits_hit(budget)
    limits_hit(budget)
    clock[0] += 60

    assert limits_hit(budget) is None


def test_each_key_has_its_own_count(any_cache, clock):
    limits_hit(Budget("test", "a", limit=1, seconds=60))

    assert limits_hit(Budget("test", "b", limit=1, seconds=60)) is None


def test_a_hit_is_refused_when_any_of_its_budgets_is_spent(any_cache, clock):
    address = Budget("test-ip", "10.0.0.1", limit=2, seconds=60)
    limits_hit(address, Budget("test-contact", "a", limit=5, seconds=60))
    limits_hit(address, Budget("test-contact", "b", limit=5, seconds=60))

    assert limits_hit(address, Budget("test-contact", "c", limit=5, seconds=60)) == 60


def test_a_refund_gives_one_hit_back(any_cache, clock):
    budget = Budget("test", "k", limit=1, seconds=60)
    limits_hit(budget)
    limits_refund(budget)

    assert limits_hit(budget) is None


def test_on_redis_another_workers_connection_sees_the_same_count(redis_cache, settings, clock):
    budget = Budget("test", "k", limit=2, seconds=60)
    limits_hit(budget)
    limits_hit(budget)

    # A second client with its own connection pool, as another gunicorn worker has.
    other = PooledRedisCache(settings.CACHES["default"]["LOCATION"], {"KEY_PREFIX": "t"})
    assert other.get(f"ratelimit:test:k:{START // 60}") == 2


def test_on_redis_the_sign_up_limit_holds_across_clients(redis_cache, merchant, settings):
    settings.SIGNUP_PER_ADDRESS_PER_HOUR = 1
    url = reverse("public:signup", args=[merchant.slug])

    first = Client().post(url, {"key": "a", "first_name": "Siti", "phone": "012-345 6781"})
    second = Client().post(url, {"key": "b", "first_name": "Adam", "phone": "012-345 6782"})

    assert (first.status_code, second.status_code) == (302, 429)
    assert list(Member.objects.values_list("phone", flat=True)) == ["+60123456781"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (30, "try again in 1 minute."),
        (14 * 60 + 1, "try again in 15 minutes."),
        (5 * 60 * 60, "try again in 5 hours."),
    ],
)
def test_the_message_says_when_in_minutes_or_hours(seconds, text):
    assert text in retry_message(seconds)
