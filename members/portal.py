"""The member's private card link: a signed token bound to the member's current portal key.

Rotating Member.portal_key (erasure, or "sign out everywhere") makes every earlier link stop working.
"""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import Member
from .sms import sms_send

SALT = "members.card-link"


def card_token(member: Member) -> str:
    return signing.dumps([member.pk, member.portal_key], salt=SALT, compress=True)


def member_from_token(token: str) -> Member | None:
    """The member a card link belongs to, or None for a forged, mangled or revoked link."""
    try:
        pk, key = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    member = Member.objects.select_related("merchant").filter(pk=pk, erased_at__isnull=True).first()
    return member if member is not None and member.portal_key == key else None


def card_url(member: Member) -> str:
    """The absolute private link (the route is the card page's, named "card" in the portal urls)."""
    return settings.SITE_URL.rstrip("/") + reverse("portal:card", args=[card_token(member)])


def card_link_send(*, member: Member) -> str:
    """Send the member their private card link: by email if they gave one, else by SMS. Returns the channel."""
    merchant = member.merchant
    with translation.override(member.language or merchant.language):
        context = {"member": member, "merchant": merchant, "link": card_url(member)}
        if member.email:
            subject = _("Your %(shop)s loyalty card") % {"shop": merchant.name}
            send_mail(subject, render_to_string("members/email/card_link.txt", context), None, [member.email])
            return "email"
        if member.phone:
            sms_send(to=member.phone, body=render_to_string("members/sms/card_link.txt", context).strip())
            return "sms"
    return ""


# ---------------------------------------------------------------------------------------------
# One-click unsubscribe links (email footers): they only withdraw consent, so they never expire and
# survive a new portal key; erasure still ends them.

UNSUBSCRIBE_SALT = "members.unsubscribe"


def unsubscribe_token(member: Member) -> str:
    return signing.dumps({"member": member.pk, "purpose": "unsubscribe"}, salt=UNSUBSCRIBE_SALT)


def member_from_unsubscribe_token(token: str) -> Member | None:
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or payload.get("purpose") != "unsubscribe":
        return None
    return Member.objects.select_related("merchant").filter(pk=payload.get("member"), erased_at__isnull=True).first()


def unsubscribe_url(member: Member) -> str:
    """The absolute one-click unsubscribe link for a marketing message's footer."""
    return settings.SITE_URL.rstrip("/") + reverse("member_portal:unsubscribe", args=[unsubscribe_token(member)])


def referral_url(member: Member) -> str:
    """The shop's sign-up page with this member's referral code filled in, to share with friends."""
    query = urlencode({"ref": member.referral_code})
    return f"{settings.SITE_URL.rstrip('/')}/j/{member.merchant.slug}/?{query}"


# ---------------------------------------------------------------------------------------------
# The member's session: opening the card link or signing in with a code remembers the member in
# this browser, so /c/ finds the card again. The portal key is kept too: a new key ends the session.

SESSION_MEMBER = "member_id"
SESSION_MERCHANT = "member_merchant_id"
SESSION_KEY = "member_portal_key"


def portal_session_start(request: HttpRequest, member: Member) -> None:
    session = request.session
    if session.get(SESSION_MEMBER) == member.pk and session.get(SESSION_KEY) == member.portal_key:
        return  # already theirs: no session write on every visit to the card
    if session.get(SESSION_MEMBER) != member.pk:
        session.cycle_key()  # a new session id for a new person: no session fixation
    session[SESSION_MEMBER] = member.pk
    session[SESSION_MERCHANT] = member.merchant_id
    session[SESSION_KEY] = member.portal_key


def portal_session_member(request: HttpRequest) -> Member | None:
    """The member this browser opened a card for, while their links still work."""
    pk, merchant_id = request.session.get(SESSION_MEMBER), request.session.get(SESSION_MERCHANT)
    if not pk or not merchant_id:
        return None
    member = (
        Member.objects.for_merchant(merchant_id)
        .select_related("merchant")
        .filter(pk=pk, erased_at__isnull=True)
        .first()
    )
    key = request.session.get(SESSION_KEY)
    return member if member is not None and key in (None, member.portal_key) else None


def portal_activate(request: HttpRequest, member: Member) -> None:
    """Dates in the shop's time zone; the member's language unless this browser picked one."""
    timezone.activate(member.merchant.tzinfo)  # MerchantMiddleware deactivates it after the response
    if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES and member.language:
        translation.activate(member.language)
        request.LANGUAGE_CODE = member.language


MemberView = Callable[..., HttpResponse]


def member_link(resolve: Callable[[str], Member | None]) -> Callable[[MemberView], MemberView]:
    """For views under a member's private link: `view(request, member, token, ...)`.

    `resolve` turns the URL's token into the member (member_from_token, member_from_unsubscribe_token).
    A forged, mangled or revoked link gets a 404 page that tells the member how to find their card.
    """

    def decorator(view: MemberView) -> MemberView:
        @wraps(view)
        def wrapper(request: HttpRequest, token: str, *args: object, **kwargs: object) -> HttpResponse:
            member = resolve(token)
            if member is None:
                return render(request, "portal/link_invalid.html", status=404)
            portal_activate(request, member)
            return view(request, member, token, *args, **kwargs)

        return wrapper

    return decorator
