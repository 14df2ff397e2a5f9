"""The owners' weekly digest: last week's headline numbers and their change, in the owner's language.

Sent on Monday morning in the shop's time zone (an hourly job asks which shops are due), once a
week per shop: RollupState.digest_sent_for remembers the Monday it was sent for.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from members.kpis import enrolment_card
from merchants.locales import number_text, percent_text
from merchants.models import Merchant, Role, Staff
from merchants.periods import Window
from rewards.ledger import local_today
from rewards.templatetags.rewards_tags import money_format

from . import cards
from .models import RollupState
from .rollups import rollups_refresh

log = logging.getLogger(__name__)
SEND_FROM_HOUR = 8  # local time on Monday


@dataclass
class Line:
    label: str
    value: str
    change: str  # "up 12%", "down 3%", "no change", "" when there is nothing to compare with


def _change(value: float | None) -> str:
    if value is None:
        return ""
    if value > 0:
        return _("up %(percent)s") % {"percent": percent_text(value)}
    if value < 0:
        return _("down %(percent)s") % {"percent": percent_text(-value)}
    return _("no change")


def digest_week(today: date) -> Window:
    """Last week, Monday to Sunday."""
    monday = today - timedelta(days=today.weekday())
    return Window(monday - timedelta(days=7), monday - timedelta(days=1))


def digest_lines(*, merchant: Merchant, week: Window) -> list[Line]:
    enrolment = enrolment_card(merchant=merchant, window=week)
    activity = cards.activity_card(merchant=merchant, window=week)
    redemption = cards.redemption_card(merchant=merchant, window=week)
    liability = cards.liability_card(merchant=merchant, window=week)

    def money(amount: object) -> str:
        return money_format(amount, merchant.currency, merchant.country)

    return [
        Line(_("New members"), number_text(enrolment.new), _change(enrolment.new_change)),
        Line(_("Members in total"), number_text(enrolment.total), _change(enrolment.total_change)),
        Line(_("Visits"), number_text(activity.now.visits), _change(activity.change("visits"))),
        Line(_("Member revenue"), money(activity.now.revenue), _change(activity.change("revenue"))),
        Line(_("Active members, 30 days"), number_text(activity.active_30), _change(activity.change("active_30"))),
        Line(
            _("Points earned"), number_text(redemption.now.points_earned), _change(redemption.change("points_earned"))
        ),
        Line(
            _("Points redeemed"),
            number_text(redemption.now.points_redeemed),
            _change(redemption.change("points_redeemed")),
        ),
        Line(_("Points members hold"), number_text(liability.outstanding), _change(liability.outstanding_change)),
        Line(_("Their value"), money(liability.outstanding_value), ""),
    ]


def digest_due_merchant_ids(now: datetime | None = None) -> list[int]:
    """Shops where it is Monday morning or later in the week's first day, and last week's digest is not sent."""
    now = now or timezone.now()
    due = []
    sent = dict(RollupState.objects.values_list("merchant_id", "digest_sent_for"))
    for merchant in Merchant.objects.all().iterator():
        local = timezone.localtime(now, merchant.tzinfo)
        monday = local.date() - timedelta(days=local.weekday())
        if local.weekday() == 0 and local.hour < SEND_FROM_HOUR:
            continue  # too early on Monday: later this morning
        if sent.get(merchant.pk) is None or sent[merchant.pk] < monday:
            due.append(merchant.pk)
    return due


def digest_send(*, merchant_id: int, now: datetime | None = None) -> int:
    """Email last week's digest to the shop's owners, once per week. Returns the emails sent."""
    now = now or timezone.now()
    merchant = Merchant.objects.get(pk=merchant_id)
    today = local_today(merchant, now)
    monday = today - timedelta(days=today.weekday())
    week = digest_week(today)
    owners = Staff.objects.for_merchant(merchant).filter(role=Role.OWNER, is_active=True).select_related("user")
    link = settings.SITE_URL.rstrip("/") + reverse("merchants:home") + "?period=7"
    rollups_refresh(merchant_id=merchant.pk, now=now)  # idempotent: done before taking the lock
    sent = 0
    # Marked and sent under the shop's row lock: a second run waits, then finds it sent; a failed
    # send rolls the mark back, so the next hourly run tries again.
    with transaction.atomic():
        state, _created = RollupState.objects.select_for_update().get_or_create(merchant=merchant)
        if state.digest_sent_for is not None and state.digest_sent_for >= monday:
            return 0
        RollupState.objects.filter(pk=state.pk).update(digest_sent_for=monday)
        for owner in owners:
            with translation.override(owner.user.language or merchant.language):
                lines = digest_lines(merchant=merchant, week=week)
                context = {"merchant": merchant, "week": week, "lines": lines, "link": link}
                subject = _("%(shop)s: your week in numbers") % {"shop": merchant.name}
                text = render_to_string("rewards/email/weekly_digest.txt", context)
                message = EmailMultiAlternatives(subject, text, None, [owner.user.email])
                message.attach_alternative(render_to_string("rewards/email/weekly_digest.html", context), "text/html")
                message.send()
                sent += 1
    log.info("weekly digest for %s sent to %d owners", merchant.slug, sent)
    return sent
