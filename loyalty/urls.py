from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("merchants.urls")),
    path("members/", include("members.urls")),
    path("", include("rewards.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

handler403 = "merchants.errors.permission_denied"
