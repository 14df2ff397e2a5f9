"""The shop's customers: identity, contact, consent basics, referral codes."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.models import Location, Merchant, MerchantScopedQuerySet

# Codes people read aloud or type: no 0/O, 1/I/L, 2/Z, 5/S, 8/B.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"


def random_code(length: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


class Source(models.TextChoices):
    COUNTER = "counter", _("Counter")
    SIGNUP = "signup", _("Sign-up page")
    IMPORT = "import", _("Import")
    API = "api", _("API")


class Member(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="members")
    first_name = models.CharField(_("first name"), max_length=80, blank=True)
    last_name = models.CharField(_("last name"), max_length=80, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, help_text=_("Stored in international format."))
    email = models.EmailField(_("email"), blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, blank=True)
    card_number = models.CharField(_("card number"), max_length=32)
    referral_code = models.CharField(_("referral code"), max_length=12)
    referred_by = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals")
    source = models.CharField(_("joined through"), max_length=10, choices=Source.choices, default=Source.COUNTER)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    location = models.ForeignKey(Location, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    notes = models.TextField(_("notes"), blank=True)
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)

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
        ]
        indexes = [
            models.Index(fields=["merchant", "last_name", "first_name"], name="member_name"),
        ]

    def __str__(self) -> str:
        return self.name or self.phone or self.email or self.card_number

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
