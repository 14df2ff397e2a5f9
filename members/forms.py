"""Forms for members. They validate what people type; members.services writes."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _


def new_key() -> str:
    return uuid.uuid4().hex


class KeyedForm(forms.Form):
    """A form that carries the idempotency key it was rendered with, so a resubmit is recognised."""

    key = forms.CharField(widget=forms.HiddenInput, max_length=100, initial=new_key)


class MemberForm(KeyedForm):
    first_name = forms.CharField(label=_("First name"), max_length=80, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=80, required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "inputmode": "tel"}),
    )
    email = forms.EmailField(label=_("Email"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    birthday = forms.DateField(
        label=_("Birthday"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    referral_code = forms.CharField(
        label=_("Referred by (their code)"),
        max_length=12,
        required=False,
        help_text=_("If another member brought them, their referral code."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["first_name"].widget.attrs.update(autofocus=True, autocomplete="off")
        self.fields["last_name"].widget.attrs.update(autocomplete="off")


class CardBatchForm(KeyedForm):
    count = forms.IntegerField(
        label=_("How many cards"),
        min_value=1,
        max_value=500,
        initial=10,
        help_text=_("Ten fit on an A4 sheet."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
