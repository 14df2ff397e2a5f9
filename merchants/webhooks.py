"""Webhooks: a shop's own systems told when something happens, signed so they can trust it.

An event is written to the outbox (WebhookDelivery) in the same transaction as the change that
caused it, so a rolled-back purchase tells nobody and a committed one is never forgotten; it is
sent after the commit by a Celery task, and again with backoff until the receiver answers 2xx or a
day has passed. Each request carries:

    X-Loyalty-Event: purchase.recorded
    X-Loyalty-Delivery: 1234                (the same on every retry: the receiver can drop repeats)
    X-Loyalty-Timestamp: 1764760000         (Unix seconds; refuse old ones to stop replays)
    X-Loyalty-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the endpoint's secret>
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import DeliveryStatus, Merchant, User, WebhookDelivery, WebhookEndpoint
from .queue import enqueue
from .services import audit_record

log = logging.getLogger(__name__)

# Waits before each retry: the last try comes about 24 hours after the first, then it counts as failed.
BACKOFF = [timedelta(minutes=m) for m in (1, 5, 30, 120, 360, 900)]
TIMEOUT_SECONDS = 10
USER_AGENT = "Loyalty-Webhooks/1"


def _cache_key(merchant_id: int) -> str:
    return f"webhooks:{merchant_id}"


def subscribed(merchant_id: int, event: str) -> list[int]:
    """The ids of the shop's active endpoints that want this event (cached: a purchase asks)."""
    wanted = cache.get(_cache_key(merchant_id))
    if wanted is None:
        wanted = list(
            WebhookEndpoint.objects.filter(merchant_id=merchant_id, is_active=True).values_list("pk", "events")
        )
        cache.set(_cache_key(merchant_id), wanted, 300)
    return [pk for pk, events in wanted if event in events]


def emit(*, merchant_id: int, event: str, data: dict[str, Any]) -> int:
    """Write the event for each endpoint that wants it, to be sent after the commit. Call it inside
    the transaction of the change. Returns the deliveries written (0, at no cost, for most shops)."""
    endpoints = subscribed(merchant_id, event)
    if not endpoints:
        return 0
    now = timezone.now()
    payload = json.loads(json.dumps({"event": event, "created_at": now, "data": data}, cls=DjangoJSONEncoder))
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(merchant_id=merchant_id, endpoint_id=pk, event=event, payload=payload, created_at=now)
        for pk in endpoints
    )
    ids = [delivery.pk for delivery in deliveries]

    from .tasks import webhook_deliver_task

    for pk in ids:
        enqueue(webhook_deliver_task, pk)
    return len(ids)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """What X-Loyalty-Signature carries; a receiver computes the same and compares in constant time."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _private(url: str) -> bool:
    """Does the URL's host resolve to this machine or a private network? A shop's webhook must not
    be a way to reach the servers behind ours (settings.WEBHOOKS_ALLOW_PRIVATE allows it, for
    development and for a shop's own LAN install)."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False  # unresolvable: the request fails on its own, with its own error
    return any(not ipaddress.ip_address(address.split("%")[0]).is_global for address in addresses)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is the receiver's answer (a failure, retried), never followed: it could lead to a
    private address the check above never saw, or to ftp://."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def deliver(*, delivery_id: int, now: datetime | None = None) -> WebhookDelivery | None:
    """Send one delivery if it is due; record the answer; schedule the next try or give up."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return None  # being sent by another worker right now
        if delivery.status != DeliveryStatus.PENDING or (delivery.next_attempt_at and delivery.next_attempt_at > now):
            return delivery  # sent, given up, or not due yet
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        stamp = int(time.time())
        request = urllib.request.Request(  # noqa: S310 - the owner's own http(s) URL, checked by the form
            delivery.endpoint.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-Loyalty-Event": delivery.event,
                "X-Loyalty-Delivery": str(delivery.pk),
                "X-Loyalty-Timestamp": str(stamp),
                "X-Loyalty-Signature": signature(delivery.endpoint.secret, stamp, body),
            },
        )
        code, error = None, ""
        if not settings.WEBHOOKS_ALLOW_PRIVATE and _private(delivery.endpoint.url):
            error = _("This address is on a private network; webhooks go to public addresses only.")
        else:
            try:
                with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
                    code = response.status
            except urllib.error.HTTPError as answer:
                code, error = answer.code, f"HTTP {answer.code}"
            except (urllib.error.URLError, OSError, ValueError) as failure:
                error = str(getattr(failure, "reason", failure))[:300]
        delivery.attempts += 1
        delivery.response_code, delivery.error = code, error
        if code is not None and 200 <= code < 300:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.DELIVERED, now, None
        elif delivery.attempts > len(BACKOFF):
            delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        else:
            delivery.next_attempt_at = now + BACKOFF[delivery.attempts - 1]
        delivery.save(update_fields=["attempts", "response_code", "error", "status", "delivered_at", "next_attempt_at"])
    if delivery.status == DeliveryStatus.PENDING:
        log.info(
            "webhook %s to %s: %s; retry at %s", delivery.pk, delivery.endpoint.url, error, delivery.next_attempt_at
        )
    return delivery


def deliveries_due(*, now: datetime | None = None) -> list[int]:
    """Pending deliveries whose retry time has come (a beat job sends them)."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now).values_list(
            "pk", flat=True
        )[:1000]
    )


def delivery_resend(*, delivery: WebhookDelivery, by: User | None) -> WebhookDelivery:
    """The owner sends a delivery again (a failed one, or one their system lost): a fresh series of tries."""
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=None, error=""
        )
        audit_record(merchant=delivery.endpoint.merchant, actor=by, action="webhook.resend", obj=delivery.endpoint)
        from .tasks import webhook_deliver_task

        enqueue(webhook_deliver_task, delivery.pk)
    delivery.refresh_from_db()
    return delivery


@transaction.atomic
def endpoint_save(
    *, merchant: Merchant, url: str, events: list[str], by: User | None, endpoint: WebhookEndpoint | None = None
) -> WebhookEndpoint:
    creating = endpoint is None
    endpoint = endpoint or WebhookEndpoint(merchant=merchant, secret=secrets.token_hex(24))
    endpoint.url, endpoint.events = url, sorted(set(events))
    endpoint.save()
    cache.delete(_cache_key(merchant.pk))
    audit_record(
        merchant=merchant, actor=by, action="webhook.create" if creating else "webhook.update", obj=endpoint,
        after={"url": url, "events": endpoint.events},
    )  # fmt: skip
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint, by: User | None) -> None:
    audit_record(
        merchant=endpoint.merchant, actor=by, action="webhook.delete", obj=endpoint, before={"url": endpoint.url}
    )
    cache.delete(_cache_key(endpoint.merchant_id))
    endpoint.delete()
