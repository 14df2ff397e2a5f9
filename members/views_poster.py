"""The console's sign-up poster page: the shop's sign-up link, its QR code, and the printable PDF."""

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from merchants.permissions import MerchantRequest, manager_required

from . import poster


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@manager_required
def poster_page(request: MerchantRequest) -> HttpResponse:
    merchant = request.merchant
    context = {
        "signup_url": poster.signup_url(merchant),
        "qr_svg": mark_safe(poster.qr_svg(merchant)),  # noqa: S308 (segno's SVG of our own URL)
    }
    return render(request, "members/poster.html", context)


@require_GET
@manager_required
def poster_pdf(request: MerchantRequest) -> HttpResponse:
    pdf = poster.poster_pdf(request.merchant)
    return _download(pdf, "application/pdf", f"signup-poster-{request.merchant.slug}.pdf")


@require_GET
@manager_required
def poster_png(request: MerchantRequest) -> HttpResponse:
    return _download(poster.qr_png(request.merchant), "image/png", f"signup-qr-{request.merchant.slug}.png")
