"""Recording a purchase: what it earns under each rule, what it refuses, and what it costs."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from members.models import Member
from rewards import ledger
from rewards.models import Account, Kind, PointsEntry, Purchase, Redemption, TierChange
from tests.factories import MemberFactory, MerchantFactory, ProgramFactory, RewardFactory, TierFactory

from .conftest import assert_ledger_consistent, balance_of, ledger_snapshot

pytestmark = pytest.mark.django_db


def shop_today(merchant) -> date:
    return timezone.localtime(timezone.now(), merchant.tzinfo).date()


# ---------------------------------------------------------------------------------------------
# Points for every purchase


def test_points_per_unit_multiply_the_amount(rules, buy, member):
    rules(points_per_unit=Decimal(2))

    purchase = buy("12.00")

    entry = PointsEntry.objects.get(account__member=member)
    assert (purchase.points, entry.points, entry.kind, entry.purchase_id) == (24, 24, Kind.EARN, purchase.pk)
    assert balance_of(member) == 24


@pytest.mark.parametrize(
    ("rounding", "amount", "points"),
    [
        ("down", "2.99", 2),
        ("down", "3.00", 3),
        ("nearest", "2.49", 2),
        ("nearest", "2.50", 3),
        ("up", "2.01", 3),
        ("up", "2.00", 2),
    ],
)
def test_each_rounding_mode_rounds_the_points(rules, buy, member, rounding, amount, points):
    rules(rounding=rounding)

    buy(amount)

    assert balance_of(member) == points


def test_a_fractional_rate_is_rounded_after_multiplying(rules, buy, member):
    rules(points_per_unit=Decimal("0.5"), rounding="down")

    buy("7.00")

    assert balance_of(member) == 3


def test_a_purchase_below_the_minimum_is_recorded_without_points(rules, buy, member):
    rules(min_purchase=Decimal(10))

    purchase = buy("9.99")

    assert Purchase.objects.filter(pk=purchase.pk, points=0).exists()
    assert not PointsEntry.objects.exists()
    assert Account.objects.get(member=member).purchase_count == 1


def test_a_purchase_at_the_minimum_earns(rules, buy, member):
    rules(min_purchase=Decimal(10))

    buy("10.00")

    assert balance_of(member) == 10


def test_the_tier_multiplier_applies_once_the_member_holds_the_tier(merchant, buy, member):
    TierFactory(merchant=merchant, name="Gold", threshold=Decimal(50), multiplier=Decimal(2))
    buy("50.00")  # reaches Gold

    purchase = buy("10.00")

    assert purchase.points == 20
    assert balance_of(member) == 70


def test_a_multiplied_rate_is_rounded_by_the_program_rule(merchant, rules, buy, member):
    rules(rounding="up")
    TierFactory(merchant=merchant, threshold=Decimal(1), multiplier=Decimal("1.5"))
    buy("1.00")

    assert buy("3.00").points == 5  # 4.5 rounded up


def test_the_daily_cap_trims_the_purchase_that_crosses_it(rules, buy, member):
    rules(daily_cap=30)
    buy("20.00")

    purchase = buy("20.00")

    assert purchase.points == 10
    assert balance_of(member) == 30


def test_nothing_more_is_earned_once_the_daily_cap_is_reached(rules, buy, member):
    rules(daily_cap=30)
    buy("30.00")

    purchase = buy("5.00")

    assert purchase.points == 0
    assert PointsEntry.objects.filter(purchase=purchase).count() == 0
    assert balance_of(member) == 30


def test_the_daily_cap_is_per_member(merchant, rules, buy, member):
    rules(daily_cap=30)
    other = MemberFactory(merchant=merchant)
    buy("30.00")

    buy("25.00", member=other)

    assert balance_of(other) == 25


def test_a_purchase_records_who_and_where(buy, cashier, cashier_actor, member):
    purchase = buy("10.00", receipt="R-17")

    entry = PointsEntry.objects.get(purchase=purchase)
    assert (entry.actor_kind, entry.actor_user_id, entry.location_id) == (
        "staff",
        cashier.user_id,
        cashier_actor.location.pk,
    )
    assert "R-17" in entry.reason
    assert purchase.location_id == cashier_actor.location.pk


# ---------------------------------------------------------------------------------------------
# Stamp cards


@pytest.fixture
def stamps(merchant, rules):
    reward = RewardFactory(merchant=merchant, name="Free wash", points_cost=3)
    return rules(mode="stamps", stamps_per_card=3, min_purchase=Decimal(5), stamp_reward=reward)


def test_a_stamp_shop_gives_one_stamp_per_qualifying_visit(stamps, buy, member):
    purchase = buy("87.50")

    assert purchase.points == 1
    assert balance_of(member) == 1


def test_a_visit_below_the_minimum_gets_no_stamp(stamps, buy, member):
    buy("4.99")

    assert balance_of(member) == 0


def test_a_second_visit_on_the_same_day_gets_no_stamp(stamps, buy, member):
    buy("10.00")

    purchase = buy("10.00")

    assert purchase.points == 0
    assert balance_of(member) == 1


def test_a_shop_may_stamp_every_visit_of_the_day(stamps, rules, buy, member):
    rules(one_stamp_per_day=False)
    buy("10.00")

    buy("10.00")

    assert balance_of(member) == 2


def test_a_full_card_issues_the_stamp_reward_voucher_and_empties_the_card(stamps, rules, buy, member):
    rules(one_stamp_per_day=False)
    buy("10.00")
    buy("10.00")

    purchase = buy("10.00")

    voucher = Redemption.objects.get()
    assert (voucher.reward_id, voucher.points, voucher.account.member_id) == (stamps.stamp_reward_id, 3, member.pk)
    debit = PointsEntry.objects.get(kind=Kind.REDEEM)
    assert (debit.points, debit.redemption_id) == (-3, voucher.pk)
    assert PointsEntry.objects.filter(purchase=purchase, kind=Kind.EARN).exists()
    assert balance_of(member) == 0
    assert_ledger_consistent(Account.objects.get(member=member))


def test_a_card_short_of_full_issues_no_voucher(stamps, rules, buy):
    rules(one_stamp_per_day=False)
    buy("10.00")
    buy("10.00")

    assert not Redemption.objects.exists()


# ---------------------------------------------------------------------------------------------
# Referrals


@pytest.fixture
def referrer(merchant, program):
    return MemberFactory(merchant=merchant, first_name="Aida")


@pytest.fixture
def referred(merchant, referrer, rules):
    rules(referral_bonus=50)
    return MemberFactory(merchant=merchant, referred_by=referrer)


def test_the_referral_bonus_goes_to_both_members_at_the_first_purchase(buy, referrer, referred):
    buy("10.00", member=referred)

    assert balance_of(referred) == 60
    assert balance_of(referrer) == 50
    assert PointsEntry.objects.filter(kind=Kind.BONUS).count() == 2
    for member in (referrer, referred):
        assert_ledger_consistent(Account.objects.get(member=member))


def test_a_second_purchase_brings_no_referral_bonus(buy, referrer, referred):
    buy("10.00", member=referred)

    buy("10.00", member=referred)

    assert balance_of(referred) == 70
    assert balance_of(referrer) == 50


def test_the_referrers_own_purchase_brings_no_referral_bonus(buy, referrer, referred):
    buy("10.00", member=referrer)

    assert balance_of(referrer) == 10
    assert balance_of(referred) == 0


def test_no_referral_bonus_when_the_program_offers_none(rules, buy, referrer, referred):
    rules(referral_bonus=0)

    buy("10.00", member=referred)

    assert balance_of(referrer) == 0
    assert balance_of(referred) == 10


# ---------------------------------------------------------------------------------------------
# Tiers, inline


def test_crossing_a_tier_threshold_promotes_at_once(merchant, rules, buy, member):
    rules(tier_window_months=12)
    silver = TierFactory(merchant=merchant, name="Silver", threshold=Decimal(100))
    buy("60.00")

    buy("40.00")

    account = Account.objects.get(member=member)
    assert account.tier_id == silver.pk
    assert account.tier_until == shop_today(merchant) + relativedelta(months=12)
    change = TierChange.objects.get()
    assert (change.from_tier_id, change.to_tier_id, change.reason, change.account_id) == (
        None,
        silver.pk,
        "earned",
        account.pk,
    )


def test_a_purchase_below_the_threshold_does_not_promote(merchant, buy, member):
    TierFactory(merchant=merchant, threshold=Decimal(100))

    buy("99.99")

    assert Account.objects.get(member=member).tier is None
    assert not TierChange.objects.exists()


def test_a_big_purchase_goes_straight_to_the_highest_tier_reached(merchant, buy, member):
    TierFactory(merchant=merchant, name="Silver", threshold=Decimal(100))
    gold = TierFactory(merchant=merchant, name="Gold", threshold=Decimal(300))

    buy("350.00")

    assert Account.objects.get(member=member).tier_id == gold.pk
    assert list(TierChange.objects.values_list("to_tier", flat=True)) == [gold.pk]


def test_tiers_can_qualify_on_points_earned(merchant, rules, buy, member):
    rules(tier_basis="points", points_per_unit=Decimal(2))
    silver = TierFactory(merchant=merchant, threshold=Decimal(100))

    buy("50.00")  # 100 points, though only 50 spent

    assert Account.objects.get(member=member).tier_id == silver.pk


def test_a_paid_tier_is_never_reached_by_spend(merchant, buy, member):
    TierFactory(merchant=merchant, name="Club", threshold=Decimal(10), is_paid=True, fee=Decimal(30))

    buy("500.00")

    assert Account.objects.get(member=member).tier is None


# ---------------------------------------------------------------------------------------------
# Expiry dates on credits


def test_points_expire_the_configured_months_after_earning(merchant, rules, buy, member):
    rules(expiry_mode="after_earning", expiry_months=6)

    buy("10.00")

    due_day = shop_today(merchant) + relativedelta(months=6) + timedelta(days=1)
    expected = datetime.combine(due_day, time.min, tzinfo=merchant.tzinfo)
    assert PointsEntry.objects.get().expires_at == expected


def test_points_carry_no_expiry_when_they_never_expire(buy):
    buy("10.00")

    assert PointsEntry.objects.get().expires_at is None


def test_a_changed_expiry_rule_applies_only_to_points_earned_afterwards(rules, buy):
    rules(expiry_mode="after_earning", expiry_months=12)
    first = buy("10.00")
    first_expiry = PointsEntry.objects.get(purchase=first).expires_at

    rules(expiry_months=3)
    second = buy("10.00")

    assert PointsEntry.objects.get(purchase=first).expires_at == first_expiry
    second_expiry = PointsEntry.objects.get(purchase=second).expires_at
    assert relativedelta(first_expiry, second_expiry).months == 9


def test_switching_expiry_off_keeps_the_dates_of_earlier_points(rules, buy):
    rules(expiry_mode="after_earning", expiry_months=12)
    first = buy("10.00")

    rules(expiry_mode="never")
    second = buy("10.00")

    assert PointsEntry.objects.get(purchase=first).expires_at is not None
    assert PointsEntry.objects.get(purchase=second).expires_at is None


# ---------------------------------------------------------------------------------------------
# Bad input: refused, nothing written


@pytest.mark.parametrize("amount", ["0", "0.00", "-5.00", "NaN", "sNaN", "Infinity", "-Infinity"])
def test_an_amount_that_is_not_above_zero_is_refused(buy, amount):
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError) as refused:
        buy(Decimal(amount))

    assert refused.value.message_dict["amount"]
    assert ledger_snapshot() == before


def test_a_float_nan_is_refused(buy):
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError):
        buy(float("nan"))

    assert ledger_snapshot() == before


def test_an_amount_above_the_largest_purchase_is_refused(rules, buy, member):
    rules(max_purchase=Decimal(500))
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError, match="500"):
        buy("500.01")

    assert ledger_snapshot() == before
    assert balance_of(member) == 0


def test_the_largest_purchase_itself_is_accepted(rules, buy, member):
    rules(max_purchase=Decimal(500))

    buy("500.00")

    assert balance_of(member) == 500


def test_more_decimals_than_ringgit_have_are_refused(buy):
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError, match="MYR amounts have at most 2 decimals"):
        buy(Decimal("10.005"))

    assert ledger_snapshot() == before


def test_trailing_zeros_beyond_the_currency_decimals_are_accepted(buy, member):
    buy(Decimal("10.000"))

    assert Purchase.objects.get().amount == Decimal("10.00")
    assert balance_of(member) == 10


def test_forint_amounts_with_decimals_are_refused(huf_merchant, cashier_actor):
    customer = MemberFactory(merchant=huf_merchant)
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError, match="HUF amounts have no decimals"):
        ledger.purchase_record(member=customer, amount=Decimal("1500.50"), actor=cashier_actor)

    assert ledger_snapshot() == before


def test_whole_forint_amounts_are_accepted(huf_merchant, cashier_actor):
    customer = MemberFactory(merchant=huf_merchant)

    ledger.purchase_record(member=customer, amount=Decimal(1500), actor=cashier_actor)

    assert balance_of(customer) == 1500


# ---------------------------------------------------------------------------------------------
# Idempotency


def test_a_replayed_purchase_returns_the_first_and_writes_nothing(buy, member):
    first = buy("10.00", receipt="R1", idempotency_key="pos-1")
    before = ledger_snapshot()

    again = buy("10.00", receipt="R1", idempotency_key="pos-1")

    assert again.pk == first.pk
    assert ledger_snapshot() == before
    assert balance_of(member) == 10


def test_a_purchase_key_reused_with_another_amount_is_a_conflict(buy):
    buy("10.00", idempotency_key="pos-1")
    before = ledger_snapshot()

    with pytest.raises(ledger.IdempotencyConflict):
        buy("11.00", idempotency_key="pos-1")

    assert ledger_snapshot() == before


def test_a_purchase_key_reused_for_another_member_is_a_conflict(merchant, buy):
    buy("10.00", idempotency_key="pos-1")
    before = ledger_snapshot()

    with pytest.raises(ledger.IdempotencyConflict):
        buy("10.00", member=MemberFactory(merchant=merchant), idempotency_key="pos-1")

    assert ledger_snapshot() == before


def test_the_same_key_in_another_shop_is_another_purchase(buy, cashier_actor, member):
    shop = MerchantFactory()
    ProgramFactory(merchant=shop)
    stranger = MemberFactory(merchant=shop)
    buy("10.00", idempotency_key="pos-1")

    other = ledger.purchase_record(member=stranger, amount=Decimal(10), actor=cashier_actor, idempotency_key="pos-1")

    assert Purchase.objects.count() == 2
    assert other.merchant_id == shop.pk
    assert balance_of(stranger) == 10


# ---------------------------------------------------------------------------------------------
# Query count: no extra queries per rule or per tier


@pytest.mark.parametrize("tier_count", [1, 5])
def test_recording_a_purchase_with_every_rule_on_takes_a_fixed_number_of_queries(
    merchant, rules, cashier_actor, django_assert_num_queries, tier_count
):
    rules(
        expiry_mode="after_earning",
        daily_cap=10_000,
        referral_bonus=50,
        welcome_bonus=10,
        tier_window_months=12,
    )
    for n in range(tier_count):
        TierFactory(merchant=merchant, threshold=Decimal(10_000 * (n + 1)), multiplier=Decimal(1) + n)
    referrer = MemberFactory(merchant=merchant)
    customer = MemberFactory(merchant=merchant, referred_by=referrer)
    ledger.purchase_record(member=customer, amount=Decimal(5), actor=cashier_actor)  # the first, with the bonus
    customer = Member.objects.select_related("merchant").get(pk=customer.pk)

    # Savepoint, "bought before?" (a referred member), lock, key check, 2 inserts, 1 update, release;
    # the program and tiers come from the cache the first purchase warmed.
    with django_assert_num_queries(8):
        ledger.purchase_record(member=customer, amount=Decimal("12.30"), actor=cashier_actor, idempotency_key="q-1")

    assert balance_of(customer) == 5 + 50 + 12
