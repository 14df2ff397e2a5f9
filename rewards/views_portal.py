"""The member's digital card, on their phone: reached by the private link (/c/<token>/), which also
remembers them in this browser so /c/ opens the card again; and the download of their data.

No staff login here: the signed token in the URL is the key (members.portal). Another member's,
a forged or a revoked token is simply not found.
"""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from members.card_codes import barcode_svg, qr_svg
from members.models import Member
from members.portal import (
    card_token,
    member_from_token,
    member_link,
    portal_session_member,
    portal_session_start,
    referral_url,
)
from members.privacy import member_data_response

from . import selectors


@never_cache
@require_GET
def card_home(request: HttpRequest) -> HttpResponse:
    """/c/: the card this browser opened last, or how to find it."""
    member = portal_session_member(request)
    if member is not None:
        return redirect("portal:card", card_token(member))
    return render(request, "portal/card_missing.html", status=404)


@never_cache
@require_GET
@member_link(member_from_token)
def card(request: HttpRequest, member: Member, token: str) -> HttpResponse:
    portal_session_start(request, member)
    portal = selectors.member_portal_card(member=member)
    history = Paginator(selectors.member_history(account=portal.card.account), 20).get_page(request.GET.get("page"))
    context = {
        "member": member,
        "merchant": member.merchant,
        "shop": member.merchant,
        "token": token,
        "portal": portal,
        "card": portal.card,
        "program": portal.card.program,
        "history": history,
        "qr": qr_svg(member.card_number),
        "barcode": barcode_svg(member.card_number),
        "referral_link": referral_url(member),
        "share_text": _("Join %(shop)s's loyalty program with my link:") % {"shop": member.merchant.name},
    }
    return render(request, "portal/card.html", context)


@never_cache
@require_GET
@member_link(member_from_token)
def data_export(request: HttpRequest, member: Member, token: str, fmt: str) -> HttpResponseBase:
    """My data, as JSON (everything, nested) or CSV (one section after another), streamed."""
    stamp = timezone.localdate().isoformat()
    return member_data_response(member, fmt, filename=f"my-data-{member.merchant.slug}-{stamp}")
