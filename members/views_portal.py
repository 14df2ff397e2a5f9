"""The member's own pages that need no points: sign in with a one-time code, their details and
consents, one-click unsubscribe, and asking to be deleted.

A member is known by the private link's token in the URL (members.portal), never by a staff login.
The card page itself, and the data download, are served by rewards, which owns those numbers; the
pages here link to them by URL name only.
"""

from django.conf import settings
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
from .ratelimit import HOUR, Budget, client_ip, limits_hit, retry_message
from .services import marketing_resubscribe, marketing_unsubscribe, member_request_deletion, member_update
from .tasks import login_code_send_task

CARD_PAGE = "portal:card"  # served by rewards
PENDING = "member_login"  # session: the shop and address a code was asked for


def _shop(slug: str) -> Merchant:
    return get_object_or_404(Merchant, slug=slug)


def _page(request: HttpRequest, template: str, context: dict, wait: int | None) -> HttpResponse:
    """The page; a 429 that says when to come back while a rate limit refuses this client."""
    response = render(request, template, context, status=429 if wait else 200)
    if wait:
        response["Retry-After"] = str(wait)
    return response


def _budgets(request: HttpRequest, merchant: Merchant, address: Address, step: str) -> list[Budget]:
    """The limits of one step ("asks" for a code, "checks" of a code): per client address and per
    phone or email, whether or not a member has it. Settings: LOGIN_CODE_<STEP>_PER_<ADDRESS|CONTACT>."""
    seconds = settings.LOGIN_CODE_WINDOW_MINUTES * 60
    per_ip = getattr(settings, f"LOGIN_CODE_{step.upper()}_PER_ADDRESS")
    per_contact = getattr(settings, f"LOGIN_CODE_{step.upper()}_PER_CONTACT")
    return [
        Budget(f"member-{step}-ip", client_ip(request), per_ip, seconds),
        Budget(f"member-{step}-contact", address.key(merchant.pk), per_contact, seconds),
    ]


# ---------------------------------------------------------------------------------------------
# Sign in with a one-time code


@never_cache
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest, slug: str) -> HttpResponse:
    merchant = _shop(slug)
    form = LoginForm(request.POST or None, initial={"address": request.GET.get("address", "")})
    wait = None
    if form.is_valid():
        try:
            address = address_parse(form.cleaned_data["address"], merchant=merchant)
        except ValidationError as error:
            form.add_error("address", error)
        else:
            if wait := limits_hit(*_budgets(request, merchant, address, "asks")):
                form.add_error(None, retry_message(wait))
            else:
                _ask_for_code(request, merchant, address)
                return redirect("member_portal:login_code", slug=merchant.slug)
    return _page(request, "portal/login.html", {"shop": merchant, "form": form}, wait)


def _ask_for_code(request: HttpRequest, merchant: Merchant, address: Address) -> None:
    """The same steps for every address, member or not: what happens next is up to the task."""
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
    expired, wait = False, None
    if form.is_valid():
        try:
            if wait := limits_hit(*_budgets(request, merchant, address, "checks")):
                raise CodeRefused(retry_message(wait), code="rate")
            member = login_code_check(merchant=merchant, address=address, code=form.cleaned_data["code"])
        except CodeRefused as error:
            form.add_error("code", error)
            expired = error.code == "expired"
        else:
            del request.session[PENDING]
            portal_session_start(request, member)
            return redirect(CARD_PAGE, card_token(member))
    context = {"shop": merchant, "form": form, "address": address, "expired": expired}
    return _page(request, "portal/login_code.html", context, wait)


# ---------------------------------------------------------------------------------------------
# My details, consents, deletion


@never_cache
@require_http_methods(["GET", "POST"])
@member_link(member_from_token)
def details(request: HttpRequest, member: Member, token: str) -> HttpResponse:
    form = DetailsForm.for_member(member, request.POST or None)
    wait = None
    if form.is_valid():
        # The page says when another member has a phone or email: saves are limited, per member and per
        # client address, so it cannot be used to look through the shop's members.
        per_hour = settings.PORTAL_DETAILS_SAVES_PER_HOUR
        budgets = [Budget("details-member", str(member.pk), per_hour, HOUR)]
        budgets.append(Budget("details-ip", client_ip(request), per_hour, HOUR))
        try:
            if wait := limits_hit(*budgets):
                raise ValidationError(retry_message(wait), code="rate")
            member_update(member=member, **form.cleaned_data)
        except ValidationError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("Your details are saved."))
            return redirect("member_portal:details", token)
    context = {"member": member, "shop": member.merchant, "form": form, "token": token}
    return _page(request, "portal/details.html", context, wait)


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
