"""The shop's customers: identity, contact, consent basics, referral codes."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.db import OPTIONAL, not_null_indexes
from merchants.models import Location, Merchant, MerchantScopedQuerySet

# Codes people read aloud or type: no 0/O, 1/I/L, 2/Z, 5/S, 8/B.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"


def random_code(length: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def portal_key_new() -> str:
    return secrets.token_urlsafe(16)


class Source(models.TextChoices):
    COUNTER = "counter", _("Counter")
    SIGNUP = "signup", _("Sign-up page")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    PORTAL = "portal", _("Member's own page")


class Member(models.Model):
    # No index of its own: every index and unique constraint of the table starts with merchant.
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="members", db_index=False)
    first_name = models.CharField(_("first name"), max_length=80, blank=True)
    last_name = models.CharField(_("last name"), max_length=80, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, help_text=_("Stored in international format."))
    email = models.EmailField(_("email"), blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, blank=True)
    card_number = models.CharField(_("card number"), max_length=32)
    referral_code = models.CharField(_("referral code"), max_length=12)
    # Optional keys are indexed where set (see Meta): most members have no referrer or location.
    referred_by = models.ForeignKey(**OPTIONAL, to="self", on_delete=models.SET_NULL, related_name="referrals")
    source = models.CharField(_("joined through"), max_length=10, choices=Source.choices, default=Source.COUNTER)
    enrolled_by = models.ForeignKey(
        **OPTIONAL, to=settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, related_name="+"
    )
    location = models.ForeignKey(**OPTIONAL, to=Location, on_delete=models.SET_NULL, related_name="+")
    notes = models.TextField(_("notes"), blank=True)
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)
    # Current marketing consent per channel; ConsentEvent keeps the history behind it.
    email_consent = models.BooleanField(_("email offers"), default=False)
    sms_consent = models.BooleanField(_("SMS offers"), default=False)
    # The secret in the member's private card link; a new one revokes every old link.
    portal_key = models.CharField(max_length=32, default=portal_key_new, editable=False)
    deletion_requested_at = models.DateTimeField(_("asked to be deleted"), null=True, blank=True)
    erased_at = models.DateTimeField(_("personal data erased"), null=True, blank=True)
    tags = models.ManyToManyField("Tag", through="MemberTag", related_name="members", blank=True)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["-joined_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                "merchant", "phone", condition=~models.Q(phone=""), name="member_phone_unique_per_merchant"
            ),
            models.UniqueConstraint(
                "merchant", Lower("email"), condition=~models.Q(email=""), name="member_email_unique_per_merchant"
            ),
            models.UniqueConstraint("merchant", "card_number", name="member_card_unique_per_merchant"),
            models.UniqueConstraint("merchant", "referral_code", name="member_referral_unique_per_merchant"),
            # Unique anyway (id is): what the composite foreign keys of the member's rows refer to.
            models.UniqueConstraint("id", "merchant", name="member_id_merchant"),
        ]
        indexes = [
            # The member list (newest first) and the enrolment rollup read members by join date.
            models.Index(fields=["merchant", "joined_at"], name="member_joined"),
            *not_null_indexes("referred_by", "enrolled_by", "location", prefix="member"),
        ]

    def __str__(self) -> str:
        return self.name or self.phone or self.email or self.card_number

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class CardStatus(models.TextChoices):
    UNASSIGNED = "unassigned", _("Not handed out yet")
    ACTIVE = "active", _("In use")
    BLOCKED = "blocked", _("Blocked")


class Card(models.Model):
    """A physical card the shop printed or bought; its number is linked to a member at the counter."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="cards")
    number = models.CharField(_("card number"), max_length=32)
    member = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="cards")
    status = models.CharField(max_length=12, choices=CardStatus.choices, default=CardStatus.UNASSIGNED)
    batch = models.CharField(_("print batch"), max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    linked_at = models.DateTimeField(null=True, blank=True)
    blocked_at = models.DateTimeField(null=True, blank=True)
    blocked_reason = models.CharField(max_length=200, blank=True)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("card")
        verbose_name_plural = _("cards")
        ordering = ["number"]
        constraints = [models.UniqueConstraint("merchant", "number", name="card_number_unique_per_merchant")]

    def __str__(self) -> str:
        return self.number


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class ConsentEvent(models.Model):
    """Each time a member's marketing consent was given or withdrawn: when, how, and who collected it."""

    # One composite key (member, merchant) -> Member (id, merchant) stands for both (merchants.db.tenant_foreign_keys).
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="consent_events", db_constraint=False)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    granted = models.BooleanField()
    source = models.CharField(max_length=20)  # counter, signup, portal, unsubscribe, import, api
    detail = models.CharField(max_length=200, blank=True)  # e.g. the imported file and row it came from
    collected_by = models.ForeignKey(
        **OPTIONAL, to=settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = not_null_indexes("collected_by", prefix="consent")

    def __str__(self) -> str:
        return f"{self.member_id} {self.channel} {'yes' if self.granted else 'no'} ({self.source})"


class Tag(models.Model):
    """A label the shop puts on members ("vip", "wholesale"); campaigns pick audiences by them."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(_("name"), max_length=50)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [models.UniqueConstraint("merchant", Lower("name"), name="tag_name_unique_per_merchant")]

    def __str__(self) -> str:
        return self.name


class MemberTag(models.Model):
    """A member carries a tag. The link carries merchant_id too, like every tenant table."""

    # No single-column indexes for member and merchant: the constraint and index below start with them.
    # One composite key (member, merchant) -> Member (id, merchant) stands for both (merchants.db.tenant_foreign_keys).
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="tag_links", db_index=False, db_constraint=False
    )
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="member_links")

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint("member", "tag", name="member_tag_unique")]
        indexes = [models.Index(fields=["merchant", "tag"], name="member_tag_by_tag")]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.tag_id}"


class LoginCode(models.Model):
    """A one-time code a member types to open their card page; stored hashed, short-lived, few tries."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="login_codes")
    code_hash = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"code for {self.member_id}"


class EnrolmentDay(models.Model):
    """How many members joined on a day (the shop's date), by location, channel and staff member.

    A rollup for the dashboard, rebuilt for a range of days from the members themselves
    (members.kpis.enrolment_refresh): enrolling writes nothing here, so it locks no shared row.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    location = models.ForeignKey(Location, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False)
    source = models.CharField(max_length=10, choices=Source.choices)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )
    members = models.PositiveIntegerField()

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["merchant", "day"], name="enrolment_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.source}: {self.members}"
