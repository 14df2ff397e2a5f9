"""The owner's webhook pages: add, edit and delete endpoints, see the secret and the delivery log, resend;
other shops' endpoints are 404 and other roles get the owner-only 403."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from merchants import webhooks
from merchants.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.merchants.test_webhooks import Receiver

pytestmark = pytest.mark.django_db

OWNERS_ONLY = "Only the shop&#x27;s owner can open this page."
ONLY_HTTP = "Enter a web address that starts with https:// (or http://)."


@pytest.fixture
def endpoint(merchant, owner):
    return webhooks.endpoint_save(
        merchant=merchant, url="https://shop.example.com/hooks", events=["purchase.recorded"], by=owner.user
    )


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the receiver stands in for the shop's server, on 127.0.0.1
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


def _delivery(endpoint, **fields) -> WebhookDelivery:
    fields = {"event": "purchase.recorded", "payload": {"event": "purchase.recorded", "data": {}}} | fields
    return WebhookDelivery.objects.create(merchant_id=endpoint.merchant_id, endpoint=endpoint, **fields)


def test_owner_adds_a_webhook_and_sees_its_secret(owner_client, merchant):
    response = owner_client.post(
        reverse("webhooks:list"),
        {"url": "https://shop.example.com/hooks", "events": ["reward.redeemed", "member.enrolled"]},
    )

    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("webhooks:detail", args=[endpoint.pk])
    assert (endpoint.merchant, endpoint.url, endpoint.events) == (
        merchant, "https://shop.example.com/hooks", ["member.enrolled", "reward.redeemed"],
    )  # fmt: skip
    assert len(endpoint.secret) >= 32
    page = owner_client.get(response["Location"])
    assert endpoint.secret in page.text
    assert "no-store" in page["Cache-Control"]  # the secret must not stay in a cache


def test_an_ftp_url_is_refused(owner_client):
    response = owner_client.post(
        reverse("webhooks:list"), {"url": "ftp://shop.example.com/hooks", "events": ["member.enrolled"]}
    )

    assert response.status_code == 200
    assert ONLY_HTTP in response.text
    assert not WebhookEndpoint.objects.exists()


def test_a_webhook_without_events_is_refused(owner_client):
    response = owner_client.post(reverse("webhooks:list"), {"url": "https://shop.example.com/hooks"})

    assert response.status_code == 200
    assert "Choose at least one event." in response.text
    assert not WebhookEndpoint.objects.exists()


def test_the_list_shows_this_shops_webhooks_with_their_last_delivery(owner_client, endpoint, other_merchant):
    webhooks.endpoint_save(
        merchant=other_merchant, url="https://charlie.example.com/in", events=["tier.changed"], by=None
    )
    _delivery(endpoint, status=DeliveryStatus.DELIVERED, created_at=timezone.now() - timedelta(hours=1))
    _delivery(endpoint, status=DeliveryStatus.FAILED)

    text = owner_client.get(reverse("webhooks:list")).text

    assert reverse("webhooks:detail", args=[endpoint.pk]) in text
    assert "<code>purchase.recorded</code>" in text
    assert '<span class="badge muted">Failed</span>' in text  # the newest delivery's status, not the older one's
    assert ">Delivered<" not in text
    assert "charlie.example.com" not in text


def test_the_list_runs_the_same_queries_for_one_webhook_or_many(owner_client, endpoint, merchant, owner):
    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert owner_client.get(reverse("webhooks:list")).status_code == 200
        return len(context)

    _delivery(endpoint)
    one = queries()
    for n in range(3):
        more = webhooks.endpoint_save(
            merchant=merchant, url=f"https://shop.example.com/{n}", events=["points.expired"], by=owner.user
        )
        _delivery(more, event="points.expired")

    assert queries() == one


def test_the_list_explains_how_to_check_the_signature(owner_client):
    text = owner_client.get(reverse("webhooks:list")).text

    assert "How to check the signature" in text
    assert "constant-time comparison" in text
    assert "more than 5 minutes old" in text


def test_owner_edits_the_url_and_events(owner_client, endpoint):
    secret = endpoint.secret

    response = owner_client.post(
        reverse("webhooks:detail", args=[endpoint.pk]),
        {"url": "http://till.example.com/in", "events": ["tier.changed", "points.expired"]},
    )

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.secret) == (
        "http://till.example.com/in", ["points.expired", "tier.changed"], secret,
    )  # fmt: skip


def test_an_edit_without_events_is_refused(owner_client, endpoint):
    response = owner_client.post(reverse("webhooks:detail", args=[endpoint.pk]), {"url": endpoint.url})

    assert response.status_code == 200
    assert "Choose at least one event." in response.text
    endpoint.refresh_from_db()
    assert endpoint.events == ["purchase.recorded"]


def test_owner_deletes_a_webhook(owner_client, endpoint):
    response = owner_client.post(reverse("webhooks:delete", args=[endpoint.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("webhooks:list")
    assert not WebhookEndpoint.objects.exists()
    assert "deleted" in owner_client.get(response["Location"]).text


def test_delete_answers_get_with_405(owner_client, endpoint):
    assert owner_client.get(reverse("webhooks:delete", args=[endpoint.pk])).status_code == 405
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_the_log_shows_response_codes_errors_and_next_tries(owner_client, endpoint):
    failed = _delivery(endpoint, status=DeliveryStatus.FAILED, attempts=7, response_code=500, error="HTTP 500")
    waiting = _delivery(
        endpoint,
        event="reward.redeemed",
        attempts=2,
        error="Connection refused",
        next_attempt_at=timezone.now() + timedelta(minutes=30),
    )

    text = owner_client.get(reverse("webhooks:detail", args=[endpoint.pk])).text

    assert "<strong>500</strong>" in text
    assert "Connection refused" in text
    assert "next try" in text
    assert "2 deliveries so far" in text
    assert text.index(f"#{waiting.pk}<") < text.index(f"#{failed.pk}<")  # newest first
    # Resend is offered for the finished delivery only: the waiting one is still being tried.
    assert reverse("webhooks:resend", args=[failed.pk]) in text
    assert reverse("webhooks:resend", args=[waiting.pk]) not in text


def test_the_log_shows_the_newest_100(owner_client, endpoint):
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            merchant_id=endpoint.merchant_id,
            endpoint=endpoint,
            event="purchase.recorded",
            payload={},
            status=DeliveryStatus.DELIVERED,
            created_at=now - timedelta(minutes=n),
        )
        for n in range(101)
    )
    oldest = WebhookDelivery.objects.order_by("created_at").first()

    text = owner_client.get(reverse("webhooks:detail", args=[endpoint.pk])).text

    assert text.count(">Resend<") == 100
    assert f"#{oldest.pk}<" not in text
    assert "101 deliveries so far" in text
    assert "Only the newest 100 are shown." in text


def test_resend_sends_the_delivery_again(owner_client, merchant, owner, receiver, django_capture_on_commit_callbacks):
    endpoint = webhooks.endpoint_save(merchant=merchant, url=receiver.url, events=["purchase.recorded"], by=owner.user)
    delivery = _delivery(endpoint, status=DeliveryStatus.FAILED, attempts=7, response_code=500, error="HTTP 500")

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("webhooks:resend", args=[delivery.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("webhooks:detail", args=[endpoint.pk])
    headers, _body = receiver.requests[0]
    assert (len(receiver.requests), headers["X-Loyalty-Delivery"]) == (1, str(delivery.pk))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_code, delivery.attempts, delivery.error) == (
        DeliveryStatus.DELIVERED, 200, 1, "",
    )  # fmt: skip


def test_resend_leaves_a_delivery_that_is_still_being_tried(owner_client, endpoint, django_capture_on_commit_callbacks):
    delivery = _delivery(endpoint, attempts=2, next_attempt_at=timezone.now() + timedelta(minutes=30))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = owner_client.post(reverse("webhooks:resend", args=[delivery.pk]), follow=True)

    assert callbacks == []
    assert "still being tried" in response.text
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 2)


def test_another_shops_webhook_is_404(owner_client, other_merchant):
    theirs = webhooks.endpoint_save(
        merchant=other_merchant, url="https://charlie.example.com/in", events=["tier.changed"], by=None
    )
    detail = reverse("webhooks:detail", args=[theirs.pk])

    assert owner_client.get(detail).status_code == 404
    assert (
        owner_client.post(detail, {"url": "https://evil.example.com/", "events": ["member.enrolled"]}).status_code
        == 404
    )
    assert owner_client.post(reverse("webhooks:delete", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert (theirs.url, theirs.events) == ("https://charlie.example.com/in", ["tier.changed"])


def test_resending_another_shops_delivery_is_404(owner_client, other_merchant, django_capture_on_commit_callbacks):
    theirs = webhooks.endpoint_save(
        merchant=other_merchant, url="https://charlie.example.com/in", events=["tier.changed"], by=None
    )
    delivery = _delivery(theirs, event="tier.changed", status=DeliveryStatus.FAILED, attempts=7)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = owner_client.post(reverse("webhooks:resend", args=[delivery.pk]))

    assert response.status_code == 404
    assert callbacks == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 7)


@pytest.mark.parametrize("role_client", ["manager_client", "cashier_client"])
@pytest.mark.parametrize("page", ["list", "detail"])
def test_managers_and_cashiers_cannot_open_the_pages(request, role_client, page, endpoint):
    url = reverse("webhooks:list") if page == "list" else reverse("webhooks:detail", args=[endpoint.pk])

    response = request.getfixturevalue(role_client).get(url)

    assert response.status_code == 403
    assert OWNERS_ONLY in response.text
    assert endpoint.secret not in response.text


@pytest.mark.parametrize("role_client", ["manager_client", "cashier_client"])
def test_managers_and_cashiers_cannot_add_delete_or_resend(request, role_client, endpoint):
    client = request.getfixturevalue(role_client)
    delivery = _delivery(endpoint, status=DeliveryStatus.FAILED, attempts=7)

    added = client.post(reverse("webhooks:list"), {"url": "https://evil.example.com/", "events": ["member.enrolled"]})
    deleted = client.post(reverse("webhooks:delete", args=[endpoint.pk]))
    resent = client.post(reverse("webhooks:resend", args=[delivery.pk]))

    assert (added.status_code, deleted.status_code, resent.status_code) == (403, 403, 403)
    assert list(WebhookEndpoint.objects.values_list("url", flat=True)) == [endpoint.url]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 7)
