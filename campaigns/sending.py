"""A campaign's run: write its outbox (the audience, less the held-out share), then send it in batches.

At most once per (campaign, member, occurrence), and none lost when a worker dies: the outbox's unique
key makes writing the audience twice harmless. A worker claims a batch of pending messages for a lease
(claimed_at); then, one message at a time, it marks the message "sending" (only if its claim still
holds), sends it, and marks it "sent" at once. A worker killed mid-batch leaves its unsent messages
pending under a claim that lapses after CAMPAIGN_CLAIM_SECONDS: the next run sends them. Only the
one message it was sending at that instant is in doubt (it may or may not have gone out): it is
marked failed with a word saying so, never sent twice. A message whose sending raised is retried
with backoff, up to MAX_ATTEMPTS times; what still fails shows on the campaign page with its error.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Count, F, Min, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from members.models import Member
from members.portal import unsubscribe_url
from members.sms import sms_send
from merchants.actors import Actor
from merchants.periods import day_start
from rewards.ledger import add_months, boost_give, points_credit, voucher_gift, voucher_void
from rewards.models import Kind, Reward

from .content import offer_until, render, version
from .models import Campaign, CampaignStatus, Channel, Message, MessageStatus, Offer, Repeat, Trigger
from .segments import segment_members
from .triggers import due_members

log = logging.getLogger(__name__)

SEND_BATCH = 200
WRITE_BATCH = 5000
MAX_ATTEMPTS = 3


def claim_lease() -> timedelta:
    """How long a worker's claim on a batch holds: past it, a dead worker's messages go to the next run."""
    return timedelta(seconds=settings.CAMPAIGN_CLAIM_SECONDS)


def frequency_cap() -> timedelta:
    """At most one marketing message per member in this many days (settings.CAMPAIGN_CAP_DAYS)."""
    return timedelta(days=settings.CAMPAIGN_CAP_DAYS)


def _draw(kind: str, campaign_id: int, member_id: int) -> int:
    """A number in 0..9999 fixed for this campaign and member: the same draw however often the
    audience is written, independent between campaigns and between the two draws below."""
    digest = hashlib.sha256(f"{kind}:{campaign_id}:{member_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 10_000


def held_out(campaign_id: int, member_id: int, percent: int) -> bool:
    """The same member is in or out of a campaign's holdout however often the audience is written."""
    return _draw("holdout", campaign_id, member_id) < percent * 100


def variant_of(campaign: Campaign, member_id: int) -> str:
    """An A/B test's half for this member (always "a" without a test)."""
    if not campaign.ab_test:
        return "a"
    return "b" if _draw("variant", campaign.pk, member_id) % 2 else "a"


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
    """Write the outbox: a one-off or recurring campaign's reachable segment (or a random sample of
    it, for a surprise), or a triggered campaign's members whose moment is today. Returns the rows
    it added (0 the second time the same day)."""
    now = now or timezone.now()
    today = timezone.localtime(now, campaign.merchant.tzinfo).date()
    members = reachable(campaign=campaign, now=now)
    if campaign.trigger:
        due = due_members(campaign, members, today, now)
    else:
        if campaign.sample_size:
            members = members.order_by("?")[: campaign.sample_size]
        due = [(pk, today, {}) for pk in members.values_list("pk", flat=True)]
    before = Message.objects.filter(campaign=campaign).count()
    for start in range(0, len(due), WRITE_BATCH):
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
                variant=variant_of(campaign, member_id),
                context=context,
            )
            for member_id, occurrence, context in due[start : start + WRITE_BATCH]
        ]
        Message.objects.bulk_create(rows, ignore_conflicts=True)
    if campaign.trigger == Trigger.RULES and due:
        told = parse_datetime(due[0][2]["told_through"])
        Campaign.objects.filter(pk=campaign.pk).update(rules_told_at=told)
        campaign.rules_told_at = told
    return Message.objects.filter(campaign=campaign).count() - before


def triggers_run(*, now: datetime | None = None) -> int:
    """Hourly: each switched-on triggered campaign writes the members whose day it is, then sends.
    The outbox's key makes the other 23 runs of the day write nothing."""
    written = 0
    active = Campaign.objects.filter(status=CampaignStatus.ACTIVE).exclude(trigger="")
    for campaign in active.select_related("merchant", "segment"):
        written += audience_write(campaign=campaign, now=now)
        campaign_send(campaign_id=campaign.pk, now=now)
    return written


