from django.contrib import admin

from .models import Member


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["__str__", "merchant", "phone", "email", "card_number", "source", "joined_at"]
    list_filter = ["source"]
    search_fields = ["first_name", "last_name", "phone", "email", "card_number", "merchant__name"]
    raw_id_fields = ["merchant", "referred_by", "enrolled_by", "location"]
