"""Points-engine fixtures: a shop with a program, its staff as Actors, members, and ledger checks."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db.models import Sum

from members.models import Member
from merchants.actors import Actor
from merchants.models import AuditLog, Merchant
from rewards import ledger
from rewards.models import (
    Account,
    PointsEntry,
    Program,
    Purchase,
    Redemption,
    Refund,
    Reward,
    TierChange,
    TierFee,
)
from tests.factories import MemberFactory, MerchantFactory, ProgramFactory


def balance_of(member: Member) -> int:
    """The cached balance, 0 for a member whose account was never opened."""
    account = Account.objects.filter(member=member).first()
    return account.balance if account else 0


def assert_ledger_consistent(account: Account) -> None:
    """Invariants 1 and 2 for one account, plus each line's running balance."""
    account.refresh_from_db()
    entries = list(PointsEntry.objects.filter(account=account).order_by("pk"))
    assert account.balance == sum(e.points for e in entries)
    assert account.balance >= 0
    running = 0
    for entry in entries:
        running += entry.points
        assert entry.balance_after == running, f"entry {entry.pk} ({entry.kind}) says {entry.balance_after}"
        assert entry.merchant_id == account.merchant_id


def ledger_snapshot() -> dict[str, object]:
    """Everything a refused write must leave untouched."""
    return {
        "purchases": Purchase.objects.count(),
        "entries": PointsEntry.objects.count(),
        "refunds": Refund.objects.count(),
        "redemptions": Redemption.objects.count(),
        "tier_fees": TierFee.objects.count(),
        "tier_changes": TierChange.objects.count(),
        "audit": AuditLog.objects.count(),
        "balances": sorted(Account.objects.values_list("pk", "balance")),
        "stock": sorted(Reward.objects.values_list("pk", "stock")),
        "vouchers": sorted(Redemption.objects.values_list("pk", "status")),
        "entry_sum": PointsEntry.objects.aggregate(s=Sum("points"))["s"],
    }


@pytest.fixture
def program(merchant: Merchant) -> Program:
    return ProgramFactory(merchant=merchant)


@pytest.fixture
def rules(program: Program) -> Callable[..., Program]:
    """Change the shop's rules: rules(points_per_unit=Decimal(2), rounding="up")."""

    def change(**fields: object) -> Program:
        for name, value in fields.items():
            setattr(program, name, value)
        program.save()
        return program

    return change


@pytest.fixture
def cashier_actor(cashier) -> Actor:
    return Actor.for_staff(cashier, location=cashier.merchant.locations.first())


@pytest.fixture
def manager_actor(manager) -> Actor:
    return Actor.for_staff(manager, location=manager.merchant.locations.first())


@pytest.fixture
def member(merchant: Merchant, program: Program) -> Member:
    return MemberFactory(merchant=merchant)


@pytest.fixture
def buy(member: Member, cashier_actor: Actor) -> Callable[..., Purchase]:
    """Record a purchase at the counter: buy("12.50"), buy(30, member=other, idempotency_key="k")."""

    def record(amount: object, *, member: Member = member, actor: Actor = cashier_actor, **kwargs: object) -> Purchase:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
        return ledger.purchase_record(member=member, amount=value, actor=actor, **kwargs)

    return record


@pytest.fixture
def give(manager_actor: Actor) -> Callable[..., PointsEntry]:
    """Put points on a member's account by a manager's adjustment: give(member, 100)."""
    counter = iter(range(1, 10_000))

    def adjust(member: Member, points: int) -> PointsEntry:
        return ledger.points_adjust(
            member=member,
            points=points,
            reason="opening points",
            actor=manager_actor,
            idempotency_key=f"give-{next(counter)}",
        )

    return adjust


@pytest.fixture
def huf_merchant(db) -> Merchant:
    """A Hungarian shop: forints have no decimals in practice."""
    shop = MerchantFactory(country="HU", currency="HUF", timezone="Europe/Budapest")
    ProgramFactory(merchant=shop)
    return shop
