"""Django admin for platform operators (not for shops: they use the console)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import AuditLog, Invitation, Location, Merchant, Staff, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["name", "language"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


class LocationInline(admin.TabularInline):
    model = Location
    extra = 0


class StaffInline(admin.TabularInline):
    model = Staff
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "country", "currency", "timezone", "language", "created_at"]
    list_filter = ["country", "currency", "language"]
    search_fields = ["name", "slug"]
    inlines = [LocationInline, StaffInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "merchant", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["role"]
    search_fields = ["email", "merchant__name"]
    exclude = ["token_hash"]
    raw_id_fields = ["merchant", "invited_by"]


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Read-only: the audit log is evidence, so nobody edits it, operators included."""

    list_display = ["created_at", "merchant", "actor", "action", "object_repr"]
    list_filter = ["action"]
    search_fields = ["merchant__name", "actor__email", "object_repr"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
