"""The shop's public pages for customers (no sign-in): sign-up at /j/<shop>/ and its web app manifest.

The "how it works" page next to them is served by rewards, which owns the rules; templates link
to it by URL name only.
"""

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_http_methods

from merchants.models import Merchant

from .forms_public import SignupForm
from .ratelimit import DAY, HOUR, Budget, client_ip, contact_key, limits_hit, retry_message
from .signup import member_signup

THEME_COLOR = "#0f766e"  # app.css's --brand


def _address_budget(request: HttpRequest) -> Budget:
    return Budget("signup-ip", client_ip(request), settings.SIGNUP_PER_ADDRESS_PER_HOUR, HOUR)


def _too_many(request: HttpRequest, form: SignupForm) -> int | None:
    """Counts this sign-up against the client's address and the phone and email it names (normalised
    by the form: every way of writing one number shares its budget); the seconds to wait, or None.

    The same limits apply whether or not the phone is registered, so they reveal nothing either.
    """
    per_contact = settings.SIGNUP_PER_CONTACT_PER_DAY
    budgets = [_address_budget(request)]
    contacts = [form.cleaned_data[name] for name in ("phone", "email")]
    budgets += [Budget("signup-contact", contact_key(contact), per_contact, DAY) for contact in contacts if contact]
    return limits_hit(*budgets)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest, slug: str) -> HttpResponse:
    shop = get_object_or_404(Merchant, slug=slug)
    form = SignupForm(request.POST or None, merchant=shop, initial={"referral_code": request.GET.get("ref", "")[:12]})
    if request.method == "POST" and form.is_bot:
        return redirect("public:done", slug=shop.slug)  # looks like success; nothing is created
    wait = None
    if form.is_valid():
        seen = f"signup:key:{form.cleaned_data['key']}"
        if cache.get(seen):  # the same form posted twice (a double tap): one sign-up, one message
            return redirect("public:done", slug=shop.slug)
        if wait := _too_many(request, form):
            form.add_error(None, retry_message(wait))
        else:
            cache.set(seen, 1, HOUR)
            try:
                member_signup(merchant=shop, language=get_language(), **form.signup_data())
            except ValidationError as error:
                cache.delete(seen)
                form.add_error(None, error.messages)
            else:
                return redirect("public:done", slug=shop.slug)
    elif form.has_error("referral_code", "referral_unknown") and (wait := limits_hit(_address_budget(request))):
        # The form says whether a referral code exists: guessing codes costs this address sign-ups.
        form.add_error(None, retry_message(wait))
    response = render(request, "public/signup.html", {"shop": shop, "form": form}, status=429 if wait else 200)
    if wait:
        response["Retry-After"] = str(wait)
    return response


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
