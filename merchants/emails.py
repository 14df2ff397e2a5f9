"""Emails to staff, written in the shop's language."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from .models import Invitation


def invitation_email_send(*, merchant_id: int, invitation_id: int, token: str) -> bool:
    """Send the invitation link, unless the invitation was used or withdrawn meanwhile."""
    invitation = (
        Invitation.objects.for_merchant(merchant_id)
        .select_related("merchant", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or not invitation.is_pending:
        return False
    with translation.override(invitation.merchant.language):
        context = {
            "invitation": invitation,
            "merchant": invitation.merchant,
            "link": settings.SITE_URL.rstrip("/") + reverse("merchants:invitation_accept", args=[token]),
            "days": settings.INVITATION_MAX_AGE_DAYS,
        }
        subject = _("You are invited to join %(shop)s") % {"shop": invitation.merchant.name}
        body = render_to_string("merchants/email/invitation.txt", context)
    send_mail(subject, body, None, [invitation.email])
    return True
