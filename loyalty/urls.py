from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("merchants.urls")),
    path("members/poster/", include("members.urls_poster")),
    path("members/", include("members.urls")),
    path("campaigns/", include("campaigns.urls")),
    # Customers' public pages per shop: sign-up (members) and how it works (rewards).
    path("j/", include("members.urls_public")),
    path("j/", include("rewards.urls_public")),
    path("", include("rewards.urls")),
    # The member's own pages: the card at /c/<token>/ (rewards), sign-in with a code, details, unsubscribe.
    path("", include("rewards.urls_portal")),
    path("", include("members.urls_portal")),
    path("", include("campaigns.urls_survey")),  # the member's one-question survey at /s/<token>/
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

handler403 = "merchants.errors.permission_denied"
