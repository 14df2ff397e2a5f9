"""Reads for the public "how it works" page: the program's rules as they are right now.

The program and tiers come from rules_for (its cache is cleared whenever they are saved, and lives
a minute at most), the catalogue straight from the database: the page is always current.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q

from merchants.locales import currency_decimals
from merchants.models import Merchant

from .ledger import local_today, rules_for
from .models import Program, Reward, Tier


@dataclass
class EarnRate:
    """ "`points` for every `spend`": 2 points for every RM1, or 1 point for every 100 Ft."""

    points: Decimal
    spend: Decimal


@dataclass
class PublicRules:
    program: Program
    rate: EarnRate | None  # None on a stamp card, or when purchases earn nothing
    tiers: list[Tier]  # earned by spend or points, lowest first
    paid_tiers: list[Tier]
    rewards: list[Reward]
    stamp_reward: Reward | None
    today: date


def earn_rate(program: Program, currency: str) -> EarnRate | None:
    """The earning rule in whole, readable numbers: below 1 point per unit, the spend per point."""
    per_unit = program.points_per_unit
    if program.is_stamps or per_unit <= 0:
        return None
    if per_unit >= 1:
        return EarnRate(points=per_unit.normalize(), spend=Decimal(1))
    places = Decimal(1).scaleb(-currency_decimals(currency))
    return EarnRate(points=Decimal(1), spend=(1 / per_unit).quantize(places))


def public_rules(*, merchant: Merchant) -> PublicRules:
    program, tiers = rules_for(merchant)
    today = local_today(merchant)
    rewards = (
        Reward.objects.for_merchant(merchant)
        .filter(is_active=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("min_tier")
    )
    stamp_reward = None
    if program.is_stamps and program.stamp_reward_id:
        stamp_reward = Reward.objects.for_merchant(merchant).filter(pk=program.stamp_reward_id).first()
    return PublicRules(
        program=program,
        rate=earn_rate(program, merchant.currency),
        tiers=[t for t in tiers if not t.is_paid],
        paid_tiers=[t for t in tiers if t.is_paid],
        rewards=list(rewards),
        stamp_reward=stamp_reward,
        today=today,
    )
