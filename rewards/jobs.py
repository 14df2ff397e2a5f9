"""The nightly work of each shop, run once per shop-local day: bonuses, reminders, tiers, expiry."""

import logging

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from merchants.models import Merchant

from . import ledger
from .models import Account, Program

log = logging.getLogger(__name__)


def daily_due_merchant_ids() -> list[int]:
    """Shops whose local day has begun since their nightly work last completed."""
    due = []
    for merchant in Merchant.objects.select_related("program").iterator():
        program = getattr(merchant, "program", None)
        last = program.last_expiry_run if program else None
        if last is None or last < ledger.local_today(merchant):
            due.append(merchant.pk)
    return due


def daily_run(*, merchant_id: int) -> dict[str, int]:
    """Each step is idempotent; expiry goes last because it marks the day done."""
    merchant = Merchant.objects.get(pk=merchant_id)
    Program.objects.get_or_create(merchant=merchant)
    today = ledger.local_today(merchant)
    result = {"birthday_bonuses": ledger.birthday_bonuses(merchant=merchant, today=today)}
    result["reminders"] = paid_tier_reminders_send(merchant=merchant)
    result.update(ledger.tier_review(merchant=merchant, today=today))
    result["expired_points"] = ledger.points_expire(merchant=merchant)
    log.info("nightly work for %s: %s", merchant.slug, result)
    return result


def paid_tier_reminders_send(*, merchant: Merchant) -> int:
    """Email members whose paid membership ends soon, once per paid period."""
    sent = 0
    for account in ledger.paid_tier_reminders_due(merchant=merchant):
        member = account.member
        if member.email:
            _remind(merchant, account)
            sent += 1
        ledger.paid_tier_mark_reminded(account=account)
    return sent


def _remind(merchant: Merchant, account: Account) -> None:
    with translation.override(account.member.language or merchant.language):
        context = {
            "merchant": merchant,
            "member": account.member,
            "tier": account.paid_tier,
            "until": account.paid_until,
        }
        subject = _("Your %(tier)s membership at %(shop)s ends soon") % {
            "tier": account.paid_tier.name,
            "shop": merchant.name,
        }
        body = render_to_string("rewards/email/paid_tier_reminder.txt", context)
    send_mail(subject, body, None, [account.member.email])
