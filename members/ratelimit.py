"""Fixed-window rate limits on the shared cache, for public endpoints (sign-up, one-time codes).

With Redis as the cache every process shares the counts; the embedded default counts per process.
"""

from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: a header such as X-Forwarded-For can be forged by the client unless a
    # trusted proxy sets it, and the proxy is then the one to rate-limit by address.
    return request.META.get("REMOTE_ADDR", "")


def rate_limited(scope: str, key: str, *, limit: int, seconds: int) -> bool:
    """Count one hit for (scope, key); True when the window's limit is exceeded."""
    cache_key = f"ratelimit:{scope}:{key}"
    cache.add(cache_key, 0, seconds)
    try:
        hits = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, seconds)
        hits = 1
    return hits > limit
