"""The public sign-up form: what the counter asks, typed by the customer on their own phone."""

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.models import Merchant

from .forms import KeyedForm
from .models import Member
from .phones import phone_normalize

# A field people never see (hidden by CSS, skipped by keyboard and screen readers); bots fill it in.
HONEYPOT = "website"


class SignupForm(KeyedForm):
    first_name = forms.CharField(
        label=_("First name"), max_length=80, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=80,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=32,
        help_text=_("We send your card link here if you give no email."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        label=_("Email (optional)"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    birthday = forms.DateField(
        label=_("Birthday (optional)"),
        required=False,
        help_text=_("For a treat on your birthday."),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )
    email_consent = forms.BooleanField(label=_("Send me offers by email"), required=False)
    sms_consent = forms.BooleanField(label=_("Send me offers by SMS"), required=False)
    referral_code = forms.CharField(
        label=_("Friend's referral code (optional)"),
        max_length=12,
        required=False,
        help_text=_("If a member brought you, their code."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, merchant: Merchant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.merchant = merchant

    @property
    def is_bot(self) -> bool:
        """A person cannot see the honeypot field, so anything in it was typed by a script."""
        return bool(self.data.get(HONEYPOT, "").strip())

    def clean_phone(self) -> str:
        return phone_normalize(self.cleaned_data["phone"], region=self.merchant.country)

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_birthday(self) -> date | None:
        birthday = self.cleaned_data["birthday"]
        if birthday and not date(1900, 1, 1) <= birthday <= timezone.localdate():
            raise ValidationError(_("Enter your real date of birth."), code="birthday")
        return birthday

    def clean_referral_code(self) -> str:
        code = self.cleaned_data["referral_code"].strip().upper()
        members = Member.objects.for_merchant(self.merchant).filter(referral_code=code, erased_at__isnull=True)
        if code and not members.exists():
            raise ValidationError(
                _("No member has the referral code “%(code)s”. Check it, or leave it empty."),
                params={"code": code},
                code="referral_unknown",
            )
        return code

    def clean(self) -> dict:
        data = super().clean()
        if data.get("email_consent") and not data.get("email") and "email" not in self.errors:
            self.add_error("email", ValidationError(_("Give your email to get offers by email."), code="email_needed"))
        return data

    def signup_data(self) -> dict:
        """What members.signup.member_signup takes: every field but the form key and the honeypot."""
        return {name: value for name, value in self.cleaned_data.items() if name not in ("key", HONEYPOT)}
