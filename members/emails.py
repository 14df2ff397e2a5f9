"""Emails about members to the shop's staff, in the shop's language."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from merchants.models import Role, Staff

from .models import Member

MEMBER_PAGE = "rewards:member"  # the console's member page, served by rewards (linked by name only)


def deletion_request_email_send(*, merchant_id: int, member_id: int) -> int:
    """Tell the shop's owners that a member asked to be deleted; returns how many were told."""
    member = Member.objects.for_merchant(merchant_id).select_related("merchant").filter(pk=member_id).first()
    if member is None or member.erased_at or member.deletion_requested_at is None:
        return 0  # erased meanwhile: nothing left to ask for
    owners = Staff.objects.for_merchant(merchant_id).filter(role=Role.OWNER, is_active=True).select_related("user")
    emails = sorted({staff.user.email for staff in owners if staff.user.is_active})
    if not emails:
        return 0
    merchant = member.merchant
    with translation.override(merchant.language):
        context = {
            "member": member,
            "merchant": merchant,
            "link": settings.SITE_URL.rstrip("/") + reverse(MEMBER_PAGE, args=[member.pk]),
        }
        subject = _("%(shop)s: a member asked to be deleted") % {"shop": merchant.name}
        body = render_to_string("members/email/deletion_request.txt", context)
    send_mail(subject, body, None, emails)
    return len(emails)