def next_run(campaign: Campaign, after: datetime) -> datetime:
    """A recurring campaign's next time after `after`: the same weekday or day of the month and
    the same time of day, in the shop's time zone (the 31st runs on the month's last day)."""
    first = timezone.localtime(campaign.send_at, campaign.merchant.tzinfo)
    step = 0
    while True:
        step += 1
        if campaign.repeat == Repeat.WEEKLY:
            local = first + timedelta(weeks=step)
        else:
            local = datetime.combine(add_months(first.date(), step), first.timetz())
        run = local.replace(tzinfo=None).replace(tzinfo=campaign.merchant.tzinfo)  # the wall-clock time
        if run > after:
            return run


def recurring_run(*, now: datetime | None = None, campaign_ids: list[int] | None = None) -> list[int]:
    """Every minute: recurring campaigns whose time came write that day's outbox (the day is the
    occurrence) and move on to their next time. Returns the campaigns that ran."""
    now = now or timezone.now()
    ran = []
    due = Campaign.objects.filter(status=CampaignStatus.ACTIVE, trigger="").exclude(repeat="")
    if campaign_ids is not None:
        due = due.filter(pk__in=campaign_ids)
    for pk in due.filter(send_at__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            campaign = (
                Campaign.objects.select_for_update(skip_locked=True)
                .select_related("merchant", "segment")
                .filter(pk=pk, status=CampaignStatus.ACTIVE, send_at__lte=now)
                .first()
            )
            if campaign is None:  # another run took it
                continue
            audience_write(campaign=campaign, now=now)
            Campaign.objects.filter(pk=pk).update(send_at=next_run(campaign, now))
        ran.append(pk)
    return ran


def bonus_key(campaign: Campaign, member_id: int, occurrence: object) -> str:
    """The ledger's idempotency key of a campaign's bonus: once per member and run."""
    return f"campaign:{campaign.pk}:{member_id}:{occurrence}"


def _offer_before(campaign: Campaign, message: Message) -> None:
    """A voucher is made before its message, whose text carries the code; a retry finds it made."""
    chosen = version(campaign, message.variant)
    if chosen.offer != Offer.VOUCHER or not chosen.reward_id or message.voucher_id:
        return
    voucher = voucher_gift(
        member=message.member,
        reward=Reward.objects.get(pk=chosen.reward_id),
        actor=Actor.job(f"campaign {campaign.pk}"),
        expires_at=day_end(campaign, offer_until(campaign, timezone.now())),
        idempotency_key=bonus_key(campaign, message.member_id, message.occurrence),
    )
    Message.objects.filter(pk=message.pk).update(voucher=voucher)
    message.voucher = voucher


def _offer_after(campaign: Campaign, message: Message, now: datetime) -> None:
    """Bonus points or a multiplier, once the message went out: a retried task finds the key used."""
    chosen = version(campaign, message.variant)
    key = bonus_key(campaign, message.member_id, message.occurrence)
    reason = _("Offer: %(campaign)s") % {"campaign": campaign.name}
    if chosen.offer == Offer.BONUS and chosen.bonus_points:
        with transaction.atomic():
            Message.objects.filter(pk=message.pk).update(points=chosen.bonus_points)
            points_credit(
                member=message.member,
                points=chosen.bonus_points,
                kind=Kind.BONUS,
                reason=reason,
                actor=Actor.job(f"campaign {campaign.pk}"),
                idempotency_key=key,
            )
    elif chosen.offer == Offer.MULTIPLIER:
        ends = day_end(campaign, offer_until(campaign, now))
        boost_give(
            member=message.member,
            multiplier=chosen.multiplier,
            starts_at=now,
            ends_at=ends,
            reason=reason,
            idempotency_key=key,
        )


def day_end(campaign: Campaign, day: date) -> datetime:
    """The offer lasts to the end of its last day in the shop's time zone."""
    return day_start(campaign.merchant, day + timedelta(days=1))


def _deliver(campaign: Campaign, message: Message) -> None:
    member = message.member
    subject, text = render(campaign, member, message)
    if campaign.channel == Channel.EMAIL:
        email = EmailMessage(subject, text, None, [member.email])
        email.extra_headers["List-Unsubscribe"] = f"<{unsubscribe_url(member)}>"
        email.send()
    else:
        sms_send(to=member.phone, body=text)


def send_batch(*, campaign: Campaign, now: datetime | None = None) -> int:
    """Claim up to SEND_BATCH due messages, then send them. Returns how many it claimed."""
    now = now or timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - claim_lease())  # a dead worker's claim lapses
    with transaction.atomic():
        claimed = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(campaign=campaign, status=MessageStatus.PENDING)
            .filter(due, free)
            .order_by("pk")
            .values_list("pk", flat=True)[:SEND_BATCH]
        )
        Message.objects.filter(pk__in=claimed).update(claimed_at=now)
    messages = Message.objects.filter(pk__in=claimed).select_related(
        "member__account__tier", "member__merchant", "voucher__reward"
    )
    for message in messages.order_by("pk"):
        try:
            _offer_before(campaign, message)
            # Ours only while the claim holds: a run that took over a lapsed claim sends it instead.
            mine = Message.objects.filter(pk=message.pk, status=MessageStatus.PENDING, claimed_at=now)
            if not mine.update(status=MessageStatus.SENDING):
                continue
            _deliver(campaign, message)
        except Exception as error:  # a provider's error of any kind: retried, then shown on the page
            _failed(campaign, message, error)
            continue
        # Recorded right after it went out: a crash from here on leaves only this one in doubt.
        with transaction.atomic():
            Message.objects.filter(pk=message.pk).update(
                status=MessageStatus.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1
            )
            _offer_after(campaign, message, timezone.now())
    return len(claimed)


