"""The purchase hot path (ledger.purchase_record_quick, rewards.api.hot): the same rows and the same
answer as the full path, two statements instead of a dozen, and a step aside, having written
nothing, for everything it leaves to the full path. PostgreSQL, outside a test transaction (the
quick path runs in autocommit)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from merchants.actors import Actor
from merchants.models import ApiScope, IdempotencyRecord, WebhookEndpoint, WebhookEvent
from merchants.services import api_key_create, api_key_revoke
from rewards import ledger
from rewards.models import Account, PointsEntry, Purchase, TierChange
from tests.factories import LocationFactory, MemberFactory, TierFactory
from tests.rewards.conftest import ledger_snapshot

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROW_FIELDS = {
    Purchase: ["amount", "refunded_amount", "points", "points_reversed", "receipt", "location_id", "actor_kind",
               "actor_label", "idempotency_key", "request_hash"],
    PointsEntry: ["kind", "points", "balance_after", "expires_at", "reason", "location_id", "actor_kind", "actor_label"],
    Account: ["balance", "lifetime_earned", "lifetime_spend", "purchase_count", "qualifying_total", "tier_id",
              "tier_until", "day", "day_earned"],
}  # fmt: skip


@pytest.fixture
def key(merchant):
    return Actor.for_key(api_key_create(merchant=merchant, name="Till 1", scope=ApiScope.FULL, by=None)[0])


def opened(merchant, **account) -> Account:
    """A member whose account exists (a first purchase or an import opened it)."""
    member = MemberFactory(merchant=merchant)
    defaults = {"balance": 40, "lifetime_earned": 40, "purchase_count": 3, "qualifying_total": Decimal(90)}
    return Account.objects.create(member=member, merchant=merchant, **{**defaults, **account})


def rows(account: Account) -> dict:
    """What a purchase wrote, without ids and times."""
    account.refresh_from_db()
    purchase = Purchase.objects.filter(account=account).get()
    entries = list(PointsEntry.objects.filter(account=account).order_by("pk"))
    changes = list(TierChange.objects.filter(account=account).values_list("from_tier", "to_tier", "reason"))
    return {
        "purchase": [getattr(purchase, f) for f in ROW_FIELDS[Purchase]],
        "entries": [[getattr(e, f) for f in ROW_FIELDS[PointsEntry]] for e in entries],
        "account": [getattr(account, f) for f in ROW_FIELDS[Account]],
        "tier_changes": changes,
    }


def quick(account: Account, amount: str, actor: Actor, **kwargs) -> Purchase | None:
    return ledger.purchase_record_quick(
        merchant=account.merchant, member_id=account.member_id, amount=Decimal(amount), actor=actor, **kwargs
    )


SCENARIOS = {
    "plain": ({}, {}, "25.50"),
    "tier multiplier and expiry": ({"expiry_months": 12}, {"tier": "silver"}, "20.00"),
    "daily cap partly used today": ({"daily_cap": 30}, {"day": "today", "day_earned": 20}, "25.00"),
    "below the minimum purchase": ({"min_purchase": Decimal(10)}, {}, "9.99"),
    "promoted to a tier": ({}, {"qualifying_total": Decimal(480)}, "30.00"),
    "rounded up": ({"rounding": "up", "points_per_unit": Decimal("1.5")}, {}, "10.10"),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_quick_path_writes_what_the_full_path_writes(name, merchant, program, key):
    rules, account_fields, amount = SCENARIOS[name]
    for field, value in rules.items():
        setattr(program, field, value)
    program.save()
    silver = TierFactory(merchant=merchant, name="Silver", threshold=Decimal(500), multiplier=Decimal(2))
    fields = {**account_fields}
    if fields.get("tier") == "silver":
        fields["tier"] = silver
    if fields.get("day") == "today":
        fields["day"] = ledger.local_today(merchant)
    location = LocationFactory(merchant=merchant)
    fast, full = opened(merchant, **fields), opened(merchant, **fields)

    assert quick(fast, amount, key, receipt="R-7", location_id=location.pk) is not None
    with transaction.atomic():
        ledger.purchase_record(member=full.member, amount=Decimal(amount), actor=key, receipt="R-7", location=location)

    mine, theirs = rows(fast), rows(full)
    theirs["purchase"][-1] = ledger.request_hash(member=fast.member_id, amount=Decimal(amount), receipt="R-7")
    assert mine == theirs


def test_it_takes_two_statements(merchant, program, key):
    """Once the shop's rules and webhooks are cached, as after its first purchase."""
    quick(opened(merchant), "1.00", key)
    account = opened(merchant)
    with CaptureQueriesContext(connection) as queries:
        assert quick(account, "12.00", key) is not None
    assert len(queries) == 2


def _stamps(merchant, program, account):
    program.mode = "stamps"
    program.save()


