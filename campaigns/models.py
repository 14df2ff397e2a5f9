"""Segments, campaigns, messages, holdout groups and lift, surveys, re-engagement jobs."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
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
    ACTIVE = "active", _("On")


class Trigger(models.TextChoices):
    NONE = "", _("Once, to the whole segment")
    WELCOME = "welcome", _("Welcome: days after a member joins")
    BIRTHDAY = "birthday", _("Birthday: on the member's birthday")
    LAPSED = "lapsed", _("Lapsed: days after a member's last purchase")
    EXPIRING = "expiring", _("Points expiring: days before a member's points expire")
    REACH = "reach", _("A reward within reach: the day a member's balance reaches a reward")
    PROMOTION = "promotion", _("Tier promotion: days after a member moves up a tier")
    FEEDBACK = "feedback", _("Feedback request: days after a purchase")
    RULES = "rules", _("Program change: when you change the program's rules")


class Offer(models.TextChoices):
    NONE = "", _("No offer")
    BONUS = "bonus", _("Bonus points")
    MULTIPLIER = "multiplier", _("Points multiplier for a few days")
    VOUCHER = "voucher", _("A reward voucher")


class Repeat(models.TextChoices):
    NONE = "", _("Once")
    WEEKLY = "weekly", _("Every week")
    MONTHLY = "monthly", _("Every month")


class Campaign(models.Model):
    """A message to a segment, by email or SMS, with a share of the audience held out to measure it."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(_("name"), max_length=100)
    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("audience"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    subject = models.CharField(_("subject"), max_length=150, blank=True, help_text=_("Email only."))
    body = models.TextField(_("message"))
    # The offer: given to each member when their message goes out (never to the held-out share).
    offer = models.CharField(_("offer"), max_length=10, choices=Offer.choices, default=Offer.NONE, blank=True)
    bonus_points = models.PositiveIntegerField(
        _("bonus points"), default=0, help_text=_("Points put on each member's card when their message is sent.")
    )
    multiplier = models.DecimalField(
        _("points multiplier"),
        max_digits=4,
        decimal_places=2,
        default=Decimal(2),
        validators=[MinValueValidator(Decimal("1.1")), MaxValueValidator(Decimal(10))],
        help_text=_("2 doubles the points of every purchase in the offer's days."),
    )
    reward = models.ForeignKey(
        "rewards.Reward",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reward"),
        help_text=_("Each member gets a voucher for it, free of points."),
    )
    offer_days = models.PositiveSmallIntegerField(
        _("offer lasts (days)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("How long the multiplier or the voucher lasts after the message."),
    )
    # The same message in other languages: {language code: {"subject": ..., "body": ...}}.
    # A member whose language has no text here gets the main one.
    translations = models.JSONField(default=dict, blank=True)
    # An A/B test: the members not held out are split in two; B's empty fields are A's.
    ab_test = models.BooleanField(_("test a second version"), default=False)
    b_subject = models.CharField(_("subject (B)"), max_length=150, blank=True)
    b_body = models.TextField(_("message (B)"), blank=True, help_text=_("Empty: the same message as A."))
    b_offer = models.CharField(
        _("offer (B)"), max_length=10, choices=[("same", _("The same as A")), *Offer.choices], default="same"
    )
    b_bonus_points = models.PositiveIntegerField(_("bonus points (B)"), default=0)
    b_multiplier = models.DecimalField(
        _("points multiplier (B)"),
        max_digits=4,
        decimal_places=2,
        default=Decimal(2),
        validators=[MinValueValidator(Decimal("1.1")), MaxValueValidator(Decimal(10))],
    )
    b_reward = models.ForeignKey(
        "rewards.Reward",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reward (B)"),
    )
    sample_size = models.PositiveIntegerField(
        _("surprise: only a random number of members"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Empty: the whole segment. A number: that many members picked at random get it."),
    )
    holdout_percent = models.PositiveSmallIntegerField(
        _("held out"),
        default=10,
        validators=[MaxValueValidator(50)],
        help_text=_("A share of the audience gets nothing, so you see what the campaign really changed."),
    )
    send_at = models.DateTimeField(_("send at"), null=True, blank=True, help_text=_("Empty: when you press send."))
    # A recurring campaign stays on; send_at is its next run, moved on after each one.
    repeat = models.CharField(_("repeat"), max_length=10, choices=Repeat.choices, default=Repeat.NONE, blank=True)
    # A triggered campaign runs every day, once for each member the day their moment comes.
    trigger = models.CharField(_("when"), max_length=10, choices=Trigger.choices, default=Trigger.NONE, blank=True)
    trigger_days = models.PositiveSmallIntegerField(
        _("days"),
        default=0,
        help_text=_(
            "Welcome, promotion, feedback: days after it (0: the same day). Lapsed: days without a purchase. "
            "Points expiring: days before they expire."
        ),
    )
    # Program change: the last change to the rules already told (its audit log time).
    rules_told_at = models.DateTimeField(null=True, blank=True, editable=False)
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

    The unique key makes writing the audience twice harmless; a row is claimed, then marked sending
    just before its message goes out, so a second run or a retried task never sends it again (see
    campaigns.sending).
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+", db_index=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="messages", db_index=False)
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    occurrence = models.DateField()  # the day of the run: a recurring campaign's runs are told apart by it
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a worker claimed it for sending (campaigns.sending): the claim lapses after CAMPAIGN_CLAIM_SECONDS.
    claimed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    variant = models.CharField(max_length=1, default="a")  # an A/B test's half: "a" or "b"
    points = models.PositiveIntegerField(default=0)  # the offer's bonus, written with its ledger line
    voucher = models.ForeignKey(
        "rewards.Redemption", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    # What the message says beyond the member's own figures: the program change it tells, the
    # points expiring, the reward in reach, the purchase it asks about ({"changes": ..., ...}).
    context = models.JSONField(default=dict, blank=True)

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


class SurveyAnswer(models.Model):
    """A member's answer to the one-question survey (how likely to recommend us, 0 to 10, and why).

    Reached through the link in a feedback message: one answer per message, which the member can
    change; a link from the member's card (no message) keeps one answer per member and day.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+", db_index=False)
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    message = models.OneToOneField(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="answer")
    campaign = models.ForeignKey(Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    score = models.PositiveSmallIntegerField(_("score"), validators=[MaxValueValidator(10)])
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=models.Q(score__lte=10), name="survey_score_0_to_10")]
        indexes = [models.Index(fields=["merchant", "created_at"], name="survey_answer_recent")]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.score}"
