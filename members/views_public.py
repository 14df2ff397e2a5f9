"""The shop's public pages for customers (no sign-in): sign-up at /j/<shop>/ and its web app manifest.

The "how it works" page next to them is served by rewards, which owns the rules; templates link
to it by URL name only.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from merchants.models import Merchant

from .forms_public import SignupForm
from .ratelimit import client_ip, rate_limited
from .signup import member_signup

THEME_COLOR = "#0f766e"  # app.css's --brand
HOUR, DAY = 60 * 60, 24 * 60 * 60


def _digest(value: str) -> str:
    # Rate-limit keys live in a shared cache: keep phone numbers and emails out of it.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _too_many(request: HttpRequest, form: SignupForm) -> bool:
    """Counts this sign-up against the client's address and the phone and email it names.

    The same limits apply whether or not the phone is registered, so they reveal nothing either.
    """
    per_contact = settings.SIGNUP_PER_CONTACT_PER_DAY
    checks = [("signup-ip", client_ip(request), settings.SIGNUP_PER_ADDRESS_PER_HOUR, HOUR)]
    contacts = [form.cleaned_data[name] for name in ("phone", "email")]
    checks += [("signup-contact", _digest(contact), per_contact, DAY) for contact in contacts if contact]
    return any(rate_limited(scope, key, limit=limit, seconds=seconds) for scope, key, limit, seconds in checks)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest, slug: str) -> HttpResponse:
    shop = get_object_or_404(Merchant, slug=slug)
    form = SignupForm(request.POST or None, merchant=shop, initial={"referral_code": request.GET.get("ref", "")[:12]})
    if request.method == "POST" and form.is_bot:
        return redirect("public:done", slug=shop.slug)  # looks like success; nothing is created
    status = 200
    if form.is_valid():
        seen = f"signup:key:{form.cleaned_data['key']}"
        if cache.get(seen):  # the same form posted twice (a double tap): one sign-up, one message
            return redirect("public:done", slug=shop.slug)
        if _too_many(request, form):
            form.add_error(
                None,
                _(
                    "Too many sign-ups from here or with these details. Please try again later, or ask us at the counter."
                ),
            )
            status = 429
        else:
            cache.set(seen, 1, HOUR)
            try:
                member_signup(merchant=shop, language=get_language(), **form.signup_data())
            except ValidationError as error:
                cache.delete(seen)
                form.add_error(None, error.messages)
            else:
                return redirect("public:done", slug=shop.slug)
    return render(request, "public/signup.html", {"shop": shop, "form": form}, status=status)


@require_GET
def signup_done(request: HttpRequest, slug: str) -> HttpResponse:
    shop = get_object_or_404(Merchant, slug=slug)
    return render(request, "public/signup_done.html", {"shop": shop})


@require_GET
def manifest(request: HttpRequest, slug: str) -> JsonResponse:
    """The web app manifest: "Add to home screen" opens the shop's page full-screen, with its name."""
    shop = get_object_or_404(Merchant, slug=slug)
    start = reverse("public:signup", args=[shop.slug])
    icons = [
        {"src": static("img/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
        {"src": static("img/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
        {"src": static("img/icon-maskable-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
    ]
    data = {
        "id": start,
        "name": shop.name,
        "short_name": shop.name[:12],
        "lang": get_language(),
        "start_url": start,
        "scope": "/",  # the member's card page, wherever it lives, stays inside the installed app
        "display": "standalone",
        "background_color": "#f6f7f9",
        "theme_color": THEME_COLOR,
        "icons": icons,
    }
    return JsonResponse(data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})
