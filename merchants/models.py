"""The tenant (Merchant), its locations, its staff and their roles, invitations, the audit log."""

import hashlib
from typing import Self
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import locales


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> "User":
        # Emails are matched case-insensitively at login: "Ann@Shop.my" is "ann@shop.my".
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in to the console: an owner, a manager or a cashier (or an operator)."""

    email = models.EmailField(_("email"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, blank=True)
    is_staff = models.BooleanField(
        _("platform operator"), default=False, help_text=_("Can sign in to the Django admin.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.name or self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email


def validate_country(value: str) -> None:
    if value not in locales.country_codes():
        raise ValidationError(_("“%(value)s” is not a country we know."), params={"value": value}, code="country")


def validate_currency(value: str) -> None:
    if value not in locales.currency_codes():
        raise ValidationError(_("“%(value)s” is not a currency we know."), params={"value": value}, code="currency")


def validate_timezone(value: str) -> None:
    if value not in locales.timezone_names():
        raise ValidationError(_("“%(value)s” is not a time zone we know."), params={"value": value}, code="timezone")


DEFAULT_PRIVACY_TEXT = _(
    "%(shop)s keeps your name, contact details, purchases and points to run its loyalty program, and "
    "sends you offers only on the channels you tick. You can see, download or correct your data, withdraw "
    "your consent or ask for your data to be deleted at any time from your card's page."
)


class Merchant(models.Model):
    """A shop: the tenant. Everything a shop owns carries its merchant_id."""

    name = models.CharField(_("shop name"), max_length=120)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    country = models.CharField(_("country"), max_length=2, validators=[validate_country])
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    timezone = models.CharField(_("time zone"), max_length=64, validators=[validate_timezone])
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    # Privacy: what the sign-up page and the member's own page say, and how long an idle member is kept.
    privacy_text = models.TextField(
        _("privacy notice"),
        blank=True,
        max_length=3000,
        help_text=_(
            "Shown next to the consent boxes on the sign-up page and on the member's own page. Empty: our default text."
        ),
    )
    erase_inactive_years = models.PositiveSmallIntegerField(
        _("erase members inactive for (years)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_(
            "Members with no purchase, redemption or other activity for this long have their personal data erased every night. Empty: never."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def privacy_notice(self) -> str:
        """The shop's own privacy text, or a default in the reader's language."""
        return self.privacy_text or str(DEFAULT_PRIVACY_TEXT) % {"shop": self.name}


class MerchantScopedQuerySet(models.QuerySet):
    """Every tenant query goes through for_merchant(): other shops' rows are simply not there."""

    def for_merchant(self, merchant: Merchant | int) -> Self:
        return self.filter(merchant=merchant)


class Location(models.Model):
    """A branch of a shop, where the counter stands."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="locations")
    name = models.CharField(_("name"), max_length=120)
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("open"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint("merchant", Lower("name"), name="location_name_unique_per_merchant")]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """Roles from the most to the least trusted; a role may do all that the ones below it may."""

    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    CASHIER = "cashier", _("Cashier")

    @property
    def rank(self) -> int:
        return {"owner": 3, "manager": 2, "cashier": 1}[self.value]

    def at_least(self, other: "Role") -> bool:
        return self.rank >= Role(other).rank


class Staff(models.Model):
    """A user's place in a shop. One person may work for several shops."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("joined"), auto_now_add=True)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["user__name", "user__email"]
        constraints = [models.UniqueConstraint("merchant", "user", name="staff_unique_per_merchant")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.merchant})"

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    def can(self, role: Role) -> bool:
        """True when this staff member's role is at least `role`."""
        return self.is_active and self.role_enum.at_least(role)


