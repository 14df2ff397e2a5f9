"""Refunds take back what the purchase earned, in proportion, never more; spent points are a shortfall."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db.models import Sum

from rewards import ledger
from rewards.models import Account, Kind, PointsEntry, Purchase, Refund
from tests.factories import RewardFactory, TierFactory

from .conftest import assert_ledger_consistent, balance_of, ledger_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def refund(manager_actor):
    def run(purchase, amount, **kwargs):
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
        return ledger.purchase_refund(purchase=purchase, amount=value, actor=manager_actor, **kwargs)

    return run


def taken_back(purchase) -> int:
    return -(PointsEntry.objects.filter(purchase=purchase, kind=Kind.REVERSAL).aggregate(s=Sum("points"))["s"] or 0)


def test_a_full_refund_takes_back_all_the_points(buy, refund, member):
    purchase = buy("100.00")

    made = refund(purchase, "100.00", reason="faulty machine")

    assert (made.points, made.shortfall) == (100, 0)
    entry = PointsEntry.objects.get(kind=Kind.REVERSAL)
    assert (entry.points, entry.purchase_id, entry.refund_id) == (-100, purchase.pk, made.pk)
    assert "faulty machine" in entry.reason
    purchase.refresh_from_db()
    assert (purchase.refunded_amount, purchase.points_reversed) == (Decimal(100), 100)
    assert balance_of(member) == 0


def test_a_partial_refund_takes_back_points_in_proportion(rules, buy, refund, member):
    rules(points_per_unit=Decimal(2))
    purchase = buy("80.00")

    refund(purchase, "20.00")

    assert balance_of(member) == 120


def test_partial_refunds_add_up_to_exactly_the_points_earned(buy, refund, member):
    purchase = buy("10.00")

    parts = [refund(purchase, amount).points for amount in ("3.33", "3.33", "3.34")]

    assert sum(parts) == 10  # per-refund rounding would give 3 + 3 + 3
    assert balance_of(member) == 0


def test_partial_refunds_never_take_back_more_than_earned(buy, refund, member):
    purchase = buy("3.00")

    parts = [refund(purchase, "1.50").points for _ in range(2)]

    assert parts == [2, 1]  # rounding each half on its own would take 2 + 2
    assert taken_back(purchase) == 3


def test_a_refund_takes_back_the_multiplied_points_the_purchase_earned(merchant, buy, refund, member):
    TierFactory(merchant=merchant, threshold=Decimal(10), multiplier=Decimal(3))
    buy("10.00")
    purchase = buy("10.00")  # 30 points as a tier member

    refund(purchase, "10.00")

    assert taken_back(purchase) == 30
    assert balance_of(member) == 10


def test_a_refund_above_what_is_left_is_refused(buy, refund):
    purchase = buy("10.00")
    refund(purchase, "6.00")
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError, match=r"Only RM4\.00 of this purchase is left"):
        refund(purchase, "4.01")

    assert ledger_snapshot() == before


def test_a_refund_of_more_than_the_purchase_is_refused(buy, refund):
    purchase = buy("10.00")
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError):
        refund(purchase, "10.01")

    assert ledger_snapshot() == before


@pytest.mark.parametrize("amount", ["0", "-1.00", "NaN", "1.001"])
def test_a_refund_of_a_bad_amount_is_refused(buy, refund, amount):
    purchase = buy("10.00")
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError):
        refund(purchase, Decimal(amount))

    assert ledger_snapshot() == before


def test_spent_points_leave_the_balance_at_zero_and_a_shortfall(merchant, buy, refund, member, cashier_actor):
    purchase = buy("100.00")
    ledger.reward_redeem(member=member, reward=RewardFactory(merchant=merchant, points_cost=80), actor=cashier_actor)

    made = refund(purchase, "100.00")

    assert (made.points, made.shortfall) == (20, 80)
    assert balance_of(member) == 0
    assert_ledger_consistent(Account.objects.get(member=member))


def test_a_refund_of_a_purchase_that_earned_nothing_takes_nothing(rules, buy, refund, member, give):
    rules(min_purchase=Decimal(50))
    give(member, 40)
    purchase = buy("20.00")

    made = refund(purchase, "20.00")

    assert (made.points, made.shortfall) == (0, 0)
    assert not PointsEntry.objects.filter(kind=Kind.REVERSAL).exists()
    assert balance_of(member) == 40


def test_a_refund_lowers_the_spend_and_the_qualifying_total(buy, refund, member):
    purchase = buy("100.00")

    refund(purchase, "30.00")

    account = Account.objects.get(member=member)
    assert (account.lifetime_spend, account.qualifying_total) == (Decimal(70), Decimal(70))


def test_a_cashier_cannot_refund(buy, cashier_actor):
    purchase = buy("10.00")
    before = ledger_snapshot()

    with pytest.raises(PermissionDenied):
        ledger.purchase_refund(purchase=purchase, amount=Decimal(10), actor=cashier_actor)

    assert ledger_snapshot() == before


# ---------------------------------------------------------------------------------------------
# Idempotency


def test_a_replayed_refund_returns_the_first_and_writes_nothing(buy, refund, member):
    purchase = buy("10.00")
    first = refund(purchase, "4.00", idempotency_key="ref-1")
    before = ledger_snapshot()

    again = refund(purchase, "4.00", idempotency_key="ref-1")

    assert again.pk == first.pk
    assert ledger_snapshot() == before
    assert Purchase.objects.get(pk=purchase.pk).refunded_amount == Decimal(4)


def test_a_refund_key_reused_with_another_amount_is_a_conflict(buy, refund):
    purchase = buy("10.00")
    refund(purchase, "4.00", idempotency_key="ref-1")
    before = ledger_snapshot()

    with pytest.raises(ledger.IdempotencyConflict):
        refund(purchase, "5.00", idempotency_key="ref-1")

    assert ledger_snapshot() == before


def test_a_refund_key_reused_for_another_purchase_is_a_conflict(buy, refund):
    first, second = buy("10.00"), buy("10.00")
    refund(first, "4.00", idempotency_key="ref-1")
    before = ledger_snapshot()

    with pytest.raises(ledger.IdempotencyConflict):
        refund(second, "4.00", idempotency_key="ref-1")

    assert ledger_snapshot() == before
    assert Refund.objects.filter(purchase=second).count() == 0
