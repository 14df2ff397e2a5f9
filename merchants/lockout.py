"""Staff sign-in lockout (django-axes): how a sign-in is counted, and the page a locked-out person sees.

Settings (AXES_*) in loyalty/settings.py name these two functions.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .forms import EmailAuthenticationForm


def lockout_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The email a sign-in attempt was for, as the login accepts it: case and spaces do not matter, so
    "Owner@Shop.com " and "owner@shop.com" count against the same limit."""
    if credentials:
        username = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        username = request.POST.get(settings.AXES_USERNAME_FORM_FIELD)
    return username.strip().lower() if isinstance(username, str) else username


def lockout_response(request: HttpRequest, response: HttpResponse | None, credentials: dict | None) -> HttpResponse:
    """The sign-in page again, saying why the sign-in was refused and for how long, with 429 Too Many
    Requests. The form keeps the email so the person sees which account is paused."""
    form = EmailAuthenticationForm(request, initial={"username": lockout_username(request, credentials) or ""})
    context = {
        "form": form,
        "next": request.POST.get("next", ""),
        "locked_out_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "registration/login.html", context, status=429)