def token_hash(token: str) -> str:
    """Invitation tokens are stored hashed: a leaked table does not let anyone in."""
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(models.Model):
    """An emailed, one-time link that lets a new staff member join a shop and set a password."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email"))
    name = models.CharField(_("name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.merchant}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


AUDIT_ACTIONS = {
    "merchant.create": _("Created the shop"),
    "merchant.update": _("Changed shop settings"),
    "location.create": _("Added a location"),
    "location.update": _("Changed a location"),
    "invitation.create": _("Invited a staff member"),
    "invitation.resend": _("Sent an invitation again"),
    "invitation.revoke": _("Withdrew an invitation"),
    "staff.join": _("Joined the staff"),
    "staff.update": _("Changed a staff member's access"),
    "program.update": _("Changed the loyalty program"),
    "tier.create": _("Added a tier"),
    "tier.update": _("Changed a tier"),
    "reward.create": _("Added a reward"),
    "reward.update": _("Changed a reward"),
    "points.adjust": _("Adjusted a member's points"),
    "adjustment.request": _("Asked for approval of a points adjustment"),
    "adjustment.approve": _("Approved a points adjustment"),
    "adjustment.decline": _("Declined a points adjustment"),
    "alert.review": _("Marked an alert reviewed"),
    "card.link": _("Gave a member a card"),
    "card.replace": _("Replaced a lost card"),
    "card.batch": _("Made cards to print"),
    "member.deletion_requested": _("A member asked to be deleted"),
    "member.erase": _("Erased a member's personal data"),
    "member.update": _("A member changed their details"),
    "members.import": _("Imported customers from a file"),
    "data.export": _("Exported data"),
    "api_key.create": _("Created an API key"),
    "api_key.revoke": _("Revoked an API key"),
    "webhook.create": _("Added a webhook"),
    "webhook.delete": _("Deleted a webhook"),
    "webhook.resend": _("Sent a webhook again"),
    "segment.save": _("Saved a segment"),
    "segment.delete": _("Deleted a segment"),
    "campaign.save": _("Saved a campaign"),
    "campaign.schedule": _("Scheduled a campaign"),
    "campaign.start": _("Started a campaign"),
    "campaign.cancel": _("Cancelled a campaign"),
}


class AuditLog(models.Model):
    """Who did what, when, to which object; written by services in the change's own transaction."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="audit_log")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="audit_merchant_recent")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_repr}"

    @property
    def action_label(self) -> str:
        return str(AUDIT_ACTIONS.get(self.action, self.action))

    @property
    def changes(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for each field the entry recorded; before is None on creation."""
        before, after = self.before or {}, self.after or {}
        return [(name, before.get(name), after.get(name)) for name in after]


class ApiScope(models.TextChoices):
    FULL = "full", _("Full: read and write (purchases, redemptions, adjustments)")
    READ = "read", _("Read only")


class ApiKey(models.Model):
    """A key a shop's POS or online store uses to call the API. Shown once; stored as a hash.

    The key reads `lk_<prefix>_<secret>`: the prefix is stored in clear, so the owner can tell keys
    apart and a leaked key found in a log can be traced; the secret's 256 random bits make a plain
    SHA-256 enough (no password hashing needed to resist guessing).
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100, help_text=_("What uses it, e.g. “Till 1” or “Web shop”."))
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(_("scope"), max_length=10, choices=ApiScope.choices, default=ApiScope.FULL)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} (lk_{self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """An API POST's Idempotency-Key and the response it got: a replay gets the same response, the
    same key with another request body a conflict. Kept at least 24 hours (merchants.tasks purges)."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)  # method, path and body
    status_code = models.PositiveSmallIntegerField(null=True)  # None while the first request runs
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint("merchant", "key", name="idempotency_key_unique_per_merchant")]

    def __str__(self) -> str:
        return f"{self.key}: {self.status_code}"


class WebhookEvent(models.TextChoices):
    MEMBER_ENROLLED = "member.enrolled", _("A member joined")
    PURCHASE_RECORDED = "purchase.recorded", _("A purchase was recorded")
    REWARD_REDEEMED = "reward.redeemed", _("A reward was redeemed")
    TIER_CHANGED = "tier.changed", _("A member changed tier")
    POINTS_EXPIRED = "points.expired", _("Points expired")


class WebhookEndpoint(models.Model):
    """A URL of the shop's own system that is told when something happens, signed with its secret."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)  # WebhookEvent values
    secret = models.CharField(max_length=64)  # the receiver needs it to check signatures: kept, shown to the owner
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event for one endpoint: written with the change that caused it, sent after the commit,
    retried with backoff for up to a day; the log the owner reads and resends from."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+", db_index=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_recent"),
            models.Index(fields=["next_attempt_at"], name="delivery_due", condition=models.Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id}: {self.status}"


class QueuedTask(models.Model):
    """A Celery task to run after a commit, written in the same transaction as the change that asks for
    it (merchants.queue): if the broker cannot take it then (Redis down), the row stays and beat's
    minute job queues it again. Not a shop's data: a few rows at a time, deleted once queued."""

    name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.name}{tuple(self.args)}"


class AlertPattern(models.TextChoices):
    VOIDS = "voids", _("Many voids and refunds")
    EARN_BURST = "earn_burst", _("A burst of earning on one card")
    REFUNDS = "refunds", _("Refunds far above the other staff's")


class Alert(models.Model):
    """An unusual pattern the fraud check found (rewards.fraud), for the owner to look into.

    One per pattern, subject (a staff member or a member) and shop-local day: the hourly check
    finds the same pattern again without raising it twice. `details` holds the figures that
    `description` puts in words, in the reader's language.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="alerts")
    pattern = models.CharField(_("pattern"), max_length=20, choices=AlertPattern.choices)
    subject_type = models.CharField(max_length=10)  # "staff" (a user) or "member"
    subject_id = models.CharField(max_length=64)
    subject_repr = models.CharField(_("who"), max_length=200, blank=True)
    day = models.DateField(_("day"))
    details = models.JSONField(default=dict)
    created_at = models.DateTimeField(_("raised"), default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    objects = MerchantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-day", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                "merchant", "pattern", "subject_type", "subject_id", "day", name="alert_once_per_subject_day"
            )
        ]
        indexes = [
            models.Index(
                fields=["merchant", "-created_at"], name="alert_open", condition=models.Q(reviewed_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.pattern} {self.subject_repr} {self.day}"

    @property
    def description(self) -> str:
        """What was seen, in the active language."""
        d, who = self.details, self.subject_repr
        if self.pattern == AlertPattern.VOIDS:
            return ngettext(
                "%(who)s voided or refunded %(count)d time in one day (the limit is %(limit)d).",
                "%(who)s voided or refunded %(count)d times in one day (the limit is %(limit)d).",
                d.get("count", 0),
            ) % {"who": who, "count": d.get("count", 0), "limit": d.get("limit", 0)}
        if self.pattern == AlertPattern.EARN_BURST:
            return ngettext(
                "%(count)d purchase on card %(who)s within %(minutes)d minutes.",
                "%(count)d purchases on card %(who)s within %(minutes)d minutes.",
                d.get("count", 0),
            ) % {"who": who, "count": d.get("count", 0), "minutes": d.get("minutes", 0)}
        return ngettext(
            "%(who)s recorded %(count)d refund in %(days)d days; the other staff recorded %(median)s each (median).",
            "%(who)s recorded %(count)d refunds in %(days)d days; the other staff recorded %(median)s each (median).",
            d.get("count", 0),
        ) % {
            "who": who,
            "count": d.get("count", 0),
            "days": d.get("days", 0),
            "median": locales.number_text(d.get("median", 0)),
        }
