"""Undo at the counter: who may undo what and for how long, only once, and the ledger's invariants."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from merchants.actors import Actor
from merchants.models import Role
from rewards import ledger
from rewards.models import Account, Kind, PointsEntry, Purchase, Redemption, Refund, VoucherStatus
from rewards.selectors_counter import last_action
from tests.factories import LocationFactory, MemberFactory, MerchantFactory, ProgramFactory, RewardFactory, StaffFactory

from .conftest import assert_ledger_consistent, balance_of, ledger_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(merchant) -> Actor:
    """Another cashier of the same shop."""
    return Actor.for_staff(StaffFactory(merchant=merchant, role=Role.CASHIER))


@pytest.fixture
def mug(merchant):
    return RewardFactory(merchant=merchant, name="Mug", points_cost=100, stock=5)


def age(obj: Purchase | Redemption, minutes: float) -> None:
    """Make a purchase or redemption look `minutes` old."""
    type(obj).objects.filter(pk=obj.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))
    obj.refresh_from_db()


# ---------------------------------------------------------------------------------------------
# Purchases


def test_a_cashier_undoes_their_own_purchase_and_its_points_go(buy, member, cashier_actor):
    purchase = buy(40)

    refund = ledger.purchase_undo(purchase=purchase, actor=cashier_actor)

    assert (refund.amount, refund.points, refund.reason) == (Decimal(40), 40, "Undone at the counter")
    assert balance_of(member) == 0
    purchase.refresh_from_db()
    assert (purchase.refunded_amount, purchase.points_reversed) == (Decimal(40), 40)
    entry = PointsEntry.objects.get(refund=refund)
    assert (entry.kind, entry.points, entry.location) == (Kind.REVERSAL, -40, cashier_actor.location)
    assert_ledger_consistent(Account.objects.get(member=member))


def test_undoing_twice_takes_the_points_back_once(buy, member, cashier_actor):
    purchase = buy(40)

    first = ledger.purchase_undo(purchase=purchase, actor=cashier_actor)
    second = ledger.purchase_undo(purchase=purchase, actor=cashier_actor)

    assert first == second
    assert Refund.objects.filter(purchase=purchase).count() == 1
    assert balance_of(member) == 0
    assert_ledger_consistent(Account.objects.get(member=member))


def test_a_cashier_cannot_undo_after_the_window(buy, cashier_actor, settings):
    settings.UNDO_MINUTES = 5
    purchase = buy(40)
    age(purchase, 5.5)
    before = ledger_snapshot()

    with pytest.raises(PermissionDenied, match="Only a manager can undo this"):
        ledger.purchase_undo(purchase=purchase, actor=cashier_actor)

    assert ledger_snapshot() == before


def test_a_cashier_can_undo_just_inside_the_window(buy, member, cashier_actor, settings):
    settings.UNDO_MINUTES = 5
    purchase = buy(40)
    age(purchase, 4.5)

    ledger.purchase_undo(purchase=purchase, actor=cashier_actor)

    assert balance_of(member) == 0


def test_a_cashier_cannot_undo_a_colleagues_purchase(buy, colleague, cashier_actor):
    purchase = buy(40, actor=colleague)
    before = ledger_snapshot()

    with pytest.raises(PermissionDenied):
        ledger.purchase_undo(purchase=purchase, actor=cashier_actor)

    assert ledger_snapshot() == before


def test_a_manager_undoes_anyones_purchase_at_any_time(buy, member, colleague, manager_actor):
    purchase = buy(40, actor=colleague)
    age(purchase, 60 * 24)

    ledger.purchase_undo(purchase=purchase, actor=manager_actor)

    assert balance_of(member) == 0


def test_staff_of_another_shop_cannot_undo(buy, other_merchant):
    purchase = buy(40)
    stranger = Actor.for_staff(StaffFactory(merchant=other_merchant, role=Role.OWNER))
    before = ledger_snapshot()

    with pytest.raises(PermissionDenied):
        ledger.purchase_undo(purchase=purchase, actor=stranger)

    assert ledger_snapshot() == before


def test_a_fully_refunded_purchase_cannot_be_undone(buy, manager_actor, cashier_actor):
    purchase = buy(40)
    ledger.purchase_refund(purchase=purchase, amount=Decimal(40), actor=manager_actor)
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError, match="already refunded"):
        ledger.purchase_undo(purchase=purchase, actor=cashier_actor)

    assert ledger_snapshot() == before


def test_undo_after_a_partial_refund_takes_back_only_what_is_left(buy, member, manager_actor, cashier_actor):
    purchase = buy(40)
    ledger.purchase_refund(purchase=purchase, amount=Decimal(10), actor=manager_actor)

    refund = ledger.purchase_undo(purchase=purchase, actor=cashier_actor)

    assert (refund.amount, refund.points) == (Decimal(30), 30)
    assert balance_of(member) == 0
    assert_ledger_consistent(Account.objects.get(member=member))


def test_undo_never_takes_more_than_the_balance(buy, member, merchant, cashier_actor):
    purchase = buy(150)
    mug = RewardFactory(merchant=merchant, points_cost=100)
    ledger.reward_redeem(member=member, reward=mug, actor=cashier_actor)

    refund = ledger.purchase_undo(purchase=purchase, actor=cashier_actor)

    assert (refund.points, refund.shortfall) == (50, 100)
    assert balance_of(member) == 0
    assert_ledger_consistent(Account.objects.get(member=member))


def test_an_undone_purchase_no_longer_counts_toward_todays_stamp(buy, member, rules, cashier_actor):
    rules(mode="stamps", one_stamp_per_day=True)
    purchase = buy(10)
    ledger.purchase_undo(purchase=purchase, actor=cashier_actor)

    again = buy(12, idempotency_key="again")

    assert again.points == 1  # the corrected purchase gets today's stamp
    assert balance_of(member) == 1


def test_an_undone_purchase_lowers_the_spend_toward_a_tier(buy, member, cashier_actor):
    purchase = buy(40)

    ledger.purchase_undo(purchase=purchase, actor=cashier_actor)

    account = Account.objects.get(member=member)
    assert (account.lifetime_spend, account.qualifying_total) == (Decimal(0), Decimal(0))


# ---------------------------------------------------------------------------------------------
# Redemptions


@pytest.fixture
def voucher(member, give, mug, cashier_actor) -> Redemption:
    give(member, 150)
    return ledger.reward_redeem(member=member, reward=mug, actor=cashier_actor)


def test_a_cashier_undoes_their_own_redemption_and_the_points_come_back(voucher, member, mug, cashier_actor):
    ledger.redemption_undo(redemption=voucher, actor=cashier_actor)

    voucher.refresh_from_db()
    mug.refresh_from_db()
    assert voucher.status == VoucherStatus.VOIDED
    assert balance_of(member) == 150
    assert mug.stock == 5
    assert "Undone at the counter" in PointsEntry.objects.get(redemption=voucher, kind=Kind.REVERSAL).reason
    assert_ledger_consistent(Account.objects.get(member=member))


def test_undoing_a_redemption_twice_gives_the_points_back_once(voucher, member, cashier_actor):
    ledger.redemption_undo(redemption=voucher, actor=cashier_actor)
    ledger.redemption_undo(redemption=voucher, actor=cashier_actor)

    assert balance_of(member) == 150
    assert PointsEntry.objects.filter(redemption=voucher, kind=Kind.REVERSAL).count() == 1


def test_a_used_voucher_cannot_be_undone(voucher, cashier_actor):
    ledger.voucher_use(redemption=voucher, actor=cashier_actor)
    before = ledger_snapshot()

    with pytest.raises(ledger.LedgerError, match="already used"):
        ledger.redemption_undo(redemption=voucher, actor=cashier_actor)

    assert ledger_snapshot() == before


def test_a_cashier_cannot_undo_an_old_redemption_but_a_manager_can(voucher, member, cashier_actor, manager_actor):
    age(voucher, 30)

    with pytest.raises(PermissionDenied):
        ledger.redemption_undo(redemption=voucher, actor=cashier_actor)
    ledger.redemption_undo(redemption=voucher, actor=manager_actor)

    assert balance_of(member) == 150


def test_a_cashier_cannot_undo_a_colleagues_redemption(voucher, colleague):
    before = ledger_snapshot()

    with pytest.raises(PermissionDenied):
        ledger.redemption_undo(redemption=voucher, actor=colleague)

    assert ledger_snapshot() == before


# ---------------------------------------------------------------------------------------------
# What the panel offers


def test_the_last_action_is_the_newest_purchase_or_redemption(buy, voucher, member, cashier_actor):
    account = Account.objects.get(member=member)
    purchase = buy(10)
    age(voucher, 2)

    last = last_action(account=account, actor=cashier_actor, recent=[purchase])

    assert (last.purchase, last.redemption, last.undoable, last.allowed) == (purchase, None, True, True)


def test_the_last_action_is_not_offered_again_once_undone(buy, member, cashier_actor):
    purchase = buy(10)
    ledger.purchase_undo(purchase=purchase, actor=cashier_actor)
    purchase.refresh_from_db()

    last = last_action(account=Account.objects.get(member=member), actor=cashier_actor, recent=[purchase])

    assert (last.undoable, last.allowed) == (False, False)


def test_a_colleagues_last_action_is_shown_as_undoable_by_a_manager_only(voucher, member, colleague, manager_actor):
    account = Account.objects.get(member=member)

    mine = last_action(account=account, actor=colleague, recent=[])
    boss = last_action(account=account, actor=manager_actor, recent=[])

    assert (mine.undoable, mine.allowed) == (True, False)
    assert boss.allowed


# ---------------------------------------------------------------------------------------------
# Concurrent undos (PostgreSQL row locks)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_undos_at_once_take_the_points_back_once():
    merchant = MerchantFactory()
    location = LocationFactory(merchant=merchant)
    ProgramFactory(merchant=merchant)
    cashier = Actor.for_staff(StaffFactory(merchant=merchant, role=Role.CASHIER), location)
    member = MemberFactory(merchant=merchant)
    purchase = ledger.purchase_record(member=member, amount=Decimal(40), actor=cashier)
    barrier, results = threading.Barrier(4), []

    def undo() -> None:
        try:
            barrier.wait()
            results.append(ledger.purchase_undo(purchase=Purchase.objects.get(pk=purchase.pk), actor=cashier).pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=undo) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == 4
    assert len(set(results)) == 1
    assert Refund.objects.filter(purchase=purchase).count() == 1
    assert balance_of(member) == 0
    assert_ledger_consistent(Account.objects.get(member=member))
