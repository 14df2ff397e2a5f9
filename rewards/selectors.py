"""Reads for the rewards pages: a member's card (balance, tier, vouchers, rewards), history, reports."""

from bisect import insort
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from members.models import Member
from members.privacy import plain, rows
from merchants.models import Location, Merchant

from .ledger import LedgerError, add_months, local_midnight, local_today, program_for, reward_check
from .models import (
    Account,
    AdjustmentRequest,
    ExpiryMode,
    PointsEntry,
    Program,
    Purchase,
    Redemption,
    Refund,
    RequestStatus,
    Reward,
    Tier,
    TierBasis,
    VoucherStatus,
)


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


def voucher_code_clean(raw: str) -> str:
    """A voucher code as people type it ("abcde fghjk", "ABCDE-FGHJK") in the form it is stored in:
    two groups of 5 (or of 4, as codes issued before had). "" when it cannot be a voucher code."""
    chars = "".join(raw.split()).replace("-", "").upper()
    if len(chars) not in (8, 10) or not chars.isalnum():
        return ""
    half = len(chars) // 2
    return f"{chars[:half]}-{chars[half:]}"


def voucher_by_code(*, merchant: Merchant, code: str) -> QuerySet[Redemption]:
    """The shop's voucher with this code (none for a code no voucher of this shop has)."""
    code = voucher_code_clean(code)
    return Redemption.objects.for_merchant(merchant).filter(code=code) if code else Redemption.objects.none()


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


# ---------------------------------------------------------------------------------------------
# The member's own card page and their data


@dataclass
class CatalogueItem:
    reward: Reward
    affordable: bool  # the member can have it now
    short: int  # points (or stamps) still to earn for it
    percent: int  # how far the balance gets towards it
    blocked: str  # why not, besides points: the tier it needs, out of stock ("" when nothing)


