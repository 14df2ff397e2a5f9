"""Segments, campaigns, messages, holdout groups and lift, surveys, re-engagement jobs."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.models import Merchant, MerchantScopedQuerySet


class Segment(models.Model):
    """A saved audience: the owner's choices in the segment form, read by campaigns.segments."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(_("name"), max_length=100)
    rules = models.JSONField(default=dict, blank=True)  # SegmentForm.rules(): plain numbers, dates and ids
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]
        constraints = [models.UniqueConstraint("merchant", "name", name="segment_name_unique_per_merchant")]

    def __str__(self) -> str:
        return self.name


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")
    ACTIVE = "active", _("On: runs every day")


class Trigger(models.TextChoices):
    NONE = "", _("Once, to the whole segment")
    WELCOME = "welcome", _("Welcome: days after a member joins")
    BIRTHDAY = "birthday", _("Birthday: on the member's birthday")
    LAPSED = "lapsed", _("Lapsed: days after a member's last purchase")


class Campaign(models.Model):
    """A message to a segment, by email or SMS, with a share of the audience held out to measure it."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(_("name"), max_length=100)
    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("audience"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    subject = models.CharField(_("subject"), max_length=150, blank=True, help_text=_("Email only."))
    body = models.TextField(_("message"))
    bonus_points = models.PositiveIntegerField(
        _("bonus points"),
        default=0,
        help_text=_("An offer: points put on each member's card when their message is sent. 0 for none."),
    )
    holdout_percent = models.PositiveSmallIntegerField(
        _("held out"),
        default=10,
        validators=[MaxValueValidator(50)],
        help_text=_("A share of the audience gets nothing, so you see what the campaign really changed."),
    )
    send_at = models.DateTimeField(_("send at"), null=True, blank=True, help_text=_("Empty: when you press send."))
    # A triggered campaign runs every day, once for each member the day their moment comes.
    trigger = models.CharField(_("when"), max_length=10, choices=Trigger.choices, default=Trigger.NONE, blank=True)
    trigger_days = models.PositiveSmallIntegerField(
        _("days"),
        default=0,
        help_text=_("Welcome: days after joining (0: the same day). Lapsed: days without a purchase."),
    )
    status = models.CharField(max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    HELD_OUT = "held_out", _("Held out")


class Message(models.Model):
    """The outbox: one row per (campaign, member, occurrence), written before anything is sent.

    The unique key makes writing the audience twice harmless; a row is claimed (sending) before
    its message goes out, so a second run or a retried task never sends it again.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+", db_index=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="messages", db_index=False)
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    occurrence = models.DateField()  # the day of the run: a recurring campaign's runs are told apart by it
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    points = models.PositiveIntegerField(default=0)  # the offer's bonus, written with its ledger line

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint("campaign", "member", "occurrence", name="message_once_per_occurrence")]
        indexes = [
            models.Index(fields=["campaign", "status"], name="message_campaign_status"),
            # The frequency cap: what a member was sent lately.
            models.Index(fields=["merchant", "member", "sent_at"], name="message_member_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} → {self.member_id}: {self.status}"
