"""The dashboard's rollups: small tables the KPI cards read instead of the ledger.

Purchases, redemptions and the ledger never write here, so they lock no shared row: the rollup
job (rewards.kpis.rollups) recounts a range of days from the source rows, replacing what was there.
"""

from decimal import Decimal

from django.db import models
from django.utils import timezone

from merchants.models import Location, Merchant, MerchantScopedQuerySet

MONEY = {"max_digits": 14, "decimal_places": 2}


class ActivityDay(models.Model):
    """What happened on one of the shop's days at one location (no location: not recorded at one)."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    location = models.ForeignKey(Location, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False)
    visits = models.PositiveIntegerField(default=0)  # purchases
    revenue = models.DecimalField(default=Decimal(0), **MONEY)  # what members spent
    refunded = models.DecimalField(default=Decimal(0), **MONEY)  # refunds made that day
    points_earned = models.PositiveIntegerField(default=0)  # purchases and bonuses
    points_imported = models.PositiveIntegerField(default=0)  # opening balances
    points_redeemed = models.PositiveIntegerField(default=0)
    points_expired = models.PositiveIntegerField(default=0)
    points_reversed = models.IntegerField(default=0)  # taken back by refunds, less what voided vouchers gave back
    points_adjusted = models.IntegerField(default=0)  # manual adjustments, net
    vouchers_issued = models.PositiveIntegerField(default=0)
    vouchers_used = models.PositiveIntegerField(default=0)
    promotions = models.PositiveIntegerField(default=0)
    demotions = models.PositiveIntegerField(default=0)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["merchant", "day"], name="activity_day")]

    def __str__(self) -> str:
        return f"{self.day} @{self.location_id}: {self.visits} visits"

    @property
    def points_net(self) -> int:
        """What the day added to the points members hold."""
        return (
            self.points_earned
            + self.points_imported
            + self.points_adjusted
            - self.points_redeemed
            - self.points_expired
            - self.points_reversed
        )


class RewardDay(models.Model):
    """Vouchers of one reward issued and used on a day at a location: the top rewards."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    location = models.ForeignKey(Location, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False)
    reward = models.ForeignKey("rewards.Reward", on_delete=models.CASCADE, related_name="+", db_index=False)
    issued = models.PositiveIntegerField(default=0)
    used = models.PositiveIntegerField(default=0)
    points = models.PositiveIntegerField(default=0)  # spent on the vouchers issued

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["merchant", "day"], name="reward_day")]

    def __str__(self) -> str:
        return f"{self.day} reward {self.reward_id}: {self.issued}"


class Standing(models.Model):
    """Who was buying, as of the end of one of the shop's days, at one location or (none) anywhere.

    Counts of members over rolling windows, which daily sums cannot give: each is a distinct count.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    location = models.ForeignKey(Location, on_delete=models.CASCADE, null=True, related_name="+", db_index=False)
    active_30 = models.PositiveIntegerField(default=0)  # bought in the last 30 days
    active_90 = models.PositiveIntegerField(default=0)  # bought in the last 90 days
    repeat_90 = models.PositiveIntegerField(default=0)  # bought at least twice in the last 90 days
    lapsed = models.PositiveIntegerField(default=0)  # bought in the 90 days before those, not since
    retained = models.PositiveIntegerField(default=0)  # bought in the 90 days before those, and since

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["merchant", "day"], name="standing_day")]

    def __str__(self) -> str:
        return f"{self.day} @{self.location_id}: {self.active_30} active"


class CohortMonth(models.Model):
    """How many members who joined in `cohort` (a month) bought in `month`; location: where they joined."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+", db_index=False)
    cohort = models.DateField()  # the first day of the month
    month = models.DateField()
    location = models.ForeignKey(Location, on_delete=models.CASCADE, null=True, related_name="+", db_index=False)
    members = models.PositiveIntegerField()

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["merchant", "cohort"], name="cohort_month")]

    def __str__(self) -> str:
        return f"{self.cohort:%Y-%m} in {self.month:%Y-%m}: {self.members}"


class Liability(models.Model):
    """The points members hold and what will expire soon, as of the last count (one row per shop)."""

    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE, related_name="+")
    outstanding = models.BigIntegerField(default=0)
    expiring_30 = models.BigIntegerField(default=0)
    expiring_90 = models.BigIntegerField(default=0)
    members_by_tier = models.JSONField(default=dict)  # tier id (or "" for none) -> members
    counted_at = models.DateTimeField(default=timezone.now)

    objects = MerchantScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.merchant_id}: {self.outstanding} points"


class RollupState(models.Model):
    """When the shop's rollups were last brought up to date, and by which run."""

    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE, related_name="+")
    refreshed_at = models.DateTimeField(null=True, blank=True)
    standings_at = models.DateTimeField(null=True, blank=True)  # rolling counts and expiring points, hourly
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    dirty_from = models.DateField(null=True, blank=True)  # a change reached back to this day: recount from it
    digest_sent_for = models.DateField(null=True, blank=True)  # the Monday of the last weekly digest sent

    objects = MerchantScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.merchant_id}: {self.refreshed_at}"
