"""Writes for segments: save, delete, make one from a ready-made RFM definition."""

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from merchants.actors import Actor
from merchants.models import Merchant
from merchants.queue import enqueue
from merchants.services import audit_record

from .models import Campaign, CampaignStatus, Message, MessageStatus, Segment, Trigger
from .segments import PRESETS
from .sending import audience_write, recurring_run


@transaction.atomic
def segment_save(
    *, merchant: Merchant, actor: Actor, name: str, rules: dict, segment: Segment | None = None
) -> Segment:
    before = {"name": segment.name, "rules": segment.rules} if segment else None
    segment = segment or Segment(merchant=merchant)
    segment.name, segment.rules, segment.updated_at = name, rules, timezone.now()
    segment.save()
    audit_record(
        merchant=merchant,
        actor=actor.user,
        action="segment.save",
        obj=segment,
        before=before,
        after={"name": name, "rules": rules},
    )
    return segment


@transaction.atomic
def segment_delete(*, segment: Segment, actor: Actor) -> None:
    audit_record(
        merchant=segment.merchant, actor=actor.user, action="segment.delete", obj=segment, before={"name": segment.name}
    )
    segment.delete()


def segment_from_preset(*, merchant: Merchant, actor: Actor, key: str) -> Segment:
    """A ready-made segment, named after its definition; made once (a second click opens the first)."""
    label, rules = PRESETS[key]
    name = str(label).split(":")[0]
    if existing := Segment.objects.for_merchant(merchant).filter(name=name).first():
        return existing
    return segment_save(merchant=merchant, actor=actor, name=name, rules=rules())


@transaction.atomic
def campaign_save(*, merchant: Merchant, actor: Actor, fields: dict, campaign: Campaign | None = None) -> Campaign:
    """Create or change a draft (a campaign that started cannot change: its members got what it said)."""
    if campaign is not None and campaign.status != CampaignStatus.DRAFT:
        raise ValidationError(_("This campaign has started and can no longer be changed."), code="started")
    campaign = campaign or Campaign(merchant=merchant, created_by=actor.user)
    if fields["segment"].merchant_id != merchant.pk:
        raise ValidationError(_("Pick one of your own segments."), code="segment")
    for name, value in fields.items():
        setattr(campaign, name, value)
    campaign.save()
    audit_record(
        merchant=merchant, actor=actor.user, action="campaign.save", obj=campaign, after={"name": campaign.name}
    )
    return campaign


def campaign_start(*, campaign: Campaign, actor: Actor, now: datetime | None = None) -> Campaign:
    """Send now, or at the campaign's time: the outbox is written when it starts. A triggered
    campaign is switched on (it runs every day); a recurring one is switched on and runs at its
    time and then every week or month."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            return campaign  # started already: pressing twice sends once
        if campaign.repeat and not campaign.trigger:
            campaign.status, campaign.started_at = CampaignStatus.ACTIVE, now
            campaign.send_at = campaign.send_at or now
            campaign.save(update_fields=["status", "started_at", "send_at"])
            audit_record(merchant=campaign.merchant, actor=actor.user, action="campaign.start", obj=campaign)
            transaction.on_commit(lambda: _run_recurring(campaign.pk))
            return campaign
        if campaign.send_at and campaign.send_at > now:
            campaign.status = CampaignStatus.SCHEDULED
            campaign.save(update_fields=["status"])
            audit_record(merchant=campaign.merchant, actor=actor.user, action="campaign.schedule", obj=campaign)
            return campaign
        # A triggered campaign stays on, running each day; a one-off one is sent and done.
        campaign.status = CampaignStatus.ACTIVE if campaign.trigger else CampaignStatus.SENDING
        campaign.started_at = now
        campaign.save(update_fields=["status", "started_at"])
        audit_record(merchant=campaign.merchant, actor=actor.user, action="campaign.start", obj=campaign)
    if campaign.trigger == Trigger.RULES:  # told from the next change on, not the past ones
        Campaign.objects.filter(pk=campaign.pk).update(rules_told_at=now)
        campaign.rules_told_at = now
    audience_write(campaign=campaign, now=now)
    transaction.on_commit(lambda: send_in_parallel(campaign.pk))
    return campaign


def send_in_parallel(campaign_id: int) -> None:
    """Queue the sending on several workers at once: each claims its own batches (skip locked)."""
    from .tasks import campaign_send_task

    for _worker in range(settings.CAMPAIGN_SEND_WORKERS):
        enqueue(campaign_send_task, campaign_id)


def _run_recurring(campaign_id: int) -> None:
    """A recurring campaign whose first time has come runs now rather than at the next minute's beat."""
    if recurring_run(campaign_ids=[campaign_id]):
        send_in_parallel(campaign_id)


@transaction.atomic
def campaign_cancel(*, campaign: Campaign, actor: Actor) -> Campaign:
    """Stop a scheduled or sending campaign: what was sent stays sent, nothing more goes out."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status in (CampaignStatus.SENT, CampaignStatus.CANCELLED):
        return campaign
    campaign.status, campaign.finished_at = CampaignStatus.CANCELLED, timezone.now()
    campaign.save(update_fields=["status", "finished_at"])
    Message.objects.filter(campaign=campaign, status=MessageStatus.PENDING).update(
        status=MessageStatus.FAILED, error=_("Cancelled before it was sent.")
    )
    audit_record(merchant=campaign.merchant, actor=actor.user, action="campaign.cancel", obj=campaign)
    return campaign


def campaigns_due(*, now: datetime | None = None) -> list[int]:
    """Scheduled campaigns whose time has come (the beat job starts them)."""
    now = now or timezone.now()
    return list(Campaign.objects.filter(status=CampaignStatus.SCHEDULED, send_at__lte=now).values_list("pk", flat=True))
