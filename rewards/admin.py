"""Operator views of the points economy. The ledger is evidence: read-only, here as everywhere."""

from django.contrib import admin

from .models import Account, PointsEntry, Program, Purchase, Redemption, Refund, Reward, Tier, TierChange, TierFee


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["merchant", "mode", "points_per_unit", "expiry_mode", "last_expiry_run"]
    raw_id_fields = ["merchant", "stamp_reward"]


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ["name", "merchant", "threshold", "multiplier", "is_paid"]
    raw_id_fields = ["merchant"]


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    list_display = ["name", "merchant", "kind", "points_cost", "stock", "is_active"]
    list_filter = ["kind", "is_active"]
    raw_id_fields = ["merchant", "min_tier"]


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["member", "merchant", "balance", "tier", "lifetime_earned", "last_activity_at"]
    search_fields = ["member__first_name", "member__last_name", "member__phone"]


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "merchant", "account", "kind", "points", "balance_after", "actor_label"]
    list_filter = ["kind"]
    list_select_related = ["merchant", "account__member"]


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "merchant", "account", "amount", "refunded_amount", "points", "receipt"]
    list_select_related = ["merchant", "account__member"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "merchant", "purchase", "amount", "points", "shortfall"]


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "merchant", "code", "reward", "points", "status", "expires_at"]
    list_filter = ["status"]
    search_fields = ["code"]


admin.site.register(TierChange, ReadOnlyAdmin)
admin.site.register(TierFee, ReadOnlyAdmin)
