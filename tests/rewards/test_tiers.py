"""The nightly tier review, paid tiers and their reminders. Dates are passed as `today=`."""

from datetime import timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from rewards import ledger
from rewards.models import Account, TierChange, TierFee
from tests.factories import TierFactory

from .conftest import ledger_snapshot

pytestmark = pytest.mark.django_db


def shop_today(merchant):
    return timezone.localtime(timezone.now(), merchant.tzinfo).date()


@pytest.fixture
def silver(merchant, rules):
    rules(tier_window_months=12)
    return TierFactory(merchant=merchant, name="Silver", threshold=Decimal(100), multiplier=Decimal("1.5"))


@pytest.fixture
def gold(merchant, silver):
    return TierFactory(merchant=merchant, name="Gold", threshold=Decimal(300), multiplier=Decimal(2))


@pytest.fixture
def refund(manager_actor):
    def run(purchase, amount):
        return ledger.purchase_refund(purchase=purchase, amount=Decimal(amount), actor=manager_actor)

    return run


def account_of(member) -> Account:
    return Account.objects.get(member=member)


def review(merchant, today):
    return ledger.tier_review(merchant=merchant, today=today)


# ---------------------------------------------------------------------------------------------
# Earned tiers


def test_a_tier_is_kept_until_its_period_ends_though_the_member_no_longer_qualifies(
    merchant, silver, buy, refund, member
):
    refund(buy("100.00"), "50.00")

    review(merchant, account_of(member).tier_until - timedelta(days=1))

    assert account_of(member).tier_id == silver.pk
    assert not TierChange.objects.filter(reason="review").exists()


def test_a_member_who_no_longer_qualifies_moves_down_when_the_period_ends(merchant, silver, buy, refund, member):
    refund(buy("100.00"), "50.00")
    until = account_of(member).tier_until

    counts = review(merchant, until)

    assert counts["demoted"] == 1
    account = account_of(member)
    assert (account.tier, account.tier_until) == (None, None)
    change = TierChange.objects.get(reason="review")
    assert (change.from_tier_id, change.to_tier) == (silver.pk, None)


def test_a_member_moves_down_to_the_tier_still_qualified_for(merchant, silver, gold, buy, refund, member):
    refund(buy("300.00"), "150.00")
    until = account_of(member).tier_until

    review(merchant, until)

    account = account_of(member)
    assert account.tier_id == silver.pk
    assert account.tier_until == until + relativedelta(months=12)


def test_a_member_still_qualifying_keeps_the_tier_for_another_period(merchant, silver, buy, member):
    buy("100.00")
    until = account_of(member).tier_until

    counts = review(merchant, until)

    assert counts["kept"] == 1
    account = account_of(member)
    assert (account.tier_id, account.tier_until) == (silver.pk, until + relativedelta(months=12))
    assert not TierChange.objects.filter(reason="review").exists()


def test_purchases_older_than_the_window_no_longer_qualify(merchant, silver, buy, member):
    buy("100.00")
    day_after = account_of(member).tier_until + timedelta(days=1)

    review(merchant, day_after)

    account = account_of(member)
    assert (account.tier, account.qualifying_total) == (None, Decimal(0))


def test_the_review_promotes_a_member_who_qualifies_for_a_new_tier(merchant, rules, buy, member):
    rules(tier_window_months=12)
    buy("150.00")
    silver = TierFactory(merchant=merchant, name="Silver", threshold=Decimal(100))
    today = shop_today(merchant)

    counts = review(merchant, today)

    assert counts["promoted"] == 1
    account = account_of(member)
    assert (account.tier_id, account.tier_until) == (silver.pk, today + relativedelta(months=12))
    change = TierChange.objects.get()
    assert (change.from_tier, change.to_tier_id, change.reason) == (None, silver.pk, "review")


def test_the_review_recomputes_the_rolling_total_net_of_refunds(merchant, silver, buy, refund, member):
    buy("80.00")
    refund(buy("50.00"), "20.00")
    Account.objects.filter(member=member).update(qualifying_total=0)

    review(merchant, shop_today(merchant))

    assert account_of(member).qualifying_total == Decimal(110)


def test_a_review_run_twice_changes_nothing_more(merchant, silver, buy, refund, member):
    refund(buy("100.00"), "50.00")
    until = account_of(member).tier_until
    review(merchant, until)
    before = ledger_snapshot()

    counts = review(merchant, until)

    assert counts == {"promoted": 0, "demoted": 0, "kept": 0, "lapsed": 0}
    assert ledger_snapshot() == before


# ---------------------------------------------------------------------------------------------
# Paid tiers


@pytest.fixture
def club(merchant):
    return TierFactory(
        merchant=merchant,
        name="Club",
        threshold=Decimal(0),
        multiplier=Decimal(2),
        is_paid=True,
        fee=30,
        paid_months=12,
    )


@pytest.fixture
def pay_fee(cashier_actor):
    def run(member, tier, amount="30.00", **kwargs):
        return ledger.tier_fee_record(member=member, tier=tier, amount=Decimal(amount), actor=cashier_actor, **kwargs)

    return run


