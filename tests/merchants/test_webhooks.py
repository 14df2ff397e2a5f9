"""Webhooks, delivered for real to a receiver on 127.0.0.1: signed, written with the change that
caused them, retried with backoff for about a day, logged, and resent by hand."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.utils import timezone

from members.services import member_enroll
from merchants import webhooks
from merchants.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from rewards import ledger
from rewards.models import Tier
from tests.factories import MemberFactory, RewardFactory
from tests.rewards import conftest as rewards_fixtures

program, cashier_actor, buy = rewards_fixtures.program, rewards_fixtures.cashier_actor, rewards_fixtures.buy
member = rewards_fixtures.member


class Receiver:
    """A shop's own server: records each request, answers with the next code in `codes` (then 200),
    sending `location` with it when set."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict, bytes]] = []
        self.codes: list[int] = []
        self.location = ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.codes.pop(0) if receiver.codes else 200)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.end_headers()

            do_GET = do_POST

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[str]:
        return [json.loads(body)["event"] for _headers, body in self.requests]


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the receiver stands in for the shop's server, on 127.0.0.1
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture
def endpoint(merchant, receiver, owner):
    return webhooks.endpoint_save(merchant=merchant, url=receiver.url, events=list(WebhookEvent.values), by=owner.user)


def test_a_purchase_is_delivered_signed(endpoint, receiver, buy, member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        purchase = buy("12.50", receipt="R-9")
    headers, body = receiver.requests[0]
    payload = json.loads(body)
    assert (payload["event"], payload["data"]["id"], payload["data"]["amount"]) == (
        "purchase.recorded", purchase.pk, "12.50",
    )  # fmt: skip
    # What a receiver does: recompute the signature over "<timestamp>.<body>" with its secret.
    expected = hmac.new(endpoint.secret.encode(), f"{headers['X-Loyalty-Timestamp']}.".encode() + body, hashlib.sha256)
    assert hmac.compare_digest(headers["X-Loyalty-Signature"], f"sha256={expected.hexdigest()}")
    assert headers["X-Loyalty-Event"] == "purchase.recorded"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_code, delivery.attempts) == (DeliveryStatus.DELIVERED, 200, 1)


def test_only_the_events_an_endpoint_asked_for(merchant, receiver, owner, buy, django_capture_on_commit_callbacks):
    webhooks.endpoint_save(merchant=merchant, url=receiver.url, events=["reward.redeemed"], by=owner.user)
    with django_capture_on_commit_callbacks(execute=True):
        buy("10")
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_a_rolled_back_purchase_tells_nobody(endpoint, receiver, buy, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                buy("10")
                raise RuntimeError("the till crashed")
        except RuntimeError:
            pass
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_a_failing_receiver_is_retried_with_backoff_for_about_a_day(endpoint, receiver, buy):
    receiver.codes = [500] * 20
    buy("10")  # written; sent here by hand at chosen times
    delivery = WebhookDelivery.objects.get()
    now = timezone.now()
    first = now
    while delivery.status == DeliveryStatus.PENDING:
        delivery = webhooks.deliver(delivery_id=delivery.pk, now=now)
        assert webhooks.deliver(delivery_id=delivery.pk, now=now).attempts == delivery.attempts  # not due: no send
        if delivery.next_attempt_at:
            now = delivery.next_attempt_at
    assert delivery.status == DeliveryStatus.FAILED
    assert (delivery.response_code, delivery.error) == (500, "HTTP 500")
    assert delivery.attempts == len(webhooks.BACKOFF) + 1 == len(receiver.requests)
    assert timedelta(hours=20) < now - first <= timedelta(hours=24)
    assert len({headers["X-Loyalty-Delivery"] for headers, _body in receiver.requests}) == 1  # the same id


def test_an_unreachable_url_is_logged_and_a_resend_delivers(
    merchant, owner, receiver, buy, django_capture_on_commit_callbacks
):
    endpoint = webhooks.endpoint_save(
        merchant=merchant, url="http://127.0.0.1:9/nowhere", events=["purchase.recorded"], by=owner.user
    )
    with django_capture_on_commit_callbacks(execute=True):
        buy("10")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_code) == (DeliveryStatus.PENDING, None)
    assert delivery.error
    webhooks.endpoint_save(
        merchant=merchant, url=receiver.url, events=["purchase.recorded"], by=owner.user, endpoint=endpoint
    )
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.delivery_resend(delivery=delivery, by=owner.user)
    delivery.refresh_from_db()
    assert (delivery.status, len(receiver.requests)) == (DeliveryStatus.DELIVERED, 1)


def test_enrolment_redemption_tier_and_expiry_events(
    endpoint, receiver, merchant, program, cashier_actor, django_capture_on_commit_callbacks
):
    Tier.objects.create(merchant=merchant, name="Gold", threshold=Decimal(50))
    program.expiry_mode, program.expiry_months = "after_earning", 1
    program.save()
    with django_capture_on_commit_callbacks(execute=True):
        joined = member_enroll(merchant=merchant, actor=cashier_actor, first_name="Nok", phone="0123334444")
        ledger.purchase_record(member=joined, amount=Decimal(60), actor=cashier_actor)  # reaches Gold
        ledger.reward_redeem(
            member=joined, reward=RewardFactory(merchant=merchant, points_cost=10), actor=cashier_actor
        )
        ledger.points_expire(merchant=merchant, now=timezone.now() + timedelta(days=40))
    assert receiver.events() == [
        "member.enrolled", "tier.changed", "purchase.recorded", "reward.redeemed", "points.expired",
    ]  # fmt: skip
    expired = json.loads(receiver.requests[-1][1])["data"]
    assert (expired["member"], expired["points"], expired["balance"]) == (joined.pk, 50, 0)


def test_a_private_address_is_refused_when_not_allowed(merchant, owner, receiver, buy, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False  # production: our own servers are not a shop's webhook
    webhooks.endpoint_save(merchant=merchant, url=receiver.url, events=["purchase.recorded"], by=owner.user)
    buy("10")
    delivery = webhooks.deliver(delivery_id=WebhookDelivery.objects.get().pk)
    assert receiver.requests == []
    assert (delivery.status, "private network" in delivery.error) == (DeliveryStatus.PENDING, True)


def test_a_redirect_is_not_followed(endpoint, receiver, buy):
    # A public address could send us on to a private one, which the private-network check never saw.
    inside = Receiver()
    receiver.codes, receiver.location = [302], inside.url
    buy("10")
    delivery = webhooks.deliver(delivery_id=WebhookDelivery.objects.get().pk)
    inside.server.shutdown()
    assert inside.requests == []
    assert (delivery.status, delivery.response_code) == (DeliveryStatus.PENDING, 302)


def test_a_shop_without_webhooks_writes_nothing(merchant, buy):
    MemberFactory(merchant=merchant)
    buy("10")
    assert not WebhookDelivery.objects.exists()
