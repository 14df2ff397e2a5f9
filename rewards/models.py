"""The points economy: program rules, tiers, accounts and the ledger, purchases, rewards, vouchers.

Customer imports keep their models in rewards/imports/models.py (imported at the end of this module).

Only rewards/ledger.py writes PointsEntry rows and Account balances.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Member
from merchants.actors import ActorKind
from merchants.db import OPTIONAL, not_null_indexes
from merchants.models import Location, Merchant, MerchantScopedQuerySet

MONEY = {"max_digits": 14, "decimal_places": 2}


class Mode(models.TextChoices):
    POINTS = "points", _("Points for every purchase")
    STAMPS = "stamps", _("Stamp card: a stamp per visit")


class Rounding(models.TextChoices):
    DOWN = "down", _("Round down")
    NEAREST = "nearest", _("Round to nearest")
    UP = "up", _("Round up")


class ExpiryMode(models.TextChoices):
    NEVER = "never", _("Never")
    AFTER_EARNING = "after_earning", _("A number of months after they were earned")
    AFTER_INACTIVITY = "after_inactivity", _("After a number of months without a visit")


class TierBasis(models.TextChoices):
    SPEND = "spend", _("Spend")
    POINTS = "points", _("Points earned")


class Program(models.Model):
    """A shop's rules. One per shop; changes apply from the moment they are saved."""

    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE, related_name="program")
    mode = models.CharField(_("how customers earn"), max_length=10, choices=Mode.choices, default=Mode.POINTS)
    points_per_unit = models.DecimalField(
        _("points per 1 of your currency"),
        max_digits=8,
        decimal_places=3,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal(0))],
    )
    rounding = models.CharField(_("rounding"), max_length=10, choices=Rounding.choices, default=Rounding.DOWN)
    min_purchase = models.DecimalField(_("minimum purchase to earn"), default=Decimal(0), **MONEY)
    max_purchase = models.DecimalField(
        _("largest purchase the counter accepts"),
        default=Decimal(1_000_000),
        help_text=_("A typing mistake guard: bigger amounts are refused."),
        **MONEY,
    )
    point_value = models.DecimalField(
        _("cash value of one point"),
        max_digits=10,
        decimal_places=4,
        default=Decimal("0.01"),
        help_text=_("What a point costs you, for the liability figures and pay-with-points."),
    )
    stamps_per_card = models.PositiveSmallIntegerField(_("stamps on a full card"), default=10)
    one_stamp_per_day = models.BooleanField(_("at most one stamp a day"), default=True)
    stamp_reward = models.ForeignKey(
        "Reward",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reward for a full card"),
    )
    expiry_mode = models.CharField(
        _("points expire"), max_length=20, choices=ExpiryMode.choices, default=ExpiryMode.NEVER
    )
    expiry_months = models.PositiveSmallIntegerField(_("months"), default=12)
    welcome_bonus = models.PositiveIntegerField(_("welcome bonus"), default=0)
    birthday_bonus = models.PositiveIntegerField(_("birthday bonus"), default=0)
    referral_bonus = models.PositiveIntegerField(
        _("referral bonus"), default=0, help_text=_("For both members, at the new member's first purchase.")
    )
    daily_cap = models.PositiveIntegerField(
        _("most points a member can earn per day"), null=True, blank=True, help_text=_("Empty for no limit.")
    )
    tier_basis = models.CharField(
        _("tiers qualify on"), max_length=10, choices=TierBasis.choices, default=TierBasis.SPEND
    )
    tier_window_months = models.PositiveSmallIntegerField(_("over the last (months)"), default=12)
    paid_tier_reminder_days = models.PositiveSmallIntegerField(_("remind before a paid tier lapses (days)"), default=7)
    voucher_days = models.PositiveSmallIntegerField(_("vouchers are valid for (days)"), default=30)
    adjustment_approval_above = models.PositiveIntegerField(
        _("adjustments above this many points need your approval"),
        null=True,
        blank=True,
        help_text=_(
            "A manager's or API key's adjustment of more points than this (added or taken away) waits for an "
            "owner to approve it. Empty: no approval needed."
        ),
    )
    last_expiry_run = models.DateField(null=True, blank=True, editable=False)
    expired_through = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("loyalty program")
        constraints = [
            models.CheckConstraint(condition=models.Q(points_per_unit__gte=0), name="program_rate_not_negative"),
            models.CheckConstraint(condition=models.Q(stamps_per_card__gte=1), name="program_card_has_stamps"),
        ]

    def __str__(self) -> str:
        return f"{self.merchant} program"

    @property
    def is_stamps(self) -> bool:
        return self.mode == Mode.STAMPS


