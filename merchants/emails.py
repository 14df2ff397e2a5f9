"""Emails to staff: invitations in the shop's language, alerts in each owner's."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import Alert, Invitation, Role, Staff


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


def alert_email_send(*, merchant_id: int, alert_id: int) -> int:
    """Email a new alert to each active owner, in their own language, once. Returns the emails sent."""
    # Under the alert's row lock: a second run waits, then finds it sent; a failed send rolls the
    # mark back, so the task's retry tries again.
    with transaction.atomic():
        alert = (
            Alert.objects.for_merchant(merchant_id)
            .select_for_update(of=("self",))
            .select_related("merchant")
            .filter(pk=alert_id)
            .first()
        )
        if alert is None or alert.emailed_at is not None:
            return 0
        merchant = alert.merchant
        owners = Staff.objects.for_merchant(merchant).filter(role=Role.OWNER, is_active=True).select_related("user")
        link = settings.SITE_URL.rstrip("/") + reverse("merchants:alerts")
        sent = 0
        for owner in owners:
            with translation.override(owner.user.language or merchant.language):
                subject = _("Alert at %(shop)s: %(pattern)s") % {
                    "shop": merchant.name,
                    "pattern": alert.get_pattern_display(),
                }
                body = render_to_string(
                    "merchants/email/alert.txt", {"alert": alert, "merchant": merchant, "link": link}
                )
            send_mail(subject, body, None, [owner.user.email])
            sent += 1
        alert.emailed_at = timezone.now()
        alert.save(update_fields=["emailed_at"])
    return sent