def _webhook(merchant, program, account):
    WebhookEndpoint.objects.create(
        merchant=merchant, url="https://example.com/hook", events=[WebhookEvent.PURCHASE_RECORDED], secret="s"
    )


def _referred_first_purchase(merchant, program, account):
    program.referral_bonus = 50
    program.save()
    account.member.referred_by = MemberFactory(merchant=merchant)
    account.member.save()
    Account.objects.filter(pk=account.pk).update(purchase_count=0)


def _erased(merchant, program, account):
    account.member.__class__.objects.filter(pk=account.member_id).update(erased_at=timezone.now())


def _above_the_shops_limit(merchant, program, account):
    program.max_purchase = Decimal(5)
    program.save()


@pytest.mark.parametrize(
    "change", [_stamps, _webhook, _referred_first_purchase, _erased, _above_the_shops_limit], ids=lambda f: f.__name__
)
def test_it_steps_aside_having_written_nothing(change, merchant, program, key):
    account = opened(merchant)
    change(merchant, program, account)
    before = ledger_snapshot()
    assert quick(account, "12.00", key) is None
    assert ledger_snapshot() == before


def test_another_shops_member_or_location_is_left_to_the_full_path(merchant, other_merchant, program, key):
    theirs = opened(other_merchant)
    mine = opened(merchant)
    before = ledger_snapshot()
    assert ledger.purchase_record_quick(
        merchant=merchant, member_id=theirs.member_id, amount=Decimal(10), actor=key
    ) is None  # fmt: skip
    assert quick(mine, "10.00", key, location_id=LocationFactory(merchant=other_merchant).pk) is None
    assert ledger_snapshot() == before


def test_a_write_in_between_makes_it_step_aside(merchant, program, key, monkeypatch):
    """Compare and set: the account changed after it was read, so nothing is written."""
    account = opened(merchant)
    earn = ledger._earn_points

    def meanwhile(*args, **kwargs):
        Account.objects.filter(pk=account.pk).update(balance=account.balance + 5, lifetime_earned=45)
        return earn(*args, **kwargs)

    monkeypatch.setattr(ledger, "_earn_points", meanwhile)
    assert quick(account, "12.00", key) is None
    account.refresh_from_db()
    assert (account.balance, Purchase.objects.count(), PointsEntry.objects.count()) == (45, 0, 0)


class TestTheEndpoint:
    def test_it_answers_what_the_full_path_answers(self, api, merchant, program):
        account = opened(merchant, tier_until=date(2030, 1, 1))
        with CaptureQueriesContext(connection) as queries:
            hot = api.post("/api/v1/purchases/", {"member": account.member_id, "amount": "12.50", "receipt": "A"})
        full = api.post("/api/v1/purchases/", {"member": account.member_id, "amount": 12.5, "receipt": "A"})
        assert (hot.status_code, full.status_code) == (201, 201)
        assert len(queries) <= 4  # the key (once), the read, the write; the DRF path takes a dozen
        mine, theirs = dict(hot.json()), dict(full.json())
        assert (mine.pop("balance"), theirs.pop("balance")) == (52, 64)
        assert mine.pop("created_at")[-6:] == theirs.pop("created_at")[-6:]
        assert mine.pop("id") < theirs.pop("id")
        assert mine == theirs

    def test_a_replay_gets_the_first_answer_and_another_body_a_conflict(self, api, merchant, program):
        account = opened(merchant)
        body = {"member": account.member_id, "amount": "10.00"}
        first = api.post("/api/v1/purchases/", body, key="till-1-sale-9")
        again = api.post("/api/v1/purchases/", body, key="till-1-sale-9")
        other = api.post("/api/v1/purchases/", {**body, "amount": "11.00"}, key="till-1-sale-9")
        assert (first.status_code, again.status_code, other.status_code) == (201, 201, 409)
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert Purchase.objects.count() == 1
        assert IdempotencyRecord.objects.get().response == first.json()

    def test_a_revoked_key_stops_at_once(self, merchant, program):
        from tests.api.conftest import Api

        key, raw = api_key_create(merchant=merchant, name="Till 2", scope=ApiScope.FULL, by=None)
        account = opened(merchant)
        till = Api(raw)
        assert till.post("/api/v1/purchases/", {"member": account.member_id, "amount": "5.00"}).status_code == 201
        api_key_revoke(key=key, by=None)
        assert till.post("/api/v1/purchases/", {"member": account.member_id, "amount": "5.00"}).status_code == 401
        assert Purchase.objects.count() == 1

    def test_the_key_is_noted_as_used(self, api, merchant, program):
        account = opened(merchant)
        api.post("/api/v1/purchases/", {"member": account.member_id, "amount": "5.00"})
        from merchants.models import ApiKey

        assert timezone.now() - ApiKey.objects.get().last_used_at < timedelta(minutes=1)