def test_a_fee_holds_the_paid_tier_for_its_months(merchant, club, pay_fee, member):
    today = shop_today(merchant)

    fee = pay_fee(member, club)

    end = today + relativedelta(months=12) - timedelta(days=1)
    assert (fee.starts_on, fee.ends_on, fee.amount) == (today, end, Decimal(30))
    account = account_of(member)
    assert (account.paid_tier_id, account.paid_until) == (club.pk, end)
    change = TierChange.objects.get()
    assert (change.to_tier_id, change.reason) == (club.pk, "paid")


def test_the_paid_tier_multiplier_applies_while_paid(club, pay_fee, buy, member):
    pay_fee(member, club)

    assert buy("10.00").points == 20


def test_paying_again_before_the_end_extends_the_period(club, pay_fee, member):
    first = pay_fee(member, club)

    second = pay_fee(member, club)

    assert second.starts_on == first.ends_on + timedelta(days=1)
    assert account_of(member).paid_until == second.ends_on
    assert TierChange.objects.filter(reason="paid").count() == 1


def test_the_paid_tier_is_kept_through_its_last_day(merchant, club, pay_fee, member):
    fee = pay_fee(member, club)

    counts = review(merchant, fee.ends_on)

    assert counts["lapsed"] == 0
    assert account_of(member).paid_tier_id == club.pk


def test_a_paid_tier_lapses_the_day_after_its_period(merchant, club, pay_fee, member):
    fee = pay_fee(member, club)

    counts = review(merchant, fee.ends_on + timedelta(days=1))

    assert counts["lapsed"] == 1
    assert account_of(member).paid_tier is None
    change = TierChange.objects.get(reason="lapsed")
    assert (change.from_tier_id, change.to_tier) == (club.pk, None)


def test_a_lapsed_paid_tier_leaves_the_earned_tier_in_place(merchant, silver, club, pay_fee, buy, member):
    club.paid_months = 6
    club.save()
    fee = pay_fee(member, club)
    buy("100.00")  # Silver, earned for 12 months

    review(merchant, fee.ends_on + timedelta(days=1))

    account = account_of(member)
    assert (account.paid_tier, account.tier_id) == (None, silver.pk)
    assert TierChange.objects.get(reason="lapsed").to_tier_id == silver.pk


def test_a_fee_for_a_tier_that_is_not_paid_is_refused(silver, pay_fee, member):
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError, match="not a paid membership"):
        pay_fee(member, silver)

    assert ledger_snapshot() == before


def test_a_fee_with_a_bad_amount_is_refused(club, pay_fee, member):
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError):
        pay_fee(member, club, amount="30.001")

    assert ledger_snapshot() == before


def test_a_replayed_fee_returns_the_first_and_writes_nothing(club, pay_fee, member):
    first = pay_fee(member, club, idempotency_key="fee-1")
    before = ledger_snapshot()

    again = pay_fee(member, club, idempotency_key="fee-1")

    assert again.pk == first.pk
    assert ledger_snapshot() == before
    assert account_of(member).paid_until == first.ends_on


def test_a_fee_key_reused_with_another_amount_is_a_conflict(club, pay_fee, member):
    pay_fee(member, club, idempotency_key="fee-1")
    before = ledger_snapshot()

    with pytest.raises(ledger.IdempotencyConflict):
        pay_fee(member, club, amount="25.00", idempotency_key="fee-1")

    assert ledger_snapshot() == before
    assert TierFee.objects.count() == 1


# ---------------------------------------------------------------------------------------------
# Reminders before a paid tier lapses


@pytest.fixture
def paid_until(rules, club, pay_fee, member):
    rules(paid_tier_reminder_days=7)
    return pay_fee(member, club).ends_on


def reminders(merchant, today) -> list[int]:
    return [a.member_id for a in ledger.paid_tier_reminders_due(merchant=merchant, today=today)]


def test_a_paid_tier_ending_within_the_window_is_due_a_reminder(merchant, paid_until, member):
    assert reminders(merchant, paid_until - timedelta(days=7)) == [member.pk]


def test_a_paid_tier_ending_later_is_not_due_yet(merchant, paid_until):
    assert reminders(merchant, paid_until - timedelta(days=8)) == []


def test_a_reminded_account_is_not_listed_again(merchant, paid_until):
    for account in ledger.paid_tier_reminders_due(merchant=merchant, today=paid_until - timedelta(days=7)):
        ledger.paid_tier_mark_reminded(account=account)

    assert reminders(merchant, paid_until - timedelta(days=3)) == []


def test_a_renewed_period_is_reminded_again(merchant, club, pay_fee, paid_until, member):
    for account in ledger.paid_tier_reminders_due(merchant=merchant, today=paid_until - timedelta(days=7)):
        ledger.paid_tier_mark_reminded(account=account)
    renewal = pay_fee(member, club)

    assert reminders(merchant, renewal.ends_on - timedelta(days=2)) == [member.pk]


def test_a_lapsed_paid_tier_is_not_reminded(merchant, paid_until):
    assert reminders(merchant, paid_until + timedelta(days=1)) == []


def test_another_shops_paid_tiers_are_not_listed(other_merchant, paid_until):
    assert reminders(other_merchant, paid_until - timedelta(days=7)) == []
