"""Forms for sign-up, shop details, locations and staff. They validate; services write."""

from django import forms
from django.apps import apps
from django.contrib.auth.forms import AuthenticationForm, SetPasswordMixin
from django.utils.translation import gettext_lazy as _

from . import locales
from .models import AUDIT_ACTIONS, DEFAULT_PRIVACY_TEXT, Location, Merchant, Role, User


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("That email and password do not match an account. Check both and try again."),
    }


class NewPasswordForm(SetPasswordMixin, forms.Form):
    """A name and a password typed twice, checked by the password validators against that person."""

    name = forms.CharField(label=_("Your name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    password1, password2 = SetPasswordMixin.create_password_fields()

    def email_for_check(self) -> str:
        raise NotImplementedError

    def clean(self) -> dict:
        cleaned = super().clean()
        self.validate_passwords()
        self.validate_password_for_user(User(email=self.email_for_check(), name=cleaned.get("name", "")))
        return cleaned


class SignupForm(NewPasswordForm):
    """A new owner's account."""

    email = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    field_order = ["name", "email", "password1", "password2"]

    def email_for_check(self) -> str:
        return self.cleaned_data.get("email", "")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("An account with this email already exists. Sign in, or reset your password if you forgot it."),
                code="email_taken",
            )
        return email


class MerchantForm(forms.ModelForm):
    """Shop details; the choices are named in the page's language and checked against real codes."""

    country = forms.ChoiceField(label=_("Country"))
    currency = forms.ChoiceField(label=_("Currency"))
    timezone = forms.ChoiceField(label=_("Time zone"))

    class Meta:
        model = Merchant
        fields = ["name", "country", "currency", "timezone", "language"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "—"), *locales.country_choices()]
        self.fields["currency"].choices = [("", "—"), *locales.currency_choices()]
        self.fields["timezone"].choices = [("", "—"), *locales.timezone_choices()]
        self.fields["country"].error_messages["invalid_choice"] = _("Choose a country from the list.")
        self.fields["currency"].error_messages["invalid_choice"] = _(
            "“%(value)s” is not a currency we know. Choose one from the list."
        )
        self.fields["timezone"].error_messages["invalid_choice"] = _(
            "“%(value)s” is not a time zone we know. Choose one from the list."
        )
        self.fields["name"].widget.attrs.update(autofocus=True)


class MerchantSettingsForm(MerchantForm):
    """The shop's details as its owner changes them later, with the privacy settings."""

    YEARS = _("Give a number of years from 1 to 50, or leave it empty to keep members until they ask.")
    erase_inactive_years = forms.IntegerField(
        label=Merchant._meta.get_field("erase_inactive_years").verbose_name,
        help_text=Merchant._meta.get_field("erase_inactive_years").help_text,
        required=False,
        min_value=1,
        max_value=50,
        error_messages={"min_value": YEARS, "max_value": YEARS, "invalid": YEARS},
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    class Meta(MerchantForm.Meta):
        fields = [*MerchantForm.Meta.fields, "privacy_text", "erase_inactive_years"]
        widgets = {"privacy_text": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        default = DEFAULT_PRIVACY_TEXT % {"shop": self.instance.name or _("The shop")}
        self.fields["privacy_text"].widget.attrs["placeholder"] = default


class LocationForm(forms.ModelForm):
    class Meta:
        model = Location
        fields = ["name", "address", "phone", "is_active"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}

    def validate_unique(self) -> None:
        # The model's constraint is case-insensitive on name; say so in words, not as an IntegrityError.
        super().validate_unique()
        name = self.cleaned_data.get("name")
        if name:
            clash = Location.objects.for_merchant(self.instance.merchant).filter(name__iexact=name)
            if clash.exclude(pk=self.instance.pk).exists():
                self.add_error("name", _("This shop already has a location with that name."))


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    name = forms.CharField(label=_("Name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, roles: list[Role], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.value, r.label) for r in roles]
        self.fields["role"].initial = Role.CASHIER


class StaffForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))
    is_active = forms.BooleanField(label=_("Can sign in to this shop"), required=False)

    def __init__(self, *args, roles: list[Role], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.value, r.label) for r in roles]


class AcceptInvitationForm(NewPasswordForm):
    """A new staff member names themselves and sets a password."""

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def email_for_check(self) -> str:
        return self.email


class AuditFilterForm(forms.Form):
    """The activity log's filters. Each is optional; a value that is not this shop's (another shop's
    staff member, an unknown action) is refused with a message and the filter left out."""

    actor = forms.ModelChoiceField(
        label=_("Who"), queryset=User.objects.none(), required=False, empty_label=_("Anyone")
    )
    action = forms.ChoiceField(label=_("What"), required=False)
    object_type = forms.ChoiceField(label=_("Kind of object"), required=False)
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(
        label=_("Object"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name or id")}),
    )

    def __init__(self, *args, merchant: Merchant, object_types: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["actor"].queryset = (
            User.objects.filter(staff__merchant=merchant).distinct().order_by("name", "email")
        )
        actions = sorted(AUDIT_ACTIONS.items(), key=lambda item: str(item[1]))
        self.fields["action"].choices = [("", _("Anything")), *actions]
        types = [(label, _object_type_name(label)) for label in object_types]
        self.fields["object_type"].choices = [("", _("Any kind")), *sorted(types, key=lambda item: str(item[1]))]

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", _("The last day comes before the first."))
        return cleaned

    def filters(self) -> dict:
        """The valid filters, without the refused ones."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


def _object_type_name(label: str) -> str:
    """“members.member” as people read it: “member”, in their language."""
    try:
        return str(apps.get_model(label)._meta.verbose_name)
    except (LookupError, ValueError):
        return label
