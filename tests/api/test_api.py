"""The API for POS systems: keys, members, purchases, refunds, rewards, redemptions, adjustments,
idempotency, errors per field, timestamps with the shop's offset, and another shop's ids as 404."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from merchants.models import IdempotencyRecord
from merchants.tasks import idempotency_purge_task
from rewards.models import Account, Purchase, Redemption, VoucherStatus
from tests.factories import RewardFactory


class TestKeys:
    def test_no_key_or_a_wrong_key_is_401(self, client, api):
        assert client.get("/api/v1/rewards/").status_code == 401
        wrong = client.get("/api/v1/rewards/", HTTP_AUTHORIZATION="Bearer lk_nothing_here")
        assert wrong.status_code == 401
        assert wrong.json()["detail"] == "This API key is not valid, or it was revoked."

    def test_a_read_only_key_reads_and_may_not_write(self, reader, customer):
        assert reader.get(f"/api/v1/members/{customer.pk}/").status_code == 200
        response = reader.post("/api/v1/purchases/", {"member": customer.pk, "amount": "10.00"})
        assert response.status_code == 403
        assert not Purchase.objects.exists()

    def test_each_key_has_its_own_rate_and_is_told_when_to_retry(self, api, reader, customer, settings):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_key": "2/day"}}
        assert [api.get("/api/v1/rewards/").status_code for _ in range(2)] == [200, 200]
        third = api.post("/api/v1/purchases/", {"member": customer.pk, "amount": "10.00"})
        assert third.status_code == 429
        assert 0 < int(third.headers["Retry-After"]) <= 86400
        assert not Purchase.objects.exists()
        assert reader.get("/api/v1/rewards/").status_code == 200  # another key, its own count


class TestMembers:
    def test_find_by_phone_in_local_form_email_or_card(self, api, customer):
        for params in ({"phone": "012-345 6789"}, {"email": "AMINAH@example.com"}, {"card": customer.card_number}):
            found = api.get("/api/v1/members/", **params).json()
            assert [m["id"] for m in found["results"]] == [customer.pk], params
        assert api.get("/api/v1/members/", phone="not a phone").json()["results"] == []

    def test_enrol_then_read_with_balance_tier_and_vouchers(self, api, merchant):
        created = api.post("/api/v1/members/", {"first_name": "Ben", "phone": "0129876543", "sms_consent": True})
        assert created.status_code == 201, created.json()
        body = created.json()
        assert (body["phone"], body["balance"], body["tier"], body["vouchers"]) == ("+60129876543", 0, None, [])
        assert body["sms_consent"] is True

    def test_an_enrolled_member_gets_the_welcome_bonus_once(self, api, program):
        program.welcome_bonus = 50
        program.save()
        body = api.post("/api/v1/members/", {"first_name": "Ben", "email": "ben@example.com"}).json()
        assert body["balance"] == 50
        history = api.get(f"/api/v1/members/{body['id']}/history/").json()["results"]
        assert [(e["kind"], e["points"]) for e in history] == [("bonus", 50)]

    def test_enrolling_a_phone_another_member_has_is_refused_in_plain_words(self, api, customer):
        response = api.post("/api/v1/members/", {"first_name": "Copy", "phone": "+60 12-345 6789"})
        assert response.status_code == 400
        assert "already has this phone number or email" in response.json()["detail"][0]

    def test_a_bad_field_gets_its_own_message(self, api):
        response = api.post("/api/v1/members/", {"email": "not-an-email", "birthday": "31/02/1990"})
        assert response.status_code == 400
        assert set(response.json()) == {"email", "birthday"}

    def test_update_changes_only_what_is_sent(self, api, customer):
        response = api.patch(f"/api/v1/members/{customer.pk}/", {"last_name": "Razak"})
        assert response.status_code == 200, response.json()
        customer.refresh_from_db()
        assert (customer.first_name, customer.last_name, customer.phone) == ("Aminah", "Razak", "+60123456789")

    def test_timestamps_carry_the_shops_offset(self, api, customer, merchant):
        merchant.timezone = "Asia/Kuala_Lumpur"
        merchant.save()
        assert api.get(f"/api/v1/members/{customer.pk}/").json()["joined_at"].endswith("+08:00")


class TestPurchases:
    def test_a_purchase_earns_points_and_shows_the_new_balance(self, api, customer):
        response = api.post("/api/v1/purchases/", {"member": customer.pk, "amount": "25.50", "receipt": "R-1"})
        assert response.status_code == 201, response.json()
        assert (response.json()["points"], response.json()["balance"]) == (25, 25)
        history = api.get(f"/api/v1/members/{customer.pk}/history/").json()
        assert [(e["kind"], e["points"]) for e in history["results"]] == [("earn", 25)]

    def test_a_partial_then_a_full_refund_take_the_points_back(self, api, customer):
        purchase = api.post("/api/v1/purchases/", {"member": customer.pk, "amount": "40.00"}).json()
        part = api.post(f"/api/v1/purchases/{purchase['id']}/refunds/", {"amount": "10.00"})
        assert (part.status_code, part.json()["points"]) == (201, 10)
        rest = api.post(f"/api/v1/purchases/{purchase['id']}/refunds/", {})
        assert (rest.status_code, rest.json()["amount"]) == (201, "30.00")
        assert Account.objects.get(member=customer).balance == 0
        again = api.post(f"/api/v1/purchases/{purchase['id']}/refunds/", {})
        assert again.status_code == 400

    def test_text_for_an_amount_is_refused(self, api, customer):
        response = api.post("/api/v1/purchases/", {"member": customer.pk, "amount": "ten"})
        assert (response.status_code, list(response.json())) == (400, ["amount"])


class TestRedemptions:
    def test_redeem_use_and_a_second_use_is_refused(self, api, customer, merchant):
        reward = RewardFactory(merchant=merchant, name="Free wash", points_cost=20)
        api.post("/api/v1/purchases/", {"member": customer.pk, "amount": "30.00"})
        redeemed = api.post("/api/v1/redemptions/", {"member": customer.pk, "reward": reward.pk})
        assert redeemed.status_code == 201, redeemed.json()
        voucher = redeemed.json()
        assert api.get("/api/v1/redemptions/", code=voucher["code"].lower()).json()["results"][0]["id"] == voucher["id"]
        used = api.post(f"/api/v1/redemptions/{voucher['id']}/use/")
        assert used.json()["status"] == VoucherStatus.USED
        assert api.post(f"/api/v1/redemptions/{voucher['id']}/use/").status_code == 400

    def test_beyond_the_balance_is_refused_and_changes_nothing(self, api, customer, merchant):
        reward = RewardFactory(merchant=merchant, points_cost=500)
        response = api.post("/api/v1/redemptions/", {"member": customer.pk, "reward": reward.pk})
        assert response.status_code == 400
        assert "needs 500" in response.json()["detail"][0]
        assert not Redemption.objects.exists()

    def test_void_gives_the_points_back(self, api, customer, merchant):
        reward = RewardFactory(merchant=merchant, points_cost=20)
        api.post("/api/v1/purchases/", {"member": customer.pk, "amount": "30.00"})
        voucher = api.post("/api/v1/redemptions/", {"member": customer.pk, "reward": reward.pk}).json()
        voided = api.post(f"/api/v1/redemptions/{voucher['id']}/void/", {"reason": "changed mind"})
        assert voided.json()["status"] == VoucherStatus.VOIDED
        assert Account.objects.get(member=customer).balance == 30


def test_rewards_are_listed_cheapest_first(api, merchant):
    RewardFactory(merchant=merchant, name="Big", points_cost=900)
    RewardFactory(merchant=merchant, name="Small", points_cost=50)
    assert [r["name"] for r in api.get("/api/v1/rewards/").json()["results"]] == ["Small", "Big"]


def test_adjustments_need_a_reason_and_are_written(api, customer):
    assert api.post("/api/v1/adjustments/", {"member": customer.pk, "points": 5}).json() == {
        "reason": ["This field is required."]
    }
    response = api.post("/api/v1/adjustments/", {"member": customer.pk, "points": 5, "reason": "goodwill"})
    assert (response.status_code, response.json()["balance_after"]) == (201, 5)


class TestIdempotency:
    def test_a_replay_returns_the_first_response_and_does_nothing_twice(self, api, customer):
        first = api.post("/api/v1/purchases/", {"member": customer.pk, "amount": "10.00"}, key="till-1-0001")
        again = api.post("/api/v1/purchases/", {"member": customer.pk, "amount": "10.00"}, key="till-1-0001")
        assert (again.status_code, again.json()) == (201, first.json())
        assert again.headers["Idempotent-Replayed"] == "true"
        assert Purchase.objects.count() == 1

    def test_the_same_key_with_another_body_is_a_conflict(self, api, customer):
        api.post("/api/v1/purchases/", {"member": customer.pk, "amount": "10.00"}, key="k1")
        response = api.post("/api/v1/purchases/", {"member": customer.pk, "amount": "99.00"}, key="k1")
        assert response.status_code == 409
        assert Purchase.objects.count() == 1

    def test_a_refused_request_is_answered_the_same_on_replay(self, api, customer):
        first = api.post("/api/v1/purchases/", {"member": customer.pk, "amount": "-1"}, key="bad")
        again = api.post("/api/v1/purchases/", {"member": customer.pk, "amount": "-1"}, key="bad")
        assert first.status_code == again.status_code == 400
        assert again.json() == first.json()

    def test_a_post_without_a_key_is_refused(self, api, customer):
        response = api.client.post("/api/v1/purchases/", {"member": customer.pk, "amount": "1"})
        assert response.status_code == 400
        assert "Idempotency-Key" in response.json()["detail"]
        assert not IdempotencyRecord.objects.exists()

    def test_keys_are_per_shop(self, api, theirs, customer, their_member):
        api.post("/api/v1/purchases/", {"member": customer.pk, "amount": "10.00"}, key="shared")
        response = theirs.post("/api/v1/purchases/", {"member": their_member.pk, "amount": "10.00"}, key="shared")
        assert response.status_code == 201


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/members/{member}/"),
        ("patch", "/api/v1/members/{member}/"),
        ("get", "/api/v1/members/{member}/history/"),
        ("get", "/api/v1/purchases/{purchase}/"),
        ("post", "/api/v1/purchases/{purchase}/refunds/"),
        ("get", "/api/v1/redemptions/{redemption}/"),
        ("post", "/api/v1/redemptions/{redemption}/use/"),
        ("post", "/api/v1/redemptions/{redemption}/void/"),
    ],
)
def test_another_shops_objects_are_404(method, path, api, theirs, customer, merchant):
    reward = RewardFactory(merchant=merchant, points_cost=1)
    purchase = api.post("/api/v1/purchases/", {"member": customer.pk, "amount": "10.00"}).json()
    redemption = api.post("/api/v1/redemptions/", {"member": customer.pk, "reward": reward.pk}).json()
    url = path.format(member=customer.pk, purchase=purchase["id"], redemption=redemption["id"])
    call = getattr(theirs, method)
    response = call(url, {}) if method != "get" else call(url)
    assert response.status_code == 404


def test_ids_in_a_body_from_another_shop_are_404(api, theirs, their_member, customer, merchant):
    reward = RewardFactory(merchant=merchant, points_cost=1)
    assert theirs.post("/api/v1/purchases/", {"member": customer.pk, "amount": "1.00"}).status_code == 404
    assert theirs.post("/api/v1/adjustments/", {"member": customer.pk, "points": 1, "reason": "x"}).status_code == 404
    response = theirs.post("/api/v1/redemptions/", {"member": their_member.pk, "reward": reward.pk})
    assert response.status_code == 404
    assert not Account.objects.filter(member=customer, balance__gt=0).exists()


def test_the_schema_and_the_docs_are_served_without_a_cdn(client):
    schema = client.get(reverse("api_schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    docs = client.get(reverse("api_docs")).content.decode()
    assert "cdn" not in docs.lower()
    assert "/static/drf_spectacular_sidecar/" in docs


def test_money_in_and_out_as_strings(api, customer):
    body = api.post("/api/v1/purchases/", {"member": customer.pk, "amount": 12.5}).json()
    assert body["amount"] == "12.50"
    assert Decimal(body["amount"]) == Decimal("12.50")


def test_keys_are_kept_a_day_at_least_then_forgotten(api, customer):
    api.post("/api/v1/purchases/", {"member": customer.pk, "amount": "10.00"}, key="old")
    api.post("/api/v1/purchases/", {"member": customer.pk, "amount": "11.00"}, key="recent")
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=49))
    IdempotencyRecord.objects.filter(key="recent").update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency_purge_task() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]
