"""The demo shop's loyalty program and a realistic history of its members, for demos and benchmarks.

This is the one writer of ledger rows besides rewards.ledger: at 100,000 members a service call
per row would take hours, so history.py replays each member's life under the ledger's rules and
bulk.py writes the rows in bulk. The result keeps the ledger's invariants (balance == sum of entries,
balance_after chains never below zero, expiry and tiers as the nightly jobs would have left them);
tests/rewards/test_seed_demo.py checks them on every account.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from members.models import Member
from merchants.models import AuditLog, Location, Merchant, Role, Staff
from rewards.ledger import add_months, local_midnight, local_today
from rewards.models import (
    Account,
    ExpiryMode,
    Kind,
    PointsEntry,
    Program,
    Purchase,
    Redemption,
    Refund,
    Reward,
    RewardKind,
    Tier,
    TierBasis,
    TierChange,
    TierFee,
)

from . import bulk
from .history import MemberHistory
from .shop import Batch, Calendar, RewardRule, Rules, Shop, TierRule, roster_build

CHUNK = 5000  # members simulated and written at a time: bounds memory at any size

PROGRAM = {
    "mode": "points",
    "points_per_unit": Decimal(1),
    "rounding": "down",
    "min_purchase": Decimal(0),
    "point_value": Decimal("0.05"),
    "expiry_mode": ExpiryMode.AFTER_EARNING,
    "expiry_months": 12,
    "welcome_bonus": 50,
    "birthday_bonus": 50,
    "referral_bonus": 100,
    "daily_cap": None,
    "tier_basis": TierBasis.SPEND,
    "tier_window_months": 12,
    "voucher_days": 30,
}
CLUB = "Bubbles Club"
TIERS = {
    "Silver": {"threshold": Decimal(300), "multiplier": Decimal("1.25"), "perks": "Free softener on every wash"},
    "Gold": {"threshold": Decimal(800), "multiplier": Decimal("1.5"), "perks": "Free softener, a free dry each month"},
    CLUB: {
        "threshold": Decimal(0),
        "multiplier": Decimal("1.5"),
        "perks": "1.5x points and free detergent, RM 30 a year",
        "is_paid": True,
        "fee": Decimal(30),
        "paid_months": 12,
    },
}
REWARDS = {
    "10% off your visit": {
        "kind": RewardKind.PERCENT_OFF,
        "value": Decimal(10),
        "points_cost": 60,
        "min_tier": "Silver",
    },
    "Free dry (30 minutes)": {"kind": RewardKind.FREE_ITEM, "value": Decimal(5), "points_cost": 90},
    "RM 5 off": {"kind": RewardKind.AMOUNT_OFF, "value": Decimal(5), "points_cost": 100},
    "Pay with points": {"kind": RewardKind.PAY_WITH_POINTS, "points_cost": 100, "points_step": 20},
    "Free wash (any machine)": {"kind": RewardKind.FREE_ITEM, "value": Decimal(7), "points_cost": 120},
}


@dataclass
class Made:
    """What a run wrote, for the command's report."""

    members: int = 0
    purchases: int = 0
    entries: int = 0
    redemptions: int = 0
    refunds: int = 0
    expiries: int = 0
    referrals: int = 0
    adjustments: int = 0
    tier_fees: int = 0
    tiers: dict[str, int] = field(default_factory=dict)


def demo_program_setup(*, merchant: Merchant, since: datetime) -> Rules:
    """The demo shop's program, tiers and catalog, as they have been since `since` (idempotent)."""
    program, _created = Program.objects.update_or_create(merchant=merchant, defaults=PROGRAM)
    tiers = {}
    for name, values in TIERS.items():
        tiers[name], _created = Tier.objects.update_or_create(merchant=merchant, name=name, defaults=values)
    rewards = []
    for name, values in REWARDS.items():
        values = {**values, "min_tier": tiers.get(values.get("min_tier")), "created_at": since}
        reward, _created = Reward.objects.update_or_create(merchant=merchant, name=name, defaults=values)
        rewards.append(reward)
    earned = sorted((t for t in tiers.values() if not t.is_paid), key=lambda t: t.threshold)
    club = next(t for t in tiers.values() if t.is_paid)
    return Rules(
        welcome=program.welcome_bonus,
        birthday=program.birthday_bonus,
        referral=program.referral_bonus,
        expiry_months=program.expiry_months,
        window_months=program.tier_window_months,
        voucher_days=program.voucher_days,
        point_value=program.point_value,
        tiers=tuple(_tier_rule(t) for t in earned),
        club=_tier_rule(club),
        rewards=tuple(
            RewardRule(
                r.pk, r.name, r.kind, r.points_cost, r.points_step, r.min_tier.threshold * 100 if r.min_tier else None
            )
            for r in sorted(rewards, key=lambda r: r.points_cost)
        ),
    )


