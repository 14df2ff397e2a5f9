"""Spending points: rewards, pay with points, tiers, stock, validity, voucher codes, use and void."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from members.models import CODE_ALPHABET
from merchants.actors import Actor
from merchants.models import Role
from rewards import ledger
from rewards.models import Account, Kind, PointsEntry, Program, Redemption, RewardKind, VoucherStatus
from tests.factories import MemberFactory, MerchantFactory, ProgramFactory, RewardFactory, StaffFactory, TierFactory

from .conftest import assert_ledger_consistent, balance_of, ledger_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich(member, give):
    """A member with 500 points."""
    give(member, 500)
    return member


@pytest.fixture
def mug(merchant):
    return RewardFactory(merchant=merchant, name="Mug", kind=RewardKind.FREE_ITEM, points_cost=100)


@pytest.fixture
def pay(merchant):
    return RewardFactory(
        merchant=merchant, name="Pay with points", kind=RewardKind.PAY_WITH_POINTS, points_cost=100, points_step=10
    )


@pytest.fixture
def redeem(cashier_actor):
    def run(member, reward, **kwargs):
        return ledger.reward_redeem(member=member, reward=reward, actor=cashier_actor, **kwargs)

    return run


def shop_today(merchant):
    return timezone.localtime(timezone.now(), merchant.tzinfo).date()


# ---------------------------------------------------------------------------------------------
# Fixed-cost rewards


def test_a_fixed_cost_reward_issues_a_voucher_and_debits_its_cost(rich, mug, redeem):
    voucher = redeem(rich, mug)

    assert (voucher.points, voucher.status, voucher.reward_id) == (100, VoucherStatus.ISSUED, mug.pk)
    debit = PointsEntry.objects.get(kind=Kind.REDEEM)
    assert (debit.points, debit.redemption_id, debit.balance_after) == (-100, voucher.pk, 400)
    assert balance_of(rich) == 400


def test_a_voucher_is_valid_for_the_programs_voucher_days(rules, rich, mug, redeem):
    rules(voucher_days=14)
    start = timezone.now()

    voucher = redeem(rich, mug)

    assert start + timedelta(days=14) <= voucher.expires_at <= timezone.now() + timedelta(days=14)


def test_a_member_may_spend_the_whole_balance(member, give, mug, redeem):
    give(member, 100)

    redeem(member, mug)

    assert balance_of(member) == 0


def test_a_reward_above_the_balance_is_refused(member, give, mug, redeem):
    give(member, 99)
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError, match="has 99 and needs 100"):
        redeem(member, mug)

    assert ledger_snapshot() == before


def test_a_reward_of_another_shop_is_refused(rich, redeem):
    foreign = RewardFactory(merchant=MerchantFactory(), points_cost=10)
    before = ledger_snapshot()

    with pytest.raises(PermissionDenied):
        redeem(rich, foreign)

    assert ledger_snapshot() == before


# ---------------------------------------------------------------------------------------------
# Pay with points


def test_pay_with_points_turns_points_into_a_discount_at_the_point_value(rules, rich, pay, redeem):
    rules(point_value=Decimal("0.05"))

    voucher = redeem(rich, pay, points=250)

    assert (voucher.points, voucher.discount) == (250, Decimal("12.50"))
    assert balance_of(rich) == 250


def test_the_pay_with_points_discount_is_floored_to_the_currency_decimals(rules, rich, pay, redeem):
    rules(point_value=Decimal("0.0125"))

    voucher = redeem(rich, pay, points=150)

    assert voucher.discount == Decimal("1.87")  # 1.875 is not paid out as 1.88


def test_a_forint_discount_is_floored_to_whole_forints(huf_merchant):
    Program.objects.filter(merchant=huf_merchant).update(point_value=Decimal("0.5"))
    actor = Actor.for_staff(StaffFactory(merchant=huf_merchant, role=Role.MANAGER))
    customer = MemberFactory(merchant=huf_merchant)
    ledger.points_adjust(member=customer, points=500, reason="opening points", actor=actor)
    reward = RewardFactory(merchant=huf_merchant, kind=RewardKind.PAY_WITH_POINTS, points_cost=100, points_step=5)

    voucher = ledger.reward_redeem(member=customer, reward=reward, actor=actor, points=105)

    assert voucher.discount == Decimal(52)


def test_pay_with_points_below_the_minimum_is_refused(rich, pay, redeem):
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError, match="at least 100 points, in steps of 10"):
        redeem(rich, pay, points=90)

    assert ledger_snapshot() == before


def test_pay_with_points_off_the_step_is_refused(rich, pay, redeem):
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError):
        redeem(rich, pay, points=105)

    assert ledger_snapshot() == before


def test_pay_with_points_above_the_balance_is_refused(rich, pay, redeem):
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError, match="has 500 and needs 510"):
        redeem(rich, pay, points=510)

    assert ledger_snapshot() == before


# ---------------------------------------------------------------------------------------------
# Lowest tier


@pytest.fixture
def gold(merchant):
    TierFactory(merchant=merchant, name="Silver", threshold=Decimal(100))
    return TierFactory(merchant=merchant, name="Gold", threshold=Decimal(300), multiplier=Decimal(2))


@pytest.fixture
def lounge(merchant, gold):
    return RewardFactory(merchant=merchant, name="Lounge", points_cost=50, min_tier=gold)


def test_a_reward_for_a_higher_tier_is_refused(rich, buy, lounge, redeem):
    buy("150.00")  # Silver
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError, match="for Gold members and above"):
        redeem(rich, lounge)

    assert ledger_snapshot() == before


def test_a_member_of_the_tier_may_have_its_reward(rich, buy, lounge, redeem):
    buy("300.00")

    redeem(rich, lounge)

    assert Redemption.objects.filter(reward=lounge).count() == 1


def test_a_member_of_a_higher_tier_may_have_a_lower_tiers_reward(merchant, rich, buy, gold, redeem):
    silver = merchant.tiers.get(name="Silver")
    reward = RewardFactory(merchant=merchant, points_cost=50, min_tier=silver)
    buy("300.00")  # Gold

    redeem(rich, reward)

    assert Redemption.objects.filter(reward=reward).count() == 1


@pytest.fixture
def club(merchant):
    return TierFactory(merchant=merchant, name="Club", threshold=Decimal(0), is_paid=True, fee=Decimal(30))


def test_a_paid_tier_within_its_period_opens_its_rewards(merchant, rich, club, cashier_actor, redeem):
    ledger.tier_fee_record(member=rich, tier=club, amount=Decimal(30), actor=cashier_actor)
    reward = RewardFactory(merchant=merchant, points_cost=50, min_tier=club)

    redeem(rich, reward)

    assert Redemption.objects.filter(reward=reward).count() == 1


def test_a_lapsed_paid_tier_no_longer_opens_its_rewards(merchant, rich, club, cashier_actor, redeem):
    ledger.tier_fee_record(member=rich, tier=club, amount=Decimal(30), actor=cashier_actor)
    Account.objects.filter(member=rich).update(paid_until=shop_today(merchant) - timedelta(days=1))
    reward = RewardFactory(merchant=merchant, points_cost=50, min_tier=club)

    with pytest.raises(ledger.LedgerError, match="for Club members"):
        redeem(rich, reward)

    assert not Redemption.objects.exists()


# ---------------------------------------------------------------------------------------------
# Stock and the validity window


def test_redeeming_takes_one_from_stock(rich, mug, redeem):
    mug.stock = 2
    mug.save()

    redeem(rich, mug)

    mug.refresh_from_db()
    assert mug.stock == 1


def test_an_out_of_stock_reward_is_refused(rich, mug, redeem):
    mug.stock = 1
    mug.save()
    redeem(rich, mug)
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError, match="out of stock"):
        redeem(rich, mug)

    assert ledger_snapshot() == before


def test_a_reward_not_yet_available_is_refused(merchant, rich, mug, redeem):
    mug.valid_from = shop_today(merchant) + timedelta(days=1)
    mug.save()

    with pytest.raises(ledger.LedgerError, match="not available now"):
        redeem(rich, mug)

    assert balance_of(rich) == 500


def test_a_reward_past_its_end_date_is_refused_naming_the_date(merchant, rich, mug, redeem):
    mug.valid_until = shop_today(merchant) - timedelta(days=1)
    mug.save()

    with pytest.raises(ledger.LedgerError, match=f"ended on {mug.valid_until}"):
        redeem(rich, mug)

    assert balance_of(rich) == 500


def test_a_reward_can_be_had_on_its_first_and_last_day(merchant, rich, mug, redeem):
    mug.valid_from = mug.valid_until = shop_today(merchant)
    mug.save()

    redeem(rich, mug)

    assert balance_of(rich) == 400


def test_a_withdrawn_reward_is_refused(rich, mug, redeem):
    mug.is_active = False
    mug.save()

    with pytest.raises(ledger.LedgerError, match="not available now"):
        redeem(rich, mug)

    assert not Redemption.objects.exists()


# ---------------------------------------------------------------------------------------------
# Voucher codes


def test_a_voucher_code_is_two_groups_of_five_readable_characters(rich, mug, redeem):
    voucher = redeem(rich, mug)

    alphabet = re.escape(CODE_ALPHABET)
    assert re.fullmatch(rf"[{alphabet}]{{5}}-[{alphabet}]{{5}}", voucher.code)


def test_a_code_already_issued_in_the_shop_is_not_issued_again(monkeypatch, rich, mug, redeem):
    # The generator repeats itself once: the second voucher must still get a code of its own.
    draws = iter(["AAAA", "AAAA", "AAAA", "AAAA", "CCCC", "DDDD"])
    monkeypatch.setattr(ledger, "random_code", lambda length: next(draws))

    first, second = redeem(rich, mug), redeem(rich, mug)

    assert (first.code, second.code) == ("AAAA-AAAA", "CCCC-DDDD")


def test_another_shop_may_issue_the_same_code(monkeypatch, rich, mug, redeem):
    shop = MerchantFactory()
    ProgramFactory(merchant=shop)
    stranger = MemberFactory(merchant=shop)
    their_manager = Actor.for_staff(StaffFactory(merchant=shop, role=Role.MANAGER))
    ledger.points_adjust(member=stranger, points=100, reason="opening points", actor=their_manager)
    monkeypatch.setattr(ledger, "random_code", lambda length: "AAAA")

    ours = redeem(rich, mug)
    theirs = ledger.reward_redeem(
        member=stranger, reward=RewardFactory(merchant=shop, points_cost=100), actor=their_manager
    )

    assert ours.code == theirs.code == "AAAA-AAAA"


# ---------------------------------------------------------------------------------------------
# Idempotency


def test_a_replayed_redemption_returns_the_first_voucher_and_writes_nothing(rich, mug, redeem):
    first = redeem(rich, mug, idempotency_key="app-1")
    before = ledger_snapshot()

    again = redeem(rich, mug, idempotency_key="app-1")

    assert again.pk == first.pk
    assert ledger_snapshot() == before


def test_a_redemption_key_reused_for_another_reward_is_a_conflict(merchant, rich, mug, redeem):
    cake = RewardFactory(merchant=merchant, points_cost=10)
    redeem(rich, mug, idempotency_key="app-1")
    before = ledger_snapshot()

    with pytest.raises(ledger.IdempotencyConflict):
        redeem(rich, cake, idempotency_key="app-1")

    assert ledger_snapshot() == before


def test_a_pay_with_points_key_reused_with_other_points_is_a_conflict(rich, pay, redeem):
    redeem(rich, pay, points=100, idempotency_key="app-1")
    before = ledger_snapshot()

    with pytest.raises(ledger.IdempotencyConflict):
        redeem(rich, pay, points=200, idempotency_key="app-1")

    assert ledger_snapshot() == before


# ---------------------------------------------------------------------------------------------
# Using a voucher at the counter


@pytest.fixture
def voucher(rich, mug, redeem):
    return redeem(rich, mug)


def test_a_voucher_is_marked_used(voucher, cashier, cashier_actor):
    ledger.voucher_use(redemption=voucher, actor=cashier_actor)

    voucher.refresh_from_db()
    assert (voucher.status, voucher.used_by_id) == (VoucherStatus.USED, cashier.user_id)
    assert voucher.used_at is not None


def test_using_a_voucher_leaves_the_points_alone(rich, voucher, cashier_actor):
    ledger.voucher_use(redemption=voucher, actor=cashier_actor)

    assert balance_of(rich) == 400


def test_a_used_voucher_is_refused_naming_when_in_the_shops_time(voucher, cashier_actor):
    ledger.voucher_use(redemption=voucher, actor=cashier_actor)
    # 20:00 UTC on 1 March is 04:00 on 2 March in Kuala Lumpur, where the shop is.
    Redemption.objects.filter(pk=voucher.pk).update(used_at=datetime(2026, 3, 1, 20, 0, tzinfo=UTC))
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError, match=rf"{voucher.code} was already used on Mar 2, 2026, 4:00"):
        ledger.voucher_use(redemption=voucher, actor=cashier_actor)

    assert ledger_snapshot() == before


def test_an_expired_voucher_is_refused(rules, rich, mug, redeem, cashier_actor):
    rules(voucher_days=0)
    voucher = redeem(rich, mug)

    with pytest.raises(ledger.LedgerError, match="has expired"):
        ledger.voucher_use(redemption=voucher, actor=cashier_actor)

    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.ISSUED


def test_a_voided_voucher_cannot_be_used(voucher, manager_actor, cashier_actor):
    ledger.voucher_void(redemption=voucher, actor=manager_actor)

    with pytest.raises(ledger.LedgerError, match="was voided"):
        ledger.voucher_use(redemption=voucher, actor=cashier_actor)

    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.VOIDED


def test_a_replayed_voucher_use_returns_the_voucher_and_changes_nothing(voucher, cashier_actor):
    first = ledger.voucher_use(redemption=voucher, actor=cashier_actor, idempotency_key="till-9")
    before = ledger_snapshot()

    again = ledger.voucher_use(redemption=voucher, actor=cashier_actor, idempotency_key="till-9")

    assert (again.pk, again.used_at) == (first.pk, first.used_at)
    assert ledger_snapshot() == before


def test_a_voucher_use_key_reused_for_another_voucher_is_a_conflict(rich, mug, voucher, redeem, cashier_actor):
    other = redeem(rich, mug)
    ledger.voucher_use(redemption=voucher, actor=cashier_actor, idempotency_key="till-9")
    before = ledger_snapshot()

    with pytest.raises(ledger.IdempotencyConflict):
        ledger.voucher_use(redemption=other, actor=cashier_actor, idempotency_key="till-9")

    assert ledger_snapshot() == before


# ---------------------------------------------------------------------------------------------
# Voiding a voucher


def test_voiding_a_voucher_returns_its_points(rich, voucher, manager, manager_actor):
    ledger.voucher_void(redemption=voucher, actor=manager_actor, reason="wrong reward")

    voucher.refresh_from_db()
    assert (voucher.status, voucher.voided_by_id) == (VoucherStatus.VOIDED, manager.user_id)
    credit = PointsEntry.objects.get(kind=Kind.REVERSAL)
    assert (credit.points, credit.redemption_id) == (100, voucher.pk)
    assert "wrong reward" in credit.reason
    assert balance_of(rich) == 500
    assert_ledger_consistent(Account.objects.get(member=rich))


def test_voiding_a_voucher_puts_its_reward_back_in_stock(rich, mug, redeem, manager_actor):
    mug.stock = 1
    mug.save()
    voucher = redeem(rich, mug)

    ledger.voucher_void(redemption=voucher, actor=manager_actor)

    mug.refresh_from_db()
    assert mug.stock == 1


def test_voiding_twice_returns_the_points_once(rich, voucher, manager_actor):
    ledger.voucher_void(redemption=voucher, actor=manager_actor)

    ledger.voucher_void(redemption=voucher, actor=manager_actor)

    assert balance_of(rich) == 500
    assert PointsEntry.objects.filter(kind=Kind.REVERSAL).count() == 1


def test_a_used_voucher_cannot_be_voided(voucher, cashier_actor, manager_actor):
    ledger.voucher_use(redemption=voucher, actor=cashier_actor)
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError, match="already used and cannot be voided"):
        ledger.voucher_void(redemption=voucher, actor=manager_actor)

    assert ledger_snapshot() == before


def test_a_cashier_cannot_void_a_voucher(voucher, cashier_actor):
    before = ledger_snapshot()

    with pytest.raises(PermissionDenied):
        ledger.voucher_void(redemption=voucher, actor=cashier_actor)

    assert ledger_snapshot() == before


def test_a_manager_of_another_shop_cannot_void_a_voucher(voucher, manager):
    elsewhere = StaffFactory(merchant=MerchantFactory(), user=manager.user, role=Role.OWNER)

    with pytest.raises(PermissionDenied):
        ledger.voucher_void(redemption=voucher, actor=Actor.for_staff(elsewhere))

    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.ISSUED
