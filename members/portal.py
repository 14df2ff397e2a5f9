"""The member's private card link: a signed token bound to the member's current portal key.

Rotating Member.portal_key (erasure, or "sign out everywhere") makes every earlier link stop working.
"""

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
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