def rewards_catalogue(*, account: Account, tiers: list[Tier], today: date) -> list[CatalogueItem]:
    """Every reward on offer now, cheapest first, with what the member still needs for each."""
    rewards = (
        Reward.objects.for_merchant(account.merchant_id)
        .filter(is_active=True)
        .exclude(valid_from__gt=today)
        .exclude(valid_until__lt=today)
        .select_related("min_tier")
    )
    items = []
    for reward in rewards:
        try:
            reward_check(reward=reward, account=account, tiers=tiers, today=today)
            blocked = ""
        except LedgerError as error:
            blocked = " ".join(error.messages)
        short = max(reward.points_cost - account.balance, 0)
        percent = min(account.balance * 100 // reward.points_cost, 100)
        items.append(CatalogueItem(reward, not blocked and not short, short, percent, blocked))
    return items


@dataclass
class ExpiringPoints:
    expires_at: datetime
    points: int


def points_expiring(*, account: Account, now: datetime | None = None) -> list[ExpiringPoints]:
    """What is left of each batch of credits that will expire, soonest first.

    Replays the ledger as the expiry job reads it: each debit (a reward, a refund, an expiry)
    takes the soonest-expiring credits the account held when it was made.
    """
    if account.pk is None or account.balance <= 0:
        return []
    now = now or timezone.now()
    never = datetime.max.replace(tzinfo=UTC)
    held: list[list] = []  # [expires_at, points left], kept sorted by expiry
    lines = PointsEntry.objects.filter(account=account).order_by("pk").values_list("points", "expires_at")
    for points, expires_at in lines:
        if points > 0:
            insort(held, [expires_at or never, points], key=lambda batch: batch[0])
            continue
        owed = -points
        while owed and held:
            taken = min(owed, held[0][1])
            owed -= taken
            held[0][1] -= taken
            if not held[0][1]:
                held.pop(0)
    due: dict[datetime, int] = {}
    for expires_at, left in held:
        if now < expires_at < never:
            due[expires_at] = due.get(expires_at, 0) + left
    return [ExpiringPoints(at, points) for at, points in sorted(due.items())]


@dataclass
class PortalCard:
    """What the member sees on their own card page."""

    card: MemberCard
    catalogue: list[CatalogueItem]
    expiring: list[ExpiringPoints]
    visit_by: date | None  # points that expire after months without a visit: the last day to come in


def member_portal_card(*, member: Member) -> PortalCard:
    card = member_card(member=member)
    account, program = card.account, card.program
    today = local_today(member.merchant)
    visit_by = None
    if program.expiry_mode == ExpiryMode.AFTER_INACTIVITY and account.balance > 0:
        last = account.last_activity_at or account.created_at
        visit_by = add_months(timezone.localtime(last, member.merchant.tzinfo).date(), program.expiry_months)
    return PortalCard(
        card=card,
        catalogue=rewards_catalogue(account=account, tiers=card.tiers, today=today),
        expiring=points_expiring(account=account),
        visit_by=visit_by,
    )


def member_data_sections(member: Member) -> dict[str, object]:
    """What rewards holds about one member, for their data export (members.privacy): the account,
    purchases, points history and vouchers, read lazily."""
    merchant = member.merchant
    account = account_for(member=member)
    mine = {"account": account} if account.pk else {"pk__in": []}
    return {
        "account": {
            "balance": account.balance,
            "unit": "stamps" if program_for(merchant).is_stamps else "points",
            "lifetime_earned": account.lifetime_earned,
            "lifetime_spend": plain(account.lifetime_spend),
            "tier": account.tier.name if account.tier_id else "",
        },
        "purchases": rows(
            Purchase.objects.for_merchant(merchant).filter(**mine).order_by("created_at", "pk"),
            {
                "at": "created_at",
                "amount": "amount",
                "refunded": "refunded_amount",
                "points": "points",
                "receipt": "receipt",
                "location": "location__name",
            },
        ),
        "points": rows(
            PointsEntry.objects.for_merchant(merchant).filter(**mine).order_by("pk"),
            {
                "at": "created_at",
                "kind": "kind",
                "points": "points",
                "balance_after": "balance_after",
                "expires_at": "expires_at",
                "reason": "reason",
                "location": "location__name",
            },
        ),
        "vouchers": rows(
            Redemption.objects.for_merchant(merchant).filter(**mine).order_by("created_at", "pk"),
            {
                "code": "code",
                "reward": "reward__name",
                "points": "points",
                "discount": "discount",
                "status": "status",
                "issued_at": "created_at",
                "valid_until": "expires_at",
                "used_at": "used_at",
            },
        ),
    }


# ---------------------------------------------------------------------------------------------
# Exports


def ledger_for_export(*, merchant: Merchant, start: date, end: date) -> QuerySet[PointsEntry]:
    """The shop's ledger lines from local midnight of `start` up to (not including) the midnight after `end`.

    Bounds are the shop's own midnights, so a line written at 23:59 in Kuala Lumpur on the day before
    `start` stays out even though it is already `start` in UTC.
    """
    since = local_midnight(merchant, start)
    until = local_midnight(merchant, end + timedelta(days=1))
    return (
        PointsEntry.objects.for_merchant(merchant)
        .filter(created_at__gte=since, created_at__lt=until)
        .select_related("account__member", "location", "purchase", "redemption")
        .order_by("created_at", "pk")
    )


# ---------------------------------------------------------------------------------------------
# For campaign triggers: whose points are about to expire, whose balance just moved


def accounts_with_credits_expiring(*, merchant: Merchant, start: datetime, end: datetime) -> QuerySet:
    """Ids of the accounts with a credit that expires in [start, end) (through the credit-expiry index)."""
    credits = PointsEntry.objects.filter(merchant=merchant, points__gt=0, expires_at__gte=start, expires_at__lt=end)
    return credits.values("account_id")


def accounts_moved_since(*, merchant: Merchant, since: datetime) -> QuerySet:
    """Ids of the accounts with a ledger line written since then."""
    return PointsEntry.objects.filter(merchant=merchant, created_at__gte=since).values("account_id")


def points_moved_since(*, merchant: Merchant, since: datetime, account_ids: list[int]) -> dict[int, int]:
    """Each of these accounts' net points since then: its balance then was its balance now less this."""
    lines = PointsEntry.objects.filter(merchant=merchant, created_at__gte=since, account_id__in=account_ids)
    return dict(lines.values_list("account_id").annotate(Sum("points")).order_by())


def adjustment_requests(*, merchant: Merchant, status: str | None = None) -> QuerySet[AdjustmentRequest]:
    """The shop's adjustment requests, newest first; `status` narrows them (pending ones for the owner)."""
    requests = AdjustmentRequest.objects.for_merchant(merchant).select_related("member", "actor_user", "decided_by")
    return requests.filter(status=status) if status else requests


def adjustment_requests_pending_count(*, merchant: Merchant) -> int:
    return AdjustmentRequest.objects.for_merchant(merchant).filter(status=RequestStatus.PENDING).count()


def adjustment_requests_of_member(*, member: Member) -> list[AdjustmentRequest]:
    """What the member page shows: requests still waiting, and those decided in the last week."""
    recent = timezone.now() - timedelta(days=7)
    requests = AdjustmentRequest.objects.for_merchant(member.merchant_id).filter(member=member)
    return list(
        requests.filter(Q(status=RequestStatus.PENDING) | Q(decided_at__gte=recent)).select_related("actor_user")[:10]
    )