def _tier_rule(tier: Tier) -> TierRule:
    return TierRule(
        tier.pk, int(tier.threshold * 100), int(tier.multiplier * 100), int(tier.fee * 100), tier.paid_months
    )


def demo_history_reset(*, merchant: Merchant) -> int:
    """Delete the shop's members and their ledger (the program, tiers and catalog stay)."""
    with transaction.atomic():
        return bulk.reset(merchant)


@transaction.atomic
def demo_history_seed(
    *,
    merchant: Merchant,
    members: int,
    months: int,
    seed: int = 1,
    chunk: int = CHUNK,
    progress: Callable[[int], None] | None = None,
) -> Made:
    """Members who joined over the last `months` months and everything they did since, in bulk."""
    bulk.check_columns()
    if connection.vendor == "postgresql":
        # Foreign keys are checked at each COPY's end, not all at commit: millions of deferred
        # checks would queue up in the server's memory.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    now = timezone.now()
    today = local_today(merchant, now)
    start_day = add_months(today, -months)
    rules = demo_program_setup(merchant=merchant, since=local_midnight(merchant, start_day))
    cal = Calendar(
        merchant.tzinfo,
        add_months(start_day, -rules.window_months - 1),
        today + timedelta(days=800),
        expiry_months=rules.expiry_months,
        window_months=rules.window_months,
    )
    now_s = int(now.timestamp())
    last_run_day = cal.day(now_s) if cal.job(cal.day(now_s)) + 2 <= now_s else cal.day(now_s) - 1
    first_day = cal.index(start_day)
    staff = {s.role: s.user for s in Staff.objects.filter(merchant=merchant, is_active=True).select_related("user")}
    owner = staff[Role.OWNER]
    cashier = staff.get(Role.CASHIER, owner)
    ids = bulk.Ids()
    shop = Shop(
        merchant_id=merchant.pk,
        seed=seed,
        rules=rules,
        cal=cal,
        now=now_s,
        last_run_day=last_run_day,
        # The branch first: most members live near it, the rest use the shop's first location.
        locations=list(Location.objects.filter(merchant=merchant).order_by("-pk").values_list("pk", flat=True)),
        cashier=("staff", cashier.pk, str(cashier)),
        owner=("staff", owner.pk, str(owner)),
        import_at=cal.midnights[first_day] + 10 * 3600,
        import_expiry=cal.midnights[cal.plus_months(first_day, 3) + 1],
        member_base=ids.reserve(Member, members),
        account_base=ids.reserve(Account, members),
    )
    roster = roster_build(
        seed=seed, members=members, cal=cal, start=shop.import_at, end=now_s - 600, import_at=shop.import_at
    )
    made, vouchers, formats = Made(), 0, bulk.Formats()
    for first in range(0, members, chunk):
        batch = Batch(vouchers=vouchers)
        for index in range(first, min(first + chunk, members)):
            MemberHistory(shop, roster, batch, index).run()
        _flush(batch, shop, ids, formats, made)
        vouchers += len(batch.redemptions)
        if progress:
            progress(min(first + chunk, members))
    # The nightly expiry has run up to the last night: the real job carries on from there.
    Program.objects.filter(merchant=merchant).update(
        expired_through=datetime.fromtimestamp(cal.job(last_run_day) + 2, UTC), last_expiry_run=cal.date(last_run_day)
    )
    Merchant.objects.filter(pk=merchant.pk, created_at__gt=local_midnight(merchant, start_day)).update(
        created_at=local_midnight(merchant, start_day)
    )
    made.referrals = sum(1 for r in roster.referrer if r >= 0)
    made.expiries = PointsEntry.objects.filter(merchant=merchant, kind=Kind.EXPIRE).count()
    made.tiers = dict(
        Account.objects.filter(merchant=merchant, tier__isnull=False)
        .values_list("tier__name")
        .annotate(n=Count("pk"))
        .values_list("tier__name", "n")
    )
    made.tiers[CLUB] = Account.objects.filter(merchant=merchant, paid_tier__isnull=False, paid_until__gte=today).count()
    return made