def _failed(campaign: Campaign, message: Message, error: Exception) -> None:
    attempts = message.attempts + 1
    final = attempts >= MAX_ATTEMPTS
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.FAILED if final else MessageStatus.PENDING,
        attempts=attempts,
        next_attempt_at=timezone.now() + timedelta(minutes=2**attempts),
        claimed_at=None,
        error=str(error)[:300],
    )
    if final and message.voucher_id:  # nobody told them the code: the voucher goes back
        voucher_void(redemption=message.voucher, actor=Actor.job(f"campaign {campaign.pk}"), reason=_("Not sent"))
    log.warning("campaign %s: message to member %s failed: %s", campaign.pk, message.member_id, error)


def interrupted_settle(*, campaign: Campaign, now: datetime) -> int:
    """Messages a dead worker was sending at the moment it died: they may have gone out or not. They
    are not sent again (at most once); the campaign page shows them failed, with why."""
    return Message.objects.filter(
        campaign=campaign, status=MessageStatus.SENDING, claimed_at__lt=now - claim_lease()
    ).update(
        status=MessageStatus.FAILED,
        attempts=F("attempts") + 1,
        error=_("Interrupted while being sent: it may not have arrived."),
    )


def campaign_send(*, campaign_id: int, now: datetime | None = None) -> datetime | None:
    """Send what is due; returns when to come back (retries, or other workers' claims), or None when
    the campaign is done."""
    campaign = Campaign.objects.select_related("merchant", "segment").get(pk=campaign_id)
    if campaign.status not in (CampaignStatus.SENDING, CampaignStatus.ACTIVE):
        return None
    interrupted_settle(campaign=campaign, now=now or timezone.now())
    while send_batch(campaign=campaign, now=now):
        pass
    waiting = Message.objects.filter(campaign=campaign, status=MessageStatus.PENDING)
    if waiting.exists():
        # Back for the first retry, or when another worker's claim lapses (it may have died).
        times = waiting.aggregate(retry=Min("next_attempt_at"), claimed=Min("claimed_at"))
        lapse = times["claimed"] and times["claimed"] + claim_lease()
        return min(t for t in (times["retry"], lapse, (now or timezone.now()) + claim_lease()) if t)
    Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SENDING).update(
        status=CampaignStatus.SENT, finished_at=timezone.now()
    )
    return None


def campaigns_stalled(*, now: datetime | None = None) -> list[int]:
    """Campaigns being sent with due messages that no worker claimed within the lease: their tasks
    died (or were never queued, the broker being down). The minute's beat job queues them again."""
    now = now or timezone.now()
    lapsed = now - claim_lease()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    running = Campaign.objects.filter(status__in=(CampaignStatus.SENDING, CampaignStatus.ACTIVE), started_at__lt=lapsed)
    stalled = []
    for pk in running.values_list("pk", flat=True):
        messages = Message.objects.filter(campaign_id=pk)
        if messages.filter(claimed_at__gte=lapsed).exists():
            continue  # a worker is on it
        if (
            messages.filter(status=MessageStatus.SENDING).exists()
            or messages.filter(due, status=MessageStatus.PENDING).exists()
        ):
            stalled.append(pk)
    return stalled


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
