"""Forms a member fills in on their own pages: sign in with a code, their details and consents."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import Member
from .phones import phone_display


class LoginForm(forms.Form):
    address = forms.CharField(
        label=_("Your phone number or email"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True, "spellcheck": "false"}),
        help_text=_("The one you gave the shop when you joined."),
    )


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("The 6-digit code"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("The code has 6 digits.")},
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "autofocus": True,
                "maxlength": 6,
                "pattern": "[0-9]*",
                "class": "code-input",
            }
        ),
    )


class DetailsForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=80, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=80, required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(label=_("Email"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    birthday = forms.DateField(
        label=_("Birthday"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("As my phone is set")), *settings.LANGUAGES]
    )
    email_consent = forms.BooleanField(label=_("Send me offers by email"), required=False)
    sms_consent = forms.BooleanField(label=_("Send me offers by SMS"), required=False)

    @classmethod
    def for_member(cls, member: Member, data: object = None) -> "DetailsForm":
        initial = {name: getattr(member, name) for name in cls.base_fields}
        initial["phone"] = phone_display(member.phone, region=member.merchant.country)  # as people write it
        return cls(data, initial=initial)