class Tier(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(_("name"), max_length=60)
    threshold = models.DecimalField(
        _("qualifies at"), help_text=_("Spend or points earned within the window, as the program says."), **MONEY
    )
    multiplier = models.DecimalField(
        _("points multiplier"), max_digits=4, decimal_places=2, default=Decimal(1), validators=[MinValueValidator(1)]
    )
    perks = models.TextField(_("perks"), blank=True)
    is_paid = models.BooleanField(
        _("paid membership"), default=False, help_text=_("Held by paying a fee, not by spend.")
    )
    fee = models.DecimalField(_("fee"), default=Decimal(0), **MONEY)
    paid_months = models.PositiveSmallIntegerField(_("a fee pays for (months)"), default=12)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["is_paid", "threshold", "pk"]
        constraints = [models.UniqueConstraint("merchant", "name", name="tier_name_unique_per_merchant")]

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    """A member's points: the cached balance and the running totals the rules need.

    balance == sum of the member's PointsEntry.points at every commit.
    """

    # One composite key (member, merchant) -> Member (id, merchant) stands for both (merchants.db.tenant_foreign_keys).
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="account", db_constraint=False)
    balance = models.IntegerField(default=0)
    lifetime_earned = models.PositiveIntegerField(default=0)
    lifetime_spend = models.DecimalField(default=Decimal(0), **MONEY)
    purchase_count = models.PositiveIntegerField(default=0)
    # Tier: promoted inline as soon as the rolling total qualifies; demoted only by the review job at tier_until.
    qualifying_total = models.DecimalField(default=Decimal(0), **MONEY)
    tier = models.ForeignKey(Tier, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False)
    tier_until = models.DateField(null=True, blank=True)
    paid_tier = models.ForeignKey(
        Tier, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    paid_until = models.DateField(null=True, blank=True)
    paid_reminded_for = models.DateField(null=True, blank=True)
    # The daily cap and one-stamp-a-day rules read these instead of summing today's entries.
    day = models.DateField(null=True, blank=True)
    day_earned = models.PositiveIntegerField(default=0)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    last_purchase_at = models.DateTimeField(null=True, blank=True)
    # What the shop's previous system knew when the member was imported: spend and visits before
    # joining here. Kept apart from lifetime_spend and purchase_count, which count purchases here.
    opening_spend = models.DecimalField(default=Decimal(0), **MONEY)
    opening_visits = models.PositiveIntegerField(default=0)
    # The end of the latest points multiplier given to this member (a Boost): a purchase looks the
    # boosts up only while this is in the future, so most purchases pay nothing for the feature.
    boost_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(balance__gte=0), name="account_balance_not_negative"),
            # Unique anyway (id is): what the composite foreign keys of ledger lines refer to.
            models.UniqueConstraint("id", "merchant", name="account_id_merchant"),
        ]
        indexes = [
            models.Index(fields=["merchant", "last_activity_at"], name="account_activity"),
            # Only deleting a tier looks accounts up by it; most accounts have none.
            *not_null_indexes("tier", "paid_tier", prefix="account"),
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.balance}"

    @property
    def effective_tier(self) -> Tier | None:
        """The earned tier, or a paid tier still within its paid period if its multiplier is better."""
        paid = self.paid_tier_id and self.paid_until and self.paid_until >= timezone.localdate()
        if paid and (self.tier is None or self.paid_tier.multiplier >= self.tier.multiplier):
            return self.paid_tier
        return self.tier


class Kind(models.TextChoices):
    EARN = "earn", _("Purchase")
    BONUS = "bonus", _("Bonus")
    REDEEM = "redeem", _("Reward")
    EXPIRE = "expire", _("Expired")
    ADJUST = "adjust", _("Adjustment")
    REVERSAL = "reversal", _("Refund")
    IMPORT = "import", _("Opening balance")


