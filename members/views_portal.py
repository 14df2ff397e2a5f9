"""The member's own pages that need no points: sign in with a one-time code, their details and
consents, one-click unsubscribe, and asking to be deleted.

A member is known by the private link's token in the URL (members.portal), never by a staff login.
The card page itself, and the data download, are served by rewards, which owns those numbers; the
pages here link to them by URL name only.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from merchants.models import Merchant
from merchants.queue import enqueue

from .forms_portal import CodeForm, DetailsForm, LoginForm
from .login import Address, CodeRefused, address_parse, login_code_check, login_code_requested
from .models import Member
from .portal import (
    card_token,
    member_from_token,
    member_from_unsubscribe_token,
    member_link,
    portal_session_start,
)
from .ratelimit import client_ip, rate_limited
from .services import marketing_resubscribe, marketing_unsubscribe, member_request_deletion, member_update
from .tasks import login_code_send_task

CARD_PAGE = "portal:card"  # served by rewards
PENDING = "member_login"  # session: the shop and address a code was asked for
# Asking for codes: a few per address (each one reaches a real phone or inbox), more per network
# address (a family or an office shares one); checking codes is limited per network address too.
ASK_PER_ADDRESS, ASK_PER_IP, CHECK_PER_IP, WINDOW = 3, 20, 30, 15 * 60


def _shop(slug: str) -> Merchant:
    return get_object_or_404(Merchant, slug=slug)


# ---------------------------------------------------------------------------------------------
# Sign in with a one-time code


@never_cache
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest, slug: str) -> HttpResponse:
    merchant = _shop(slug)
    form = LoginForm(request.POST or None, initial={"address": request.GET.get("address", "")})
    if form.is_valid():
        try:
            address = address_parse(form.cleaned_data["address"], merchant=merchant)
            _ask_for_code(request, merchant, address)
        except ValidationError as error:
            form.add_error("address" if error.code != "rate" else None, error)
        else:
            return redirect("member_portal:login_code", slug=merchant.slug)
    return render(request, "portal/login.html", {"shop": merchant, "form": form})


def _ask_for_code(request: HttpRequest, merchant: Merchant, address: Address) -> None:
    """The same steps for every address, member or not: what happens next is up to the task."""
    by_ip = rate_limited("member-login-ip", client_ip(request), limit=ASK_PER_IP, seconds=WINDOW)
    by_address = rate_limited("member-login-address", address.key(merchant.pk), limit=ASK_PER_ADDRESS, seconds=WINDOW)
    if by_ip or by_address:
        raise ValidationError(_("Too many codes asked for. Wait a few minutes, then try again."), code="rate")
    login_code_requested(merchant=merchant, address=address)
    enqueue(login_code_send_task, merchant.pk, address.kind, address.value, at_once=True)
    request.session[PENDING] = {"merchant": merchant.pk, "kind": address.kind, "value": address.value}


@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest, slug: str) -> HttpResponse:
    merchant = _shop(slug)
    pending = request.session.get(PENDING)
    if not pending or pending.get("merchant") != merchant.pk:
        return redirect("member_portal:login", slug=merchant.slug)
    address = Address(pending["kind"], pending["value"])
    form = CodeForm(request.POST or None)
    expired = False
    if form.is_valid():
        try:
            if rate_limited("member-code-ip", client_ip(request), limit=CHECK_PER_IP, seconds=WINDOW):
                raise CodeRefused(_("Too many tries. Wait a few minutes, then try again."), code="rate")
            member = login_code_check(merchant=merchant, address=address, code=form.cleaned_data["code"])
        except CodeRefused as error:
            form.add_error("code", error)
            expired = error.code == "expired"
        else:
            del request.session[PENDING]
            portal_session_start(request, member)
            return redirect(CARD_PAGE, card_token(member))
    context = {"shop": merchant, "form": form, "address": address, "expired": expired}
    return render(request, "portal/login_code.html", context)


# ---------------------------------------------------------------------------------------------
# My details, consents, deletion


@never_cache
@require_http_methods(["GET", "POST"])
@member_link(member_from_token)
def details(request: HttpRequest, member: Member, token: str) -> HttpResponse:
    form = DetailsForm.for_member(member, request.POST or None)
    if form.is_valid():
        try:
            member_update(member=member, **form.cleaned_data)
        except ValidationError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("Your details are saved."))
            return redirect("member_portal:details", token)
    context = {"member": member, "shop": member.merchant, "form": form, "token": token}
    return render(request, "portal/details.html", context)


def _show_errors(form: DetailsForm, error: ValidationError) -> None:
    """The service's reasons next to the fields they name, the rest above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@never_cache
@require_http_methods(["GET", "POST"])
@member_link(member_from_token)
def delete(request: HttpRequest, member: Member, token: str) -> HttpResponse:
    """Ask the shop to erase my data: a confirmation first, then the shop's owners are told."""
    if request.method == "POST":
        member_request_deletion(member=member)
        return redirect("member_portal:delete", token)
    return render(request, "portal/delete.html", {"member": member, "shop": member.merchant, "token": token})


# ---------------------------------------------------------------------------------------------
# One-click unsubscribe, from a message's footer, without signing in


@csrf_exempt  # RFC 8058: mail apps POST "List-Unsubscribe=One-Click" with no form; the signed link is the key
@never_cache
@require_http_methods(["GET", "POST"])
@member_link(member_from_unsubscribe_token)
def unsubscribe(request: HttpRequest, member: Member, token: str) -> HttpResponse:
    withdrawn = marketing_unsubscribe(member=member)
    context = {"shop": member.merchant, "unsubscribe_token": token, "withdrawn": withdrawn}
    return render(request, "portal/unsubscribed.html", context)


@never_cache
@require_POST
@member_link(member_from_unsubscribe_token)
def unsubscribe_undo(request: HttpRequest, member: Member, token: str) -> HttpResponse:
    again = marketing_resubscribe(member=member)
    context = {"shop": member.merchant, "unsubscribe_token": token, "resubscribed": again}
    return render(request, "portal/unsubscribed.html", context)
