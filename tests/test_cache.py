"""The Redis cache as production configures it (loyalty.cache): one client per pool, and incr in one
round trip with the cache API's meaning (a missing key raises). Needs Redis: REDIS_URL (CI sets it)."""

import os

import pytest
from django.core.cache.backends.base import DEFAULT_TIMEOUT

from loyalty.cache import PooledRedisCache

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL (CI does)")


@pytest.fixture
def redis_cache():
    cache = PooledRedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": "test-cache", "TIMEOUT": DEFAULT_TIMEOUT})
    cache.delete_many(["count", "other"])
    yield cache
    cache.delete_many(["count", "other"])


def test_incr_counts_an_existing_key_and_refuses_a_missing_one(redis_cache):
    with pytest.raises(ValueError, match="not found"):
        redis_cache.incr("count")
    assert redis_cache.get("count") is None  # the refused increment created nothing
    redis_cache.set("count", 5)
    assert (redis_cache.incr("count"), redis_cache.incr("count", 3), redis_cache.get("count")) == (6, 9, 9)


def test_every_call_shares_one_client_per_pool(redis_cache):
    redis_cache.set("other", 1)
    client = redis_cache._cache.get_client("other", write=True)
    redis_cache.get("other")
    assert redis_cache._cache.get_client("count") is client
