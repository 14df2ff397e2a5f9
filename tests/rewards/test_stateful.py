"""Random sequences of ledger writes across three members, with every invariant checked after every step.

Hypothesis drives earn / redeem / pay with points / use / void / refund / adjust / replay / expire and a
fake clock that only the expiry job sees (`points_expire(now=...)`). Credits still get due dates past
that clock, the way real time would give them: before each write that can credit points, the rule is
set to a number of months beyond the time already advanced (a rule change applies to later points).

A reference model keeps each account's credits as lots; every debit takes the lots that expire
soonest first. After each expiry run, each account must have lost exactly what the model says was
unspent and due, and never more.

Each example runs inside a savepoint that is rolled back at teardown, so examples do not see each other.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from merchants.actors import Actor
from merchants.models import Role
from rewards import ledger
from rewards.models import Account, Kind, PointsEntry, Purchase, Redemption, Refund, RewardKind, VoucherStatus
from tests.factories import (
    LocationFactory,
    MemberFactory,
    MerchantFactory,
    ProgramFactory,
    RewardFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db

REFERRAL_BONUS = 20
MUG_COST = 30


@dataclass
class Lot:
    """Credited points not yet spent or expired, in the reference model."""

    expires_at: datetime | None
    left: int


class LedgerMachine(RuleBasedStateMachine):
    purchases = Bundle("purchases")
    vouchers = Bundle("vouchers")

    def __init__(self) -> None:
        super().__init__()
        self._savepoint = transaction.atomic()
        self._savepoint.__enter__()
        self.merchant = MerchantFactory()
        LocationFactory(merchant=self.merchant)
        self.program = ProgramFactory(
            merchant=self.merchant, expiry_mode="after_earning", expiry_months=1, referral_bonus=REFERRAL_BONUS
        )
        self.cashier = Actor.for_staff(StaffFactory(merchant=self.merchant, role=Role.CASHIER))
        self.manager = Actor.for_staff(StaffFactory(merchant=self.merchant, role=Role.MANAGER))
        first = MemberFactory(merchant=self.merchant)
        self.members = [
            first,
            MemberFactory(merchant=self.merchant, referred_by=first),
            MemberFactory(merchant=self.merchant),
        ]
        self.mug = RewardFactory(merchant=self.merchant, points_cost=MUG_COST, stock=3)
        self.pay = RewardFactory(merchant=self.merchant, kind=RewardKind.PAY_WITH_POINTS, points_cost=10, points_step=5)
        self.start = self.now = timezone.now()
        self.lots: dict[int, list[Lot]] = {m.pk: [] for m in self.members}
        self.seen_entry = 0
        self.keys = 0
        self.last_purchase: tuple[int, Decimal, str, int] | None = None

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._savepoint.__exit__(None, None, None)

    # -- helpers ---------------------------------------------------------------------------

    def snapshot(self) -> tuple:
        """What a refused write must leave untouched (this shop's ledger, vouchers, stock)."""
        return (
            PointsEntry.objects.filter(merchant=self.merchant).order_by("-pk").values_list("pk", flat=True).first(),
            Purchase.objects.filter(merchant=self.merchant).count(),
            Refund.objects.filter(merchant=self.merchant).count(),
            tuple(Redemption.objects.filter(merchant=self.merchant).order_by("pk").values_list("pk", "status")),
            tuple(Account.objects.filter(merchant=self.merchant).order_by("pk").values_list("pk", "balance")),
            type(self.mug).objects.get(pk=self.mug.pk).stock,
        )

    def key(self) -> str:
        self.keys += 1
        return f"k{self.keys}"

    def balance(self, member) -> int:
        return sum(lot.left for lot in self.lots[member.pk])

    def balance_of_account(self, account: Account) -> int:
        member_pk = next(m.pk for m in self.members if m.pk == account.member_id)
        return sum(lot.left for lot in self.lots[member_pk])

    def months_ahead(self, extra: int) -> None:
        """Credits from now on fall due after the fake clock, as they would in real time."""
        elapsed_days = (self.now - self.start).days + 1
        self.program.expiry_months = elapsed_days // 28 + 1 + extra
        self.program.save(update_fields=["expiry_months"])

    def consume(self, member_pk: int, points: int, lots: list[Lot] | None = None) -> None:
        """A debit takes the soonest-expiring lots first (never-expiring ones last)."""
        lots = self.lots[member_pk] if lots is None else lots
        for lot in sorted(lots, key=lambda lot: (lot.expires_at is None, lot.expires_at or self.now)):
            take = min(lot.left, points)
            lot.left -= take
            points -= take
        assert points == 0, "the ledger debited points the model says the member did not have"
        self.lots[member_pk] = [lot for lot in self.lots[member_pk] if lot.left]

    def follow_ledger(self) -> list[PointsEntry]:
        """Apply the entries written since the last step to the model (expiry lines are checked first)."""
        new = list(PointsEntry.objects.filter(pk__gt=self.seen_entry).select_related("account").order_by("pk"))
        for entry in new:
            member_pk = entry.account.member_id
            if entry.points > 0:
                assert entry.expires_at is None or entry.expires_at > self.now, "a credit born already due"
                self.lots[member_pk].append(Lot(entry.expires_at, entry.points))
            elif entry.kind == Kind.EXPIRE:
                due = [lot for lot in self.lots[member_pk] if lot.expires_at and lot.expires_at <= self.now]
                unspent_due = sum(lot.left for lot in due)
                assert -entry.points <= unspent_due, "expired points that were spent or not yet due"
                assert -entry.points == unspent_due, "left unspent, due points unexpired"
                self.consume(member_pk, -entry.points, due)
            else:
                self.consume(member_pk, -entry.points)
            self.seen_entry = entry.pk
        return new

    # -- rules -----------------------------------------------------------------------------

    @initialize()
    def nothing_yet(self) -> None:
        assert PointsEntry.objects.filter(merchant=self.merchant).count() == 0

    @rule(target=purchases, who=st.integers(0, 2), cents=st.integers(1, 20_000), extra=st.integers(0, 3))
    def earn(self, who: int, cents: int, extra: int):
        self.months_ahead(extra)
        member, amount = self.members[who], Decimal(cents) / 100
        first = not Purchase.objects.filter(account__member=member).exists()
        before = self.balance(member)
        key = self.key()
        purchase = ledger.purchase_record(member=member, amount=amount, actor=self.cashier, idempotency_key=key)
        self.follow_ledger()
        bonus = REFERRAL_BONUS if first and member.referred_by_id else 0
        assert purchase.points == int(amount)  # 1 point per unit, rounded down
        assert self.balance(member) == before + purchase.points + bonus
        self.last_purchase = (who, amount, key, purchase.pk)
        return purchase.pk

    @rule()
    def replay_last_purchase(self) -> None:
        if self.last_purchase is None:
            return
        who, amount, key, pk = self.last_purchase
        before = self.snapshot()
        again = ledger.purchase_record(member=self.members[who], amount=amount, actor=self.cashier, idempotency_key=key)
        assert again.pk == pk
        assert self.snapshot() == before

    @rule(target=vouchers, who=st.integers(0, 2))
    def redeem_mug(self, who: int):
        member = self.members[who]
        stock = type(self.mug).objects.get(pk=self.mug.pk).stock
        if self.balance(member) < MUG_COST or stock == 0:
            before = self.snapshot()
            with pytest.raises(ledger.LedgerError):
                ledger.reward_redeem(member=member, reward=self.mug, actor=self.cashier)
            assert self.snapshot() == before
            return multiple()
        voucher = ledger.reward_redeem(member=member, reward=self.mug, actor=self.cashier, idempotency_key=self.key())
        self.follow_ledger()
        assert voucher.points == MUG_COST
        return voucher.pk

    @rule(target=vouchers, who=st.integers(0, 2), steps=st.integers(0, 12))
    def pay_with_points(self, who: int, steps: int):
        member, points = self.members[who], 10 + 5 * steps
        if self.balance(member) < points:
            before = self.snapshot()
            with pytest.raises(ledger.LedgerError):
                ledger.reward_redeem(member=member, reward=self.pay, actor=self.cashier, points=points)
            assert self.snapshot() == before
            return multiple()
        voucher = ledger.reward_redeem(member=member, reward=self.pay, actor=self.cashier, points=points)
        self.follow_ledger()
        assert voucher.discount == (points * self.program.point_value).quantize(Decimal("0.01"))
        return voucher.pk

    @rule(voucher=vouchers)
    def use(self, voucher: int) -> None:
        status = Redemption.objects.get(pk=voucher).status
        if status != VoucherStatus.ISSUED:
            with pytest.raises(ledger.LedgerError):
                ledger.voucher_use(redemption=Redemption.objects.get(pk=voucher), actor=self.cashier)
            return
        ledger.voucher_use(redemption=Redemption.objects.get(pk=voucher), actor=self.cashier)
        assert Redemption.objects.get(pk=voucher).status == VoucherStatus.USED

    @rule(voucher=vouchers, extra=st.integers(0, 3))
    def void(self, voucher: int, extra: int) -> None:
        self.months_ahead(extra)
        redemption = Redemption.objects.select_related("account").get(pk=voucher)
        member_pk = redemption.account.member_id
        before = sum(lot.left for lot in self.lots[member_pk])
        if redemption.status == VoucherStatus.USED:
            with pytest.raises(ledger.LedgerError):
                ledger.voucher_void(redemption=redemption, actor=self.manager)
            return
        was_issued = redemption.status == VoucherStatus.ISSUED
        ledger.voucher_void(redemption=redemption, actor=self.manager)
        self.follow_ledger()
        after = sum(lot.left for lot in self.lots[member_pk])
        assert after - before == (redemption.points if was_issued else 0)

    @rule(purchase=purchases, percent=st.integers(1, 100))
    def refund(self, purchase: int, percent: int) -> None:
        bought = Purchase.objects.select_related("account").get(pk=purchase)
        member_pk = bought.account.member_id
        if bought.refundable == 0:
            return
        amount = max((bought.refundable * percent / 100).quantize(Decimal("0.01")), Decimal("0.01"))
        refunded = bought.refunded_amount + amount
        due = int((bought.points * refunded / bought.amount).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        due = min(due, bought.points) - bought.points_reversed
        balance = sum(lot.left for lot in self.lots[member_pk])
        made = ledger.purchase_refund(purchase=bought, amount=amount, actor=self.manager, idempotency_key=self.key())
        self.follow_ledger()
        assert (made.points, made.shortfall) == (min(due, balance), due - min(due, balance))

    @rule(purchase=purchases)
    def refund_more_than_is_left(self, purchase: int) -> None:
        bought = Purchase.objects.get(pk=purchase)
        before = self.snapshot()
        with pytest.raises(ledger.LedgerError):
            ledger.purchase_refund(purchase=bought, amount=bought.refundable + Decimal("0.01"), actor=self.manager)
        assert self.snapshot() == before

    @rule(who=st.integers(0, 2), points=st.integers(-60, 60).filter(bool), extra=st.integers(0, 3))
    def adjust(self, who: int, points: int, extra: int) -> None:
        self.months_ahead(extra)
        member = self.members[who]
        if self.balance(member) + points < 0:
            before = self.snapshot()
            with pytest.raises(ledger.LedgerError):
                ledger.points_adjust(member=member, points=points, reason="stateful", actor=self.manager)
            assert self.snapshot() == before
            return
        before = self.balance(member)
        ledger.points_adjust(member=member, points=points, reason="stateful", actor=self.manager)
        self.follow_ledger()
        assert self.balance(member) == before + points

    @rule(days=st.integers(1, 120))
    def advance_clock(self, days: int) -> None:
        self.now += timedelta(days=days)

    @rule()
    def expire(self) -> None:
        expired = ledger.points_expire(merchant=self.merchant, now=self.now)
        lines = self.follow_ledger()
        assert all(line.kind == Kind.EXPIRE for line in lines)
        assert expired == -sum(line.points for line in lines)
        before = self.snapshot()
        assert ledger.points_expire(merchant=self.merchant, now=self.now) == 0  # twice is once
        assert self.snapshot() == before

    # -- invariants, after every step ------------------------------------------------------

    @invariant()
    def balances_match_the_ledger(self) -> None:
        running: dict[int, int] = {}
        for account_id, points, after in (
            PointsEntry.objects.filter(merchant=self.merchant)
            .order_by("pk")
            .values_list("account_id", "points", "balance_after")
        ):
            running[account_id] = running.get(account_id, 0) + points
            assert after == running[account_id] >= 0, "a line's running balance is off"
        for account in Account.objects.filter(merchant=self.merchant):
            assert account.balance == running.get(account.pk, 0) >= 0
            assert account.balance == self.balance_of_account(account), "the ledger and the model disagree"

    @invariant()
    def refunds_never_take_back_more_than_earned(self) -> None:
        taken: dict[int, int] = {}
        for purchase_id, points, shortfall in Refund.objects.filter(merchant=self.merchant).values_list(
            "purchase_id", "points", "shortfall"
        ):
            assert points >= 0
            assert shortfall >= 0
            taken[purchase_id] = taken.get(purchase_id, 0) + points
            taken[-purchase_id] = taken.get(-purchase_id, 0) + shortfall
        reversed_in_ledger: dict[int, int] = {}
        for purchase_id, points in PointsEntry.objects.filter(
            merchant=self.merchant, kind=Kind.REVERSAL, purchase__isnull=False
        ).values_list("purchase_id", "points"):
            reversed_in_ledger[purchase_id] = reversed_in_ledger.get(purchase_id, 0) - points
        for pk, points, points_reversed in Purchase.objects.filter(merchant=self.merchant).values_list(
            "pk", "points", "points_reversed"
        ):
            assert 0 <= points_reversed <= points
            assert taken.get(pk, 0) + taken.get(-pk, 0) == points_reversed
            assert reversed_in_ledger.get(pk, 0) == taken.get(pk, 0) <= points


def test_random_ledger_histories_keep_every_invariant():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
