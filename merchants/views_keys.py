"""The owner's API keys page: create a key (its secret is shown once), list and revoke the shop's keys."""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import services
from .models import ApiKey, ApiScope
from .permissions import MerchantRequest, owner_required


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What uses it, e.g. “Till 1” or “Web shop”."),
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("Access"), choices=ApiScope.choices, initial=ApiScope.FULL, widget=forms.RadioSelect
    )


# never_cache: the POST response holds the key's secret, which must not stay in a browser or proxy cache.
@never_cache
@require_http_methods(["GET", "POST"])
@owner_required
def api_keys(request: MerchantRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    new_key, raw_key = None, None
    if form.is_valid():
        # The secret goes into this response only: never the session or a URL, so it is shown exactly once.
        new_key, raw_key = services.api_key_create(merchant=request.merchant, by=request.user, **form.cleaned_data)
        form = ApiKeyForm()
    context = {
        "form": form,
        "keys": ApiKey.objects.for_merchant(request.merchant).select_related("created_by"),
        "new_key": new_key,
        "raw_key": raw_key,
        "api_url": request.build_absolute_uri("/api/v1/"),
    }
    return render(request, "merchants/api_keys.html", context)


@require_POST
@owner_required
def api_key_revoke(request: MerchantRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(ApiKey.objects.for_merchant(request.merchant), pk=pk)
    services.api_key_revoke(key=key, by=request.user)
    messages.success(request, _("The key “%(name)s” was revoked: it no longer works.") % {"name": key.name})
    return redirect("merchants:api_keys")
