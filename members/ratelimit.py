"""Fixed-window rate limits on the shared cache, for public endpoints (sign-up, one-time codes) and
voucher lookups by code.

A budget allows `limit` hits per window of `seconds`; windows are aligned on the clock (a 15-minute
window ends at :00, :15, :30, :45), so a refusal can say when the next window opens without asking the
cache for a key's time to live. At a window's edge a client may get up to twice the limit in a row;
the limits below are far from where that matters.

With Redis as the cache (REDIS_URL, production) every gunicorn worker and machine shares the counts.
The embedded default (no REDIS_URL) is each process's own memory: there a limit holds per process,
which is enough for `runserver` but not for several workers (a deploy check says so).
"""

import contextlib
import hashlib
import math
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import ngettext

MINUTE, HOUR, DAY = 60, 60 * 60, 24 * 60 * 60


def client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: a header such as X-Forwarded-For can be forged by the client unless a
    # trusted proxy sets it, and the proxy is then the one to rate-limit by address.
    return request.META.get("REMOTE_ADDR", "")


def contact_key(value: str) -> str:
    """A phone (E.164) or email (lowercase) as a rate-limit key: the shared cache never holds the
    address itself. Callers normalise first, so every way of writing one number shares one budget."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Budget:
    """`limit` hits per `seconds` for one key (an address, a contact, an API key) of one scope."""

    scope: str
    key: str
    limit: int
    seconds: int

    def _window(self, now: float) -> tuple[str, float]:
        window = int(now // self.seconds)
        return f"ratelimit:{self.scope}:{self.key}:{window}", (window + 1) * self.seconds - now


def _incr(cache_key: str, seconds: int) -> int:
    try:
        return cache.incr(cache_key)
    except ValueError:  # the window's first hit; add() loses to a hit from another worker at this moment
        return 1 if cache.add(cache_key, 1, seconds + 1) else cache.incr(cache_key)


def limits_hit(*budgets: Budget) -> int | None:
    """Count one hit on every budget: None when all allow it, else the seconds until the last
    exhausted budget's window ends (the earliest moment this request could pass).

    Every budget counts the hit, refused or not, so a client that keeps trying stays refused.
    """
    now = time.time()
    wait = None
    for budget in budgets:
        cache_key, left = budget._window(now)
        if _incr(cache_key, budget.seconds) > budget.limit:
            wait = max(wait or 0, math.ceil(left))
    return wait


def limits_refund(*budgets: Budget) -> None:
    """Give back one hit on each budget: for hits that should not count (a voucher code found)."""
    now = time.time()
    for budget in budgets:
        with contextlib.suppress(ValueError):  # the window ended meanwhile: nothing to give back
            cache.decr(budget._window(now)[0])


def retry_message(seconds: int) -> str:
    """ "Too many attempts", with when to try again, in the visitor's language."""
    minutes = max(1, math.ceil(seconds / MINUTE))
    if minutes <= 90:
        return ngettext(
            "Too many attempts. Please try again in %(count)d minute.",
            "Too many attempts. Please try again in %(count)d minutes.",
            minutes,
        ) % {"count": minutes}
    hours = math.ceil(minutes / 60)
    return ngettext(
        "Too many attempts. Please try again in %(count)d hour.",
        "Too many attempts. Please try again in %(count)d hours.",
        hours,
    ) % {"count": hours}
