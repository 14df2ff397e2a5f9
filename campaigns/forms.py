"""The segment form: every rule a shop owner can pick an audience by, no code."""

import re
from datetime import date
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Tag
from merchants.models import Location, Merchant
from rewards.models import Tier

from .models import Campaign, Channel, Segment, Trigger
from .sending import PLACEHOLDERS

SMS_MAX = 459  # three joined text messages

CONSENT = [("", _("Either")), ("yes", _("Agreed")), ("no", _("Not agreed"))]
MONTHS = [
    ("", _("Any month")),
    *[(str(n), name) for n, name in enumerate(
        [_("January"), _("February"), _("March"), _("April"), _("May"), _("June"), _("July"), _("August"),
         _("September"), _("October"), _("November"), _("December")], start=1)],
]  # fmt: skip
NUMBERS = (
    "balance_min",
    "balance_max",
    "bought_within_days",
    "not_bought_days",
    "joined_within_days",
    "visits_min",
    "visits_max",
)


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    tiers = forms.ModelMultipleChoiceField(
        label=_("Tier"), queryset=Tier.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    balance_min = forms.IntegerField(label=_("Points balance from"), min_value=0, required=False)
    balance_max = forms.IntegerField(label=_("Points balance up to"), min_value=0, required=False)
    bought_within_days = forms.IntegerField(
        label=_("Last purchase less than … days ago"), min_value=1, max_value=3650, required=False
    )
    not_bought_days = forms.IntegerField(
        label=_("No purchase in the last … days"), min_value=1, max_value=3650, required=False
    )
    visits_min = forms.IntegerField(label=_("Visits from"), min_value=0, required=False)
    visits_max = forms.IntegerField(label=_("Visits up to"), min_value=0, required=False)
    spend_min = forms.DecimalField(
        label=_("Total spend from"), min_value=0, max_digits=14, decimal_places=2, required=False
    )
    spend_max = forms.DecimalField(
        label=_("Total spend up to"), min_value=0, max_digits=14, decimal_places=2, required=False
    )
    joined_within_days = forms.IntegerField(
        label=_("Joined in the last … days"), min_value=1, max_value=3650, required=False
    )
    joined_from = forms.DateField(
        label=_("Joined from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    joined_to = forms.DateField(label=_("Joined up to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    birthday_month = forms.ChoiceField(label=_("Birthday in"), choices=MONTHS, required=False)
    locations = forms.ModelMultipleChoiceField(
        label=_("Joined at"), queryset=Location.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    email_consent = forms.ChoiceField(label=_("Email offers"), choices=CONSENT, required=False)
    sms_consent = forms.ChoiceField(label=_("SMS offers"), choices=CONSENT, required=False)
    tags = forms.ModelMultipleChoiceField(
        label=_("Any of these tags"), queryset=Tag.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, data=None, *, merchant: Merchant, segment: Segment | None = None, **kwargs) -> None:
        if segment is not None and data is None:
            kwargs.setdefault("initial", {"name": segment.name, **segment.rules})  # the saved choices
        super().__init__(data, **kwargs)
        self.merchant, self.segment = merchant, segment
        self.fields["tiers"].queryset = Tier.objects.for_merchant(merchant)
        self.fields["locations"].queryset = Location.objects.for_merchant(merchant)
        self.fields["tags"].queryset = Tag.objects.for_merchant(merchant).order_by("name")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = Segment.objects.for_merchant(self.merchant).filter(name__iexact=name)
        if self.segment is not None:
            others = others.exclude(pk=self.segment.pk)
        if others.exists():
            raise forms.ValidationError(_("You already have a segment with this name."), code="name_taken")
        return name

    def clean(self) -> dict:
        data = super().clean()
        for low, high, message in (
            ("balance_min", "balance_max", _("The highest balance is below the lowest.")),
            ("visits_min", "visits_max", _("The most visits is below the fewest.")),
            ("spend_min", "spend_max", _("The highest spend is below the lowest.")),
            ("joined_from", "joined_to", _("The join dates end before they start.")),
        ):
            if data.get(low) is not None and data.get(high) is not None and data[high] < data[low]:
                self.add_error(high, message)
        within, without = data.get("bought_within_days"), data.get("not_bought_days")
        if within and without and without >= within:
            self.add_error(
                "not_bought_days",
                _("No member can have bought in the last %(a)s days and not in the last %(b)s.")
                % {"a": within, "b": without},
            )
        return data

    def rules(self) -> dict:
        """The chosen rules as plain JSON values; empty choices are left out."""
        data, rules = self.cleaned_data, {}
        for name in NUMBERS:
            if data.get(name) is not None:
                rules[name] = data[name]
        for name in ("spend_min", "spend_max"):
            if isinstance(data.get(name), Decimal):
                rules[name] = str(data[name])
        for name in ("joined_from", "joined_to"):
            if isinstance(data.get(name), date):
                rules[name] = data[name].isoformat()
        for name in ("birthday_month", "email_consent", "sms_consent"):
            if data.get(name):
                rules[name] = data[name]
        for name in ("tiers", "locations", "tags"):
            if data.get(name):
                rules[name] = sorted(obj.pk for obj in data[name])
        return rules


PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = [
            "name", "segment", "channel", "subject", "body", "bonus_points", "holdout_percent",
            "trigger", "trigger_days", "send_at",
        ]  # fmt: skip
        widgets = {
            "body": forms.Textarea(attrs={"rows": 6}),
            "send_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }
        help_texts = {
            "body": _("Use {first_name}, {name}, {balance}, {tier}, {bonus} or {shop}: each member sees their own."),
        }

    def __init__(self, *args, merchant: Merchant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.merchant = merchant
        self.fields["segment"].queryset = Segment.objects.for_merchant(merchant)
        self.fields["send_at"].input_formats = ["%Y-%m-%dT%H:%M"]
        for name in ("bonus_points", "trigger_days"):  # left empty: none
            self.fields[name].required = False

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        unknown = sorted({name for name in PLACEHOLDER.findall(body) if name not in PLACEHOLDERS})
        if unknown:
            raise forms.ValidationError(
                _("%(names)s is not something we can fill in. Use %(known)s.")
                % {
                    "names": ", ".join(f"{{{name}}}" for name in unknown),
                    "known": ", ".join(f"{{{n}}}" for n in PLACEHOLDERS),
                },
                code="placeholder",
            )
        return body

    def clean_bonus_points(self) -> int:
        return self.cleaned_data.get("bonus_points") or 0

    def clean_trigger_days(self) -> int:
        return self.cleaned_data.get("trigger_days") or 0

    def clean(self) -> dict:
        data = super().clean()
        if data.get("channel") == Channel.EMAIL and not (data.get("subject") or "").strip():
            self.add_error("subject", _("An email needs a subject."))
        if data.get("channel") == Channel.SMS and len(data.get("body") or "") > SMS_MAX:
            self.add_error("body", _("A text message can be at most %(n)s characters.") % {"n": SMS_MAX})
        if data.get("trigger") == Trigger.LAPSED and not data.get("trigger_days"):
            self.add_error("trigger_days", _("Say after how many days without a purchase a member counts as lapsed."))
        if data.get("trigger") and data.get("send_at"):
            self.add_error("send_at", _("A campaign that runs every day starts when you switch it on."))
        if (send_at := data.get("send_at")) and send_at < timezone.now():
            self.add_error("send_at", _("Pick a time in the future, or leave it empty to send when you press send."))
        return data
