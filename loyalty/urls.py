from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

# The API docs pages run third-party UI code that styles itself at run time: a policy of their own.
api_docs_csp = csp_override(settings.API_DOCS_CSP)

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
    # The API for POS systems and online shops, its OpenAPI schema and its docs (assets served locally).
    path("api/v1/", include("rewards.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # The split view serves Swagger UI's start-up script as a file of its own: no inline script.
    path("api/docs/", api_docs_csp(SpectacularSwaggerSplitView.as_view(url_name="api_schema")), name="api_docs"),
    path("api/redoc/", api_docs_csp(SpectacularRedocView.as_view(url_name="api_schema")), name="api_redoc"),
    path("shop/webhooks/", include("merchants.urls_webhooks")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

handler403 = "merchants.errors.permission_denied"
