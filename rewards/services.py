"""Write use cases for the program's rules, tiers and rewards catalog (points go through ledger.py).

Each is one transaction that checks the caller's role and writes an audit record of what changed.
"""

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from merchants.actors import Actor
from merchants.models import Merchant, Role
from merchants.services import audit_record

from .models import Program, Reward, Tier
from .selectors import points_exist

PROGRAM_FIELDS = [
    "mode",
    "points_per_unit",
    "rounding",
    "min_purchase",
    "max_purchase",
    "point_value",
    "stamps_per_card",
    "one_stamp_per_day",
    "stamp_reward",
    "expiry_mode",
    "expiry_months",
    "welcome_bonus",
    "birthday_bonus",
    "referral_bonus",
    "daily_cap",
    "tier_basis",
    "tier_window_months",
    "paid_tier_reminder_days",
    "voucher_days",
    "adjustment_approval_above",
]
TIER_FIELDS = ["name", "threshold", "multiplier", "perks", "is_paid", "fee", "paid_months"]
REWARD_FIELDS = [
    "name",
    "description",
    "kind",
    "value",
    "points_cost",
    "points_step",
    "min_tier",
    "stock",
    "valid_from",
    "valid_until",
    "is_active",
]


def _require(actor: Actor, role: Role, merchant: Merchant) -> None:
    """Services check their caller too, so a view that forgot a decorator still cannot write."""
    if not actor.can(role, merchant.pk):
        raise PermissionDenied(_("Your role in this shop does not allow this."))


def _plain(value: Any) -> Any:
    """A value the audit log's JSON can hold and a person can read."""
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize())
    if isinstance(value, models.Model):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _apply(obj: models.Model, fields: dict[str, Any], names: list[str]) -> tuple[dict, dict]:
    """Set the given fields on obj; return (before, after) of those that really changed, for the audit."""
    unknown = set(fields) - set(names)
    if unknown:
        raise TypeError(f"not editable here: {sorted(unknown)}")
    before, after = {}, {}
    for name, value in fields.items():
        old = getattr(obj, name)
        if old != value:
            before[name], after[name] = _plain(old), _plain(value)
            setattr(obj, name, value)
    return before, after


def _same_shop(merchant: Merchant, *objs: models.Model | None) -> None:
    if any(obj is not None and obj.merchant_id != merchant.pk for obj in objs):
        raise PermissionDenied("objects from another shop")


@transaction.atomic
def program_update(*, program: Program, actor: Actor, **fields: Any) -> Program:
    """Change the shop's rules; they apply from now on (points already earned keep their expiry dates)."""
    merchant = program.merchant
    _require(actor, Role.OWNER, merchant)
    _same_shop(merchant, fields.get("stamp_reward"))
    program = Program.objects.select_for_update().get(pk=program.pk)
    program.merchant = merchant
    switching = "mode" in fields and fields["mode"] != program.mode
    if switching and points_exist(merchant=merchant):
        raise ValidationError(
            {
                "mode": _(
                    "Members already hold points or stamps, so the program can no longer switch between "
                    "points and stamps: their balances would change meaning."
                )
            },
            code="mode_locked",
        )
    before, after = _apply(program, fields, PROGRAM_FIELDS)
    if after:
        program.full_clean()
        program.save()
        audit_record(
            merchant=merchant, actor=actor.user, action="program.update", obj=program, before=before, after=after
        )
    return program


@transaction.atomic
def tier_save(*, merchant: Merchant, actor: Actor, tier: Tier | None = None, **fields: Any) -> Tier:
    """Create a tier (tier=None) or change one. Members move between tiers on their next purchase or review."""
    _require(actor, Role.OWNER, merchant)
    _same_shop(merchant, tier)
    creating = tier is None
    tier = Tier(merchant=merchant) if creating else Tier.objects.select_for_update().get(pk=tier.pk)
    before, after = _apply(tier, fields, TIER_FIELDS)
    if Tier.objects.for_merchant(merchant).filter(name__iexact=tier.name).exclude(pk=tier.pk).exists():
        raise ValidationError({"name": _("This shop already has a tier with that name.")}, code="tier_name")
    if tier.is_paid and tier.fee <= 0:
        raise ValidationError({"fee": _("A paid membership needs a fee above zero.")}, code="tier_fee")
    if not creating and not after:
        return tier
    tier.full_clean()
    tier.save()
    if creating:
        after = {name: _plain(getattr(tier, name)) for name in TIER_FIELDS}
    audit_record(
        merchant=merchant,
        actor=actor.user,
        action="tier.create" if creating else "tier.update",
        obj=tier,
        before=None if creating else before,
        after=after,
    )
    return tier


@transaction.atomic
def reward_save(*, merchant: Merchant, actor: Actor, reward: Reward | None = None, **fields: Any) -> Reward:
    """Create a reward in the catalog (reward=None) or change one; vouchers already issued keep their terms."""
    _require(actor, Role.MANAGER, merchant)
    _same_shop(merchant, reward, fields.get("min_tier"))
    creating = reward is None
    reward = Reward(merchant=merchant) if creating else Reward.objects.select_for_update().get(pk=reward.pk)
    before, after = _apply(reward, fields, REWARD_FIELDS)
    if reward.valid_from and reward.valid_until and reward.valid_until < reward.valid_from:
        raise ValidationError({"valid_until": _("The end comes before the start.")}, code="reward_dates")
    if reward.kind == "percent_off" and not 0 < reward.value <= 100:
        raise ValidationError({"value": _("A percent off is between 1 and 100.")}, code="reward_percent")
    if reward.kind == "amount_off" and reward.value <= 0:
        raise ValidationError({"value": _("Say how much the reward takes off.")}, code="reward_amount")
    if not creating and not after:
        return reward
    reward.full_clean()
    reward.save()
    if creating:
        after = {name: _plain(getattr(reward, name)) for name in REWARD_FIELDS}
    audit_record(
        merchant=merchant,
        actor=actor.user,
        action="reward.create" if creating else "reward.update",
        obj=reward,
        before=None if creating else before,
        after=after,
    )
    return reward