class Purchase(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="purchases")
    amount = models.DecimalField(_("amount"), **MONEY)
    refunded_amount = models.DecimalField(_("refunded"), default=Decimal(0), **MONEY)
    points = models.IntegerField(_("points earned"), default=0)
    points_reversed = models.IntegerField(default=0)
    receipt = models.CharField(_("receipt number"), max_length=64, blank=True)
    location = models.ForeignKey(Location, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    actor_label = models.CharField(max_length=120, blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint("merchant", "idempotency_key", name="purchase_key_unique_per_merchant"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="purchase_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(refunded_amount__gte=0, refunded_amount__lte=models.F("amount")),
                name="purchase_refund_within_amount",
            ),
        ]
        indexes = [models.Index(fields=["merchant", "created_at"], name="purchase_recent")]

    def __str__(self) -> str:
        return f"{self.amount} ({self.receipt or self.pk})"

    @property
    def refundable(self) -> Decimal:
        return self.amount - self.refunded_amount


class Refund(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    purchase = models.ForeignKey(Purchase, on_delete=models.CASCADE, related_name="refunds")
    amount = models.DecimalField(_("amount"), **MONEY)
    points = models.IntegerField(_("points taken back"), default=0)
    shortfall = models.IntegerField(
        _("points already spent"), default=0, help_text=_("Points the refund should have taken back but could not.")
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    actor_label = models.CharField(max_length=120, blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint("merchant", "idempotency_key", name="refund_key_unique_per_merchant"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"-{self.amount} ({self.purchase})"


class RewardKind(models.TextChoices):
    AMOUNT_OFF = "amount_off", _("Amount off")
    PERCENT_OFF = "percent_off", _("Percent off")
    FREE_ITEM = "free_item", _("Free item")
    PERK = "perk", _("Perk")
    PAY_WITH_POINTS = "pay_with_points", _("Pay with points")


class Reward(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="rewards")
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=RewardKind.choices, default=RewardKind.FREE_ITEM)
    value = models.DecimalField(
        _("value"), default=Decimal(0), help_text=_("The amount off, or the percent off."), **MONEY
    )
    points_cost = models.PositiveIntegerField(
        _("points cost"), help_text=_("For pay with points: the smallest number of points a member can use.")
    )
    points_step = models.PositiveIntegerField(
        _("in steps of"), default=1, help_text=_("Pay with points only: points are used in multiples of this.")
    )
    min_tier = models.ForeignKey(
        Tier, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("lowest tier")
    )
    stock = models.PositiveIntegerField(_("stock"), null=True, blank=True, help_text=_("Empty for unlimited."))
    valid_from = models.DateField(_("available from"), null=True, blank=True)
    valid_until = models.DateField(_("available until"), null=True, blank=True)
    is_active = models.BooleanField(_("available"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["points_cost", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(points_cost__gte=1), name="reward_costs_points"),
            models.CheckConstraint(condition=models.Q(points_step__gte=1), name="reward_step_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class VoucherStatus(models.TextChoices):
    ISSUED = "issued", _("Ready to use")
    USED = "used", _("Used")
    VOIDED = "voided", _("Voided")


class Redemption(models.Model):
    """Points turned into a reward: a voucher with a short code, used once at the counter."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="redemptions")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    code = models.CharField(_("voucher code"), max_length=12)
    points = models.PositiveIntegerField(_("points"))
    discount = models.DecimalField(_("discount"), default=Decimal(0), **MONEY)
    status = models.CharField(max_length=10, choices=VoucherStatus.choices, default=VoucherStatus.ISSUED)
    expires_at = models.DateTimeField(_("valid until"))
    location = models.ForeignKey(Location, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    actor_label = models.CharField(max_length=120, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    used_key = models.CharField(max_length=100, null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint("merchant", "code", name="voucher_code_unique_per_merchant"),
            models.UniqueConstraint("merchant", "idempotency_key", name="redemption_key_unique_per_merchant"),
            models.UniqueConstraint("merchant", "used_key", name="voucher_use_key_unique_per_merchant"),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.reward}"

    @property
    def is_usable(self) -> bool:
        return self.status == VoucherStatus.ISSUED and self.expires_at > timezone.now()


class PointsEntry(models.Model):
    """One line of the ledger. Append-only: a mistake is corrected by a reversing entry."""

    # No single-column indexes for these two: the composite indexes below start with them, and
    # every index costs each of the millions of lines an insert. One composite foreign key
    # (account, merchant) -> Account (id, merchant) stands for both (merchants.db.tenant_foreign_keys).
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="entries", db_index=False, db_constraint=False
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    points = models.IntegerField()
    balance_after = models.IntegerField()
    expires_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    # Each of these is empty on most lines (an earn line has no refund): indexed where set, see Meta.
    purchase = models.ForeignKey(**OPTIONAL, to=Purchase, on_delete=models.PROTECT, related_name="entries")
    refund = models.ForeignKey(**OPTIONAL, to=Refund, on_delete=models.PROTECT, related_name="entries")
    redemption = models.ForeignKey(**OPTIONAL, to=Redemption, on_delete=models.PROTECT, related_name="entries")
    location = models.ForeignKey(**OPTIONAL, to=Location, on_delete=models.SET_NULL, related_name="+")
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(**OPTIONAL, to=settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=120, blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint("merchant", "idempotency_key", name="entry_key_unique_per_merchant"),
            models.CheckConstraint(condition=~models.Q(points=0), name="entry_points_not_zero"),
            models.CheckConstraint(condition=models.Q(balance_after__gte=0), name="entry_balance_not_negative"),
        ]
        indexes = [
            models.Index(fields=["account", "-created_at"], name="entry_account_recent"),
            # The expiry job finds credits that fell due since its last run through this index.
            models.Index(
                fields=["merchant", "expires_at"], name="entry_credit_expiry", condition=models.Q(points__gt=0)
            ),
            models.Index(fields=["merchant", "created_at"], name="entry_merchant_recent"),
            *not_null_indexes("purchase", "refund", "redemption", "location", "actor_user", prefix="entry"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.points:+d}"


class TierChange(models.Model):
    """Promotions and demotions, for the member's history and the dashboard."""

    # One composite key (account, merchant) -> Account (id, merchant) stands for both (merchants.db.tenant_foreign_keys).
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tier_changes", db_constraint=False)
    from_tier = models.ForeignKey(Tier, on_delete=models.SET_NULL, null=True, related_name="+")
    to_tier = models.ForeignKey(Tier, on_delete=models.SET_NULL, null=True, related_name="+")
    reason = models.CharField(max_length=20)  # earned, review, paid, lapsed
    created_at = models.DateTimeField(default=timezone.now)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["merchant", "created_at"], name="tierchange_recent")]

    def __str__(self) -> str:
        return f"{self.from_tier or '-'} → {self.to_tier or '-'} ({self.reason})"


class Boost(models.Model):
    """A points multiplier for one member for a time window: a campaign's "double points this week".

    Purchases in the window earn their points times the best boost (on top of the tier's).
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+", db_index=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="boosts", db_index=False)
    multiplier = models.DecimalField(max_digits=4, decimal_places=2)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint("merchant", "idempotency_key", name="boost_key_unique_per_merchant"),
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="boost_window"),
            models.CheckConstraint(condition=models.Q(multiplier__gt=1), name="boost_multiplies"),
        ]
        indexes = [models.Index(fields=["account", "ends_at"], name="boost_account_ends")]

    def __str__(self) -> str:
        return f"x{self.multiplier} until {self.ends_at:%Y-%m-%d}"


class TierFee(models.Model):
    """A paid membership: the fee the cashier took and the period it pays for."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tier_fees")
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**MONEY)
    starts_on = models.DateField()
    ends_on = models.DateField()
    location = models.ForeignKey(Location, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint("merchant", "idempotency_key", name="tierfee_key_unique_per_merchant")]

    def __str__(self) -> str:
        return f"{self.tier} {self.starts_on} to {self.ends_on}"


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")


class AdjustmentRequest(models.Model):
    """A manual adjustment above the program's approval limit, waiting for an owner (rewards.approvals).

    Nothing reaches the ledger until an owner approves it; then one ledger entry is written, in the
    same transaction as the status change, and linked here.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="adjustment_requests")
    points = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    actor_label = models.CharField(_("asked by"), max_length=120, blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("asked"), default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    entry = models.OneToOneField(
        "PointsEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="approval"
    )

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("adjustment request")
        verbose_name_plural = _("adjustment requests")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint("merchant", "idempotency_key", name="adjustreq_key_unique_per_merchant"),
            models.CheckConstraint(condition=~models.Q(points=0), name="adjustreq_points_not_zero"),
        ]
        indexes = [models.Index(fields=["merchant", "status", "-created_at"], name="adjustreq_status")]

    def __str__(self) -> str:
        return f"{self.points:+d} for {self.member_id} ({self.status})"


# Customer imports (rewards.imports): the job record and the rows it could not take.
from .imports.models import ImportChunk, ImportJob, ImportRow, ImportStatus  # noqa: E402, F401
from .kpis.models import ActivityDay, CohortMonth, Liability, RewardDay, RollupState, Standing  # noqa: E402, F401
