"""Forms for the rewards pages. They parse what people type; services and the ledger decide and write."""

from decimal import Decimal

from django import forms
from django.core.validators import DecimalValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.forms import KeyedForm
from merchants.locales import currency_decimals
from merchants.models import Location, Merchant

from .models import Program, Reward, RewardKind, Tier
from .services import PROGRAM_FIELDS


def plain_decimal(value: Decimal | None) -> Decimal | None:
    """1.000 shows as 1 and 0.0100 as 0.01: stored places are not what people typed."""
    if value is None:
        return None
    return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()


def _check_places(value: Decimal | None, merchant: Merchant) -> Decimal | None:
    places = currency_decimals(merchant.currency)
    if value is not None and value != value.quantize(Decimal(1).scaleb(-places)):
        if places == 0:
            raise forms.ValidationError(
                _("%(currency)s amounts have no decimals."), params={"currency": merchant.currency}
            )
        raise forms.ValidationError(
            _("%(currency)s amounts have at most %(places)d decimals."),
            params={"currency": merchant.currency, "places": places},
        )
    return value


class ShopModelForm(forms.ModelForm):
    """A form for one of the shop's objects: decimals read in the page's language, money in the shop's units."""

    money_fields: tuple[str, ...] = ()

    def __init__(self, *args, merchant: Merchant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.merchant = merchant
        for name, form_field in self.fields.items():
            if isinstance(form_field, forms.DecimalField):
                form_field.localize = True
                form_field.widget = forms.TextInput(attrs={"inputmode": "decimal"})
                form_field.widget.is_localized = True
                if name in self.initial:
                    self.initial[name] = plain_decimal(self.initial[name])
            if isinstance(form_field, forms.IntegerField):
                form_field.widget.attrs.setdefault("inputmode", "numeric")
        for name in self.money_fields:
            # Our own check of the places says "MYR amounts have at most 2 decimals", by currency.
            field = self.fields[name]
            field.validators = [v for v in field.validators if not isinstance(v, DecimalValidator)]
            field.decimal_places = None
            self.fields[name].help_text = self.fields[name].help_text or _("In %(currency)s.") % {
                "currency": merchant.currency
            }

    def clean(self) -> dict:
        cleaned = super().clean()
        for name in self.money_fields:
            try:
                if (cleaned.get(name) or 0) < 0:
                    raise forms.ValidationError(_("Enter zero or more."))
                _check_places(cleaned.get(name), self.merchant)
            except forms.ValidationError as error:
                self.add_error(name, error)
        return cleaned

    def _post_clean(self) -> None:
        # The service validates the whole object (with its merchant) and says what is wrong in words.
        pass


class ProgramForm(ShopModelForm):
    money_fields = ("min_purchase", "max_purchase")

    class Meta:
        model = Program
        fields = PROGRAM_FIELDS  # what program_update accepts, in the order the page shows them
        labels = {"expiry_months": _("Months before points expire")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["points_per_unit"].label = _("Points per 1 %(currency)s spent") % {
            "currency": self.merchant.currency
        }
        current = self.instance.stamp_reward_id if self.instance else None
        rewards = Reward.objects.for_merchant(self.merchant).filter(Q(is_active=True) | Q(pk=current))
        self.fields["stamp_reward"].queryset = rewards
        self.fields["stamp_reward"].empty_label = _("None: staff redeem full cards by hand")
        self.fields["point_value"].help_text = _("In %(currency)s. %(help)s") % {
            "currency": self.merchant.currency,
            "help": Program._meta.get_field("point_value").help_text,
        }


class TierForm(ShopModelForm):
    money_fields = ("fee",)

    class Meta:
        model = Tier
        fields = ["name", "threshold", "multiplier", "is_paid", "fee", "paid_months", "perks"]
        widgets = {"perks": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, program: Program, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["threshold"].required = False
        if program.tier_basis == "spend":
            self.money_fields = ("fee", "threshold")
            self.fields["threshold"].label = _("Qualifies at this spend")
            self.fields["threshold"].help_text = _("In %(currency)s, over the last %(months)d months.") % {
                "currency": self.merchant.currency,
                "months": program.tier_window_months,
            }
        else:
            self.fields["threshold"].label = _("Qualifies at this many points earned")
            self.fields["threshold"].help_text = _("Over the last %(months)d months.") % {
                "months": program.tier_window_months
            }
        self.fields["fee"].required = False
        self.fields["paid_months"].required = False

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("is_paid"):
            cleaned["threshold"] = cleaned.get("threshold") or Decimal(0)
        elif cleaned.get("threshold") is None and "threshold" not in self.errors:
            self.add_error("threshold", _("Say what it takes to reach this tier."))
        cleaned["fee"] = cleaned.get("fee") or Decimal(0)
        cleaned["paid_months"] = cleaned.get("paid_months") or 12
        return cleaned


class RewardForm(ShopModelForm):
    class Meta:
        model = Reward
        fields = [
            "name",
            "kind",
            "points_cost",
            "value",
            "points_step",
            "min_tier",
            "stock",
            "valid_from",
            "valid_until",
            "description",
            "is_active",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, program: Program, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["min_tier"].queryset = Tier.objects.for_merchant(self.merchant)
        self.fields["min_tier"].empty_label = _("Any member")
        self.fields["value"].required = False
        self.fields["points_step"].required = False
        self.fields["value"].help_text = _("The amount off (in %(currency)s) or the percent off.") % {
            "currency": self.merchant.currency
        }
        if program.is_stamps:
            self.fields["points_cost"].label = _("Stamps needed")
            self.fields["points_cost"].help_text = ""
            self.fields["points_step"].widget = forms.HiddenInput()

    def clean(self) -> dict:
        cleaned = super().clean()
        cleaned["value"] = cleaned.get("value") or Decimal(0)
        cleaned["points_step"] = cleaned.get("points_step") or 1
        if cleaned.get("kind") == RewardKind.AMOUNT_OFF:
            try:
                _check_places(cleaned["value"], self.merchant)
            except forms.ValidationError as error:
                self.add_error("value", error)
        return cleaned


# ---------------------------------------------------------------------------------------------
# The member page's actions: each form carries its idempotency key (KeyedForm).


def _amount_field(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=14,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


class PurchaseForm(KeyedForm):
    amount = _amount_field(_("Amount"))
    receipt = forms.CharField(label=_("Receipt number"), max_length=64, required=False)
    location = forms.ModelChoiceField(label=_("Location"), queryset=Location.objects.none(), required=False)

    def __init__(self, *args, locations: list[Location], preview_url: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.filter(pk__in=[loc.pk for loc in locations])
        self.fields["location"].choices = [(loc.pk, loc.name) for loc in locations]
        if locations:
            self.fields["location"].initial = locations[0].pk
        if len(locations) < 2:
            self.fields["location"].widget = forms.HiddenInput()
        if preview_url:
            # HTMX: as the cashier types, the server says what the purchase would earn (nothing is written).
            self.fields["amount"].widget.attrs.update(
                {
                    "hx-get": preview_url,
                    "hx-trigger": "input changed delay:300ms",
                    "hx-target": "#purchase-preview",
                    "hx-swap": "outerHTML",
                    "hx-sync": "this:replace",
                    "aria-describedby": "purchase-preview",
                }
            )


class PreviewForm(forms.Form):
    amount = _amount_field(_("Amount"))


class AdjustForm(KeyedForm):
    points = forms.IntegerField(
        label=_("Points to add (or take away, with a minus sign)"),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args, stamps: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if stamps:
            self.fields["points"].label = _("Stamps to add (or take away, with a minus sign)")
        self.fields["reason"].help_text = _("Required. It goes into the history and the activity log.")


class RefundForm(KeyedForm):
    amount = _amount_field(_("Amount refunded"))
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class TierFeeForm(KeyedForm):
    tier = forms.ModelChoiceField(label=_("Membership"), queryset=Tier.objects.none())
    amount = _amount_field(_("Fee paid"))

    def __init__(self, *args, tiers: list[Tier], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tier"].queryset = Tier.objects.filter(pk__in=[t.pk for t in tiers])
        self.fields["tier"].choices = [(t.pk, t.name) for t in tiers]
        if tiers and not self.is_bound:
            self.fields["tier"].initial = tiers[0].pk
            self.fields["amount"].initial = plain_decimal(tiers[0].fee)


class RedeemForm(KeyedForm):
    points = forms.IntegerField(label=_("Points to use"), required=False, min_value=1)
