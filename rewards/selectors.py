"""Reads for the rewards pages: a member's card (balance, tier, vouchers, rewards), history, reports."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from members.models import Member
from merchants.models import Location, Merchant

from .ledger import LedgerError, local_today, program_for, reward_check
from .models import Account, PointsEntry, Program, Purchase, Redemption, Refund, Reward, Tier, TierBasis, VoucherStatus


def points_exist(*, merchant: Merchant) -> bool:
    """Has any member of this shop ever held points (or stamps)?"""
    return PointsEntry.objects.for_merchant(merchant).exists()


def account_for(*, member: Member) -> Account:
    """The member's account, or an empty unsaved one if the ledger never opened it."""
    account = Account.objects.filter(member=member).select_related("tier", "paid_tier").first()
    if account is None:
        account = Account(member=member, merchant_id=member.merchant_id)
    account.member = member
    return account


@dataclass
class TierProgress:
    current: Tier | None  # the tier the member holds now (earned, or paid and still paid for)
    until: date | None  # held until (earned: next review; paid: end of the paid period)
    paid: bool
    next: Tier | None  # the next earned tier up, if any
    total: Decimal  # spend or points earned within the window
    needed: Decimal  # still to go for the next tier
    percent: int
    by_spend: bool
    window_months: int


def tier_progress(*, account: Account, tiers: list[Tier], program: Program, today: date) -> TierProgress | None:
    """Where the member stands on the tier ladder; None when the shop has no tiers."""
    if not tiers:
        return None
    current = account.effective_tier
    paid = current is not None and current.pk == account.paid_tier_id
    earned = next((t for t in tiers if t.pk == account.tier_id), None)
    floor = earned.threshold if earned else Decimal(-1)
    upper = [t for t in tiers if not t.is_paid and t.threshold > floor]
    nxt = min(upper, key=lambda t: t.threshold, default=None)
    total = account.qualifying_total
    needed = max(nxt.threshold - total, Decimal(0)) if nxt else Decimal(0)
    percent = min(int(total * 100 / nxt.threshold), 100) if nxt and nxt.threshold > 0 else 100
    return TierProgress(
        current=current,
        until=account.paid_until if paid else account.tier_until,
        paid=paid,
        next=nxt,
        total=total,
        needed=needed,
        percent=percent,
        by_spend=program.tier_basis == TierBasis.SPEND,
        window_months=program.tier_window_months,
    )


@dataclass
class StampCard:
    size: int
    filled: int
    full_cards: int  # full cards not yet turned into a voucher (no card reward set)
    slots: list[bool] = field(default_factory=list)


def stamp_card(*, balance: int, size: int) -> StampCard:
    full, filled = divmod(max(balance, 0), size)
    if full and not filled:  # a card that just filled up shows full, not empty
        full, filled = full - 1, size
    return StampCard(size=size, filled=filled, full_cards=full, slots=[n < filled for n in range(size)])


@dataclass
class MemberCard:
    """Everything the member page shows above the history, in a fixed number of queries."""

    member: Member
    account: Account
    program: Program
    tiers: list[Tier]
    paid_tiers: list[Tier]
    progress: TierProgress | None
    stamps: StampCard | None
    vouchers: list[Redemption]
    rewards: list[Reward]
    purchases: list[Purchase]
    locations: list[Location]


def member_card(*, member: Member) -> MemberCard:
    merchant = member.merchant
    account = account_for(member=member)
    program = program_for(merchant)
    tiers = list(Tier.objects.for_merchant(merchant))
    today = local_today(merchant)
    return MemberCard(
        member=member,
        account=account,
        program=program,
        tiers=tiers,
        paid_tiers=[t for t in tiers if t.is_paid],
        progress=tier_progress(account=account, tiers=tiers, program=program, today=today),
        stamps=stamp_card(balance=account.balance, size=program.stamps_per_card) if program.is_stamps else None,
        vouchers=vouchers_usable(account=account),
        rewards=rewards_affordable(account=account, tiers=tiers, today=today),
        purchases=list(purchases_recent(account=account)[:10]),
        locations=list(Location.objects.for_merchant(merchant).filter(is_active=True)),
    )


def vouchers_usable(*, account: Account) -> list[Redemption]:
    if account.pk is None:
        return []
    return list(
        Redemption.objects.for_merchant(account.merchant_id)
        .filter(account=account, status=VoucherStatus.ISSUED, expires_at__gt=timezone.now())
        .select_related("reward")
        .order_by("expires_at", "pk")
    )


def rewards_affordable(*, account: Account, tiers: list[Tier], today: date) -> list[Reward]:
    """Rewards this member can have now: enough points, the right tier, in stock, in their dates."""
    candidates = Reward.objects.for_merchant(account.merchant_id).filter(
        is_active=True, points_cost__lte=account.balance
    )
    affordable = []
    for reward in candidates:
        try:
            reward_check(reward=reward, account=account, tiers=tiers, today=today)
        except LedgerError:
            continue
        affordable.append(reward)
    return affordable


def purchases_recent(*, account: Account) -> QuerySet[Purchase]:
    if account.pk is None:
        return Purchase.objects.none()
    return Purchase.objects.for_merchant(account.merchant_id).filter(account=account).select_related("location")


def member_history(*, account: Account) -> QuerySet[PointsEntry]:
    """The member's ledger lines, newest first, with what each one is about."""
    if account.pk is None:
        return PointsEntry.objects.none()
    return (
        PointsEntry.objects.for_merchant(account.merchant_id)
        .filter(account=account)
        .select_related("purchase", "redemption", "location")
    )


def refund_shortfalls(*, merchant: Merchant) -> QuerySet[Refund]:
    """Refunds that could not take back all their points because the member had spent them."""
    return (
        Refund.objects.for_merchant(merchant)
        .filter(shortfall__gt=0)
        .select_related("purchase__account__member", "purchase__location")
    )
