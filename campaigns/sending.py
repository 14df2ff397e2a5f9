"""A campaign's run: write its outbox (the audience, less the held-out share), then send it in batches.

At most once per (campaign, member, occurrence): the outbox's unique key makes writing the audience
twice harmless, and each message is claimed (status "sending", committed) before it goes out, so a
task that runs twice or is retried after a worker died never sends it again. A message whose
sending raised is retried with backoff, up to MAX_ATTEMPTS times; what still fails shows on the
campaign page with its error.
"""

import calendar
import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from members.models import Member
from members.portal import unsubscribe_url
from members.sms import sms_send
from merchants.actors import Actor
from merchants.models import Merchant
from merchants.periods import day_start
from rewards.ledger import points_credit
from rewards.models import Kind

from .models import Campaign, CampaignStatus, Channel, Message, MessageStatus, Trigger
from .segments import segment_members

log = logging.getLogger(__name__)

SEND_BATCH = 200
WRITE_BATCH = 5000
MAX_ATTEMPTS = 3
PLACEHOLDERS = ("first_name", "name", "shop", "balance", "tier", "bonus")


def frequency_cap() -> timedelta:
    """At most one marketing message per member in this many days (settings.CAMPAIGN_CAP_DAYS)."""
    return timedelta(days=settings.CAMPAIGN_CAP_DAYS)