def _flush(batch: Batch, shop: Shop, ids: bulk.Ids, formats: bulk.Formats, made: Made) -> None:
    """Write one chunk's rows, parents before children, with ids from freshly reserved blocks.

    Purchases and entries go in time order: their created_at indexes then take each chunk as one
    sorted run instead of scattered inserts, which is most of PostgreSQL's work once those indexes
    outgrow its buffers. Ids follow that order, so each account's entries still read in time order.
    """
    ts, money, merchant = formats.timestamp, formats.money, shop.merchant_id
    accounts = shop.account_base
    by_time = sorted(range(len(batch.purchases)), key=lambda i: batch.purchases[i][10])
    purchase_at = [0] * len(by_time)  # batch position -> position in time order
    for rank, i in enumerate(by_time):
        purchase_at[i] = rank
    batch.entries.sort(key=lambda e: e[14])  # stable: an account's entries at one instant keep their order
    p0 = ids.reserve(Purchase, len(batch.purchases))
    f0 = ids.reserve(Refund, len(batch.refunds))
    r0 = ids.reserve(Redemption, len(batch.redemptions))
    e0 = ids.reserve(PointsEntry, len(batch.entries))
    c0 = ids.reserve(TierChange, len(batch.tier_changes))
    t0 = ids.reserve(TierFee, len(batch.tier_fees))

    def day(d: object) -> str | None:
        return d.isoformat() if d is not None else None

    bulk.write(
        Member,
        (
            (*row[:6], day(row[6]), *row[7:11], str(row[11]), *row[12:15], ts(row[15]), *row[16:])
            for row in batch.members
        ),
    )
    bulk.write(
        Account,
        (
            (*row[:5], money(row[5]), row[6], money(row[7]), row[8], day(row[9]), row[10], day(row[11]), None,
             day(row[13]), row[14], ts(row[15]), ts(row[16]), row[17], row[18], None, ts(row[20]))
            for row in batch.accounts
        ),
    )  # fmt: skip
    bulk.write(
        Purchase,
        (
            (p0 + i, merchant, accounts + p[0], money(p[1]), money(p[2]), p[3], p[4], p[5], p[6], str(p[7]), p[8],
             p[9], None, "", ts(p[10]))
            for i, p in enumerate(batch.purchases[j] for j in by_time)
        ),
    )  # fmt: skip
    bulk.write(
        Refund,
        (
            (
                f0 + i,
                merchant,
                p0 + purchase_at[f[0]],
                money(f[1]),
                f[2],
                f[3],
                f[4],
                str(f[5]),
                f[6],
                f[7],
                None,
                "",
                ts(f[8]),
            )
            for i, f in enumerate(batch.refunds)
        ),
    )
    bulk.write(
        Redemption,
        (
            (r0 + i, merchant, accounts + r[0], r[1], r[2], r[3], money(r[4]), str(r[5]), ts(r[6]), r[7], str(r[8]),
             r[9], r[10], ts(r[11]), r[12], None, ts(r[13]), r[14], None, "", ts(r[15]))
            for i, r in enumerate(batch.redemptions)
        ),
    )  # fmt: skip
    bulk.write(
        PointsEntry,
        (
            (e0 + i, merchant, accounts + e[0], str(e[1]), e[2], e[3], ts(e[4]), e[5],
             None if e[6] is None else p0 + purchase_at[e[6]], None if e[7] is None else f0 + e[7],
             None if e[8] is None else r0 + e[8], e[9], str(e[10]), e[11], e[12],
             f"void:{r0 + e[13][1]}" if type(e[13]) is tuple else e[13], "", ts(e[14]))
            for i, e in enumerate(batch.entries)
        ),
    )  # fmt: skip
    bulk.write(
        TierChange,
        ((c0 + i, merchant, accounts + c[0], c[1], c[2], c[3], ts(c[4])) for i, c in enumerate(batch.tier_changes)),
    )
    bulk.write(
        TierFee,
        (
            (t0 + i, merchant, accounts + f[0], f[1], money(f[2]), day(f[3]), day(f[4]), f[5], f[6], None, "", ts(f[7]))
            for i, f in enumerate(batch.tier_fees)
        ),
    )
    owner = shop.owner[1]
    AuditLog.objects.bulk_create(
        AuditLog(
            merchant_id=merchant,
            actor_id=owner,
            action="points.adjust",
            object_type="members.member",
            object_id=str(shop.member_base + index),
            object_repr=name[:200],
            after={"points": points, "reason": reason, "balance": balance},
            created_at=datetime.fromtimestamp(t, UTC),
        )
        for index, name, points, reason, balance, t in batch.adjustments
    )
    made.members += len(batch.members)
    made.purchases += len(batch.purchases)
    made.entries += len(batch.entries)
    made.redemptions += len(batch.redemptions)
    made.refunds += len(batch.refunds)
    made.adjustments += len(batch.adjustments)
    made.tier_fees += len(batch.tier_fees)
