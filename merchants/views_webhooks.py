"""The owner's webhook pages: add and edit endpoints, see each one's secret and delivery log, resend."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import OuterRef, Subquery
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import webhooks
from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from .permissions import MerchantRequest, owner_required

LOG_SIZE = 100  # the delivery log shows this many, newest first


class WebhookUrlField(forms.URLField):
    """A web address the sender can call: forms.URLField also takes ftp://, which it cannot."""

    default_validators = [URLValidator(schemes=["https", "http"])]
    default_error_messages = {"scheme": gettext_lazy("Enter a web address that starts with https:// (or http://).")}

    def validate(self, value: str) -> None:
        super().validate(value)
        # Checked first, so ftp:// gets this message alone rather than after a bare "Enter a valid URL."
        if value and value.partition(":")[0].lower() not in ("https", "http"):
            raise ValidationError(self.error_messages["scheme"], code="scheme")


class WebhookForm(forms.Form):
    url = WebhookUrlField(
        label=gettext_lazy("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=gettext_lazy("Your system's address that receives the events, e.g. https://example.com/loyalty-hook"),
    )
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one event.")},
    )


@require_http_methods(["GET", "POST"])
@owner_required
def webhook_list(request: MerchantRequest) -> HttpResponse:
    form = WebhookForm(request.POST or None)
    if form.is_valid():
        endpoint = webhooks.endpoint_save(merchant=request.merchant, by=request.user, **form.cleaned_data)
        messages.success(request, _("Webhook added. Give its secret to your system so it can check signatures."))
        return redirect("webhooks:detail", pk=endpoint.pk)
    # The newest delivery's status per endpoint in the same query, so the page costs the same for any number.
    last = WebhookDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-created_at", "-pk")
    endpoints = list(
        WebhookEndpoint.objects.for_merchant(request.merchant).annotate(
            last_status=Subquery(last.values("status")[:1]), last_at=Subquery(last.values("created_at")[:1])
        )
    )
    for endpoint in endpoints:
        endpoint.last_status_label = DeliveryStatus(endpoint.last_status).label if endpoint.last_status else ""
    return render(
        request, "merchants/webhooks.html", {"form": form, "endpoints": endpoints, "timeout": webhooks.TIMEOUT_SECONDS}
    )


# never_cache: the page shows the endpoint's secret, which must not stay in a browser or proxy cache.
@never_cache
@require_http_methods(["GET", "POST"])
@owner_required
def webhook_detail(request: MerchantRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint.objects.for_merchant(request.merchant), pk=pk)
    form = WebhookForm(request.POST or None, initial={"url": endpoint.url, "events": endpoint.events})
    if form.is_valid():
        webhooks.endpoint_save(merchant=request.merchant, by=request.user, endpoint=endpoint, **form.cleaned_data)
        messages.success(request, _("Webhook saved."))
        return redirect("webhooks:detail", pk=endpoint.pk)
    deliveries = WebhookDelivery.objects.for_merchant(request.merchant).filter(endpoint=endpoint)
    context = {
        "endpoint": endpoint,
        "form": form,
        "deliveries": deliveries[:LOG_SIZE],
        "total": deliveries.count(),
        "log_size": LOG_SIZE,
    }
    return render(request, "merchants/webhook_detail.html", context)


@require_POST
@owner_required
def webhook_delete(request: MerchantRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint.objects.for_merchant(request.merchant), pk=pk)
    webhooks.endpoint_delete(endpoint=endpoint, by=request.user)
    messages.success(request, _("Webhook to %(url)s deleted: it gets no more events.") % {"url": endpoint.url})
    return redirect("webhooks:list")


@require_POST
@owner_required
def delivery_resend(request: MerchantRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(
        WebhookDelivery.objects.for_merchant(request.merchant).select_related("endpoint__merchant"), pk=pk
    )
    if delivery.status == DeliveryStatus.PENDING:
        # Still in its series of tries: starting it again would skip the backoff (and a double click would send twice).
        messages.info(
            request, _("This delivery is still being tried; it can be resent once it is delivered or failed.")
        )
    else:
        webhooks.delivery_resend(delivery=delivery, by=request.user)
        messages.success(request, _("The delivery is being sent again."))
    return redirect("webhooks:detail", pk=delivery.endpoint_id)