def held_out(campaign_id: int, member_id: int, percent: int) -> bool:
    """The same member is in or out of a campaign's holdout however often the audience is written."""
    digest = hashlib.sha256(f"holdout:{campaign_id}:{member_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


def reachable(*, campaign: Campaign, now: datetime) -> QuerySet[Member]:
    """The segment's members who agreed to this channel, have an address for it, and were not sent
    a marketing message within the frequency cap."""
    members = segment_members(merchant=campaign.merchant, rules=campaign.segment.rules, now=now)
    if campaign.channel == Channel.EMAIL:
        members = members.filter(email_consent=True).exclude(email="")
    else:
        members = members.filter(sms_consent=True).exclude(phone="")
    recently = Message.objects.for_merchant(campaign.merchant).filter(
        status=MessageStatus.SENT, sent_at__gte=now - frequency_cap()
    )
    return members.exclude(pk__in=recently.values("member_id"))


def audience_write(*, campaign: Campaign, now: datetime | None = None) -> int:
    """Write the outbox: a one-off campaign's whole reachable segment, or a triggered campaign's
    members whose day it is. Returns the rows it added (0 the second time)."""
    now = now or timezone.now()
    today = timezone.localtime(now, campaign.merchant.tzinfo).date()
    members = reachable(campaign=campaign, now=now)
    if campaign.trigger:
        pairs = _triggered(campaign, members, today)
    else:
        pairs = [(pk, today) for pk in members.order_by("pk").values_list("pk", flat=True)]
    before = Message.objects.filter(campaign=campaign).count()
    for start in range(0, len(pairs), WRITE_BATCH):
        rows = [
            Message(
                merchant_id=campaign.merchant_id,
                campaign=campaign,
                member_id=member_id,
                occurrence=occurrence,
                channel=campaign.channel,
                status=(
                    MessageStatus.HELD_OUT
                    if held_out(campaign.pk, member_id, campaign.holdout_percent)
                    else MessageStatus.PENDING
                ),
            )
            for member_id, occurrence in pairs[start : start + WRITE_BATCH]
        ]
        Message.objects.bulk_create(rows, ignore_conflicts=True)
    return Message.objects.filter(campaign=campaign).count() - before


def _triggered(campaign: Campaign, members: QuerySet[Member], today: date) -> list[tuple[int, date]]:
    """The members whose moment is today, each with the day that moment belongs to (the outbox's
    occurrence): a member is welcomed once, wished a happy birthday once a year, and told they are
    missed once for each last purchase."""
    merchant = campaign.merchant
    if campaign.trigger == Trigger.BIRTHDAY:
        days = [today.day] + ([29] if (today.month, today.day) == (2, 28) and not calendar.isleap(today.year) else [])
        chosen = members.filter(birthday__month=today.month, birthday__day__in=days)
        return [(pk, today) for pk in chosen.values_list("pk", flat=True)]
    day = today - timedelta(days=campaign.trigger_days)
    start, end = day_start(merchant, day), day_start(merchant, day + timedelta(days=1))
    if campaign.trigger == Trigger.WELCOME:
        chosen = members.filter(joined_at__gte=start, joined_at__lt=end)
    else:  # lapsed: the last purchase was that many days ago
        chosen = members.filter(account__last_purchase_at__gte=start, account__last_purchase_at__lt=end)
    return [(pk, day) for pk in chosen.values_list("pk", flat=True)]


def triggers_run(*, now: datetime | None = None) -> int:
    """Hourly: each switched-on triggered campaign writes the members whose day it is, then sends.
    The outbox's key makes the other 23 runs of the day write nothing."""
    written = 0
    for campaign in Campaign.objects.filter(status=CampaignStatus.ACTIVE).select_related("merchant", "segment"):
        written += audience_write(campaign=campaign, now=now)
        campaign_send(campaign_id=campaign.pk, now=now)
    return written


class _Values(dict):
    """Placeholders the owner did not spell right stay as they were written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def personalise(text: str, member: Member, merchant: Merchant, bonus: int = 0) -> str:
    account = getattr(member, "account", None)
    values = _Values(
        bonus=bonus,
        first_name=member.first_name or member.name,
        name=member.name,
        shop=merchant.name,
        balance=account.balance if account else 0,
        tier=account.tier.name if account and account.tier else "",
    )
    return text.format_map(values)


def render(campaign: Campaign, member: Member) -> tuple[str, str]:
    """The subject and text this member gets, with the footer in their language."""
    merchant = campaign.merchant
    with translation.override(member.language or merchant.language):
        body = personalise(campaign.body, member, merchant, campaign.bonus_points)
        link = unsubscribe_url(member)
        if campaign.channel == Channel.EMAIL:
            footer = _("You get this because you agreed to offers from %(shop)s. Unsubscribe: %(link)s")
        else:
            footer = _("Stop offers: %(link)s")
        text = f"{body}\n\n{footer % {'shop': merchant.name, 'link': link}}"
    return personalise(campaign.subject, member, merchant, campaign.bonus_points), text


def bonus_key(campaign: Campaign, member_id: int, occurrence: object) -> str:
    """The ledger's idempotency key of a campaign's bonus: once per member and run."""
    return f"campaign:{campaign.pk}:{member_id}:{occurrence}"


def _give_bonus(campaign: Campaign, message: Message) -> None:
    """The offer, after the message went out: a retried task finds the key used and gives nothing."""
    if campaign.bonus_points:
        with transaction.atomic():
            Message.objects.filter(pk=message.pk).update(points=campaign.bonus_points)
            points_credit(
                member=message.member,
                points=campaign.bonus_points,
                kind=Kind.BONUS,
                reason=_("Offer: %(campaign)s") % {"campaign": campaign.name},
                actor=Actor.job(f"campaign {campaign.pk}"),
                idempotency_key=bonus_key(campaign, message.member_id, message.occurrence),
            )


def _deliver(campaign: Campaign, member: Member) -> None:
    subject, text = render(campaign, member)
    if campaign.channel == Channel.EMAIL:
        message = EmailMessage(subject, text, None, [member.email])
        message.extra_headers["List-Unsubscribe"] = f"<{unsubscribe_url(member)}>"
        message.send()
    else:
        sms_send(to=member.phone, body=text)


def send_batch(*, campaign: Campaign, now: datetime | None = None) -> int:
    """Claim up to SEND_BATCH due messages, then send them. Returns how many it claimed."""
    now = now or timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    with transaction.atomic():
        claimed = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(campaign=campaign, status=MessageStatus.PENDING)
            .filter(due)
            .order_by("pk")
            .values_list("pk", flat=True)[:SEND_BATCH]
        )
        Message.objects.filter(pk__in=claimed).update(status=MessageStatus.SENDING)
    messages = Message.objects.filter(pk__in=claimed).select_related("member__account__tier", "member__merchant")
    sent = []
    for message in messages:
        try:
            _deliver(campaign, message.member)
        except Exception as error:  # a provider's error of any kind: retried, then shown on the page
            attempts = message.attempts + 1
            Message.objects.filter(pk=message.pk).update(
                status=MessageStatus.PENDING if attempts < MAX_ATTEMPTS else MessageStatus.FAILED,
                attempts=attempts,
                next_attempt_at=timezone.now() + timedelta(minutes=2**attempts),
                error=str(error)[:300],
            )
            log.warning("campaign %s: message to member %s failed: %s", campaign.pk, message.member_id, error)
            continue
        sent.append(message.pk)
        _give_bonus(campaign, message)
    # One write for the batch's successes; a crash before it leaves them "sending": never sent again.
    Message.objects.filter(pk__in=sent).update(
        status=MessageStatus.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1
    )
    return len(claimed)


def campaign_send(*, campaign_id: int, now: datetime | None = None) -> datetime | None:
    """Send what is due; returns when to come back for retries, or None when the campaign is done."""
    campaign = Campaign.objects.select_related("merchant", "segment").get(pk=campaign_id)
    if campaign.status not in (CampaignStatus.SENDING, CampaignStatus.ACTIVE):
        return None
    while send_batch(campaign=campaign, now=now):
        pass
    waiting = Message.objects.filter(campaign=campaign, status=MessageStatus.PENDING)
    if retry := waiting.order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first():
        return retry
    Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SENDING).update(
        status=CampaignStatus.SENT, finished_at=timezone.now()
    )
    return None


@dataclass
class Progress:
    held_out: int
    pending: int
    sending: int
    sent: int
    failed: int

    @property
    def audience(self) -> int:
        return self.held_out + self.pending + self.sending + self.sent + self.failed


def progress(*, campaign: Campaign) -> Progress:
    counts = dict(Message.objects.filter(campaign=campaign).values_list("status").annotate(Count("pk")).order_by())
    return Progress(*(counts.get(status, 0) for status in ("held_out", "pending", "sending", "sent", "failed")))
