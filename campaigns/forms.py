"""The segment form: every rule a shop owner can pick an audience by, no code."""

import re
from datetime import date
from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from members.models import Tag
from merchants.models import Location, Merchant
from rewards.models import Reward, Tier

from .content import PLACEHOLDERS
from .models import Campaign, Channel, Offer, Segment, Trigger

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
TEXTS = ("subject", "body", "b_subject", "b_body")  # what can be written again in another language


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = [
            "name", "segment", "channel", "subject", "body",
            "offer", "bonus_points", "multiplier", "reward", "offer_days",
            "ab_test", "b_subject", "b_body", "b_offer", "b_bonus_points", "b_multiplier", "b_reward",
            "holdout_percent", "sample_size", "trigger", "trigger_days", "send_at", "repeat",
        ]  # fmt: skip
        widgets = {
            "body": forms.Textarea(attrs={"rows": 6}),
            "b_body": forms.Textarea(attrs={"rows": 4}),
            "send_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }
        help_texts = {
            "body": _(
                "Each member sees their own: {first_name}, {name}, {balance}, {tier}, {shop}; the offer's {bonus}, "
                "{multiplier}, {offer_until}, {reward}, {voucher_code}; {expiring_points} and {expiry_date}; "
                "{survey_link} for the feedback question; {changes} and {change_date} for a program change."
            ),
        }

    # The form's sections, in the order the page shows them: (title, fields, open when empty).
    SECTIONS = (
        (_("Message"), ("name", "segment", "channel", "subject", "body"), True),
        (_("Offer"), ("offer", "bonus_points", "multiplier", "reward", "offer_days"), True),
        (_("When"), ("trigger", "trigger_days", "send_at", "repeat"), True),
        (_("Audience and measuring"), ("holdout_percent", "sample_size"), True),
        (
            _("A/B test: a second version"),
            ("ab_test", "b_subject", "b_body", "b_offer", "b_bonus_points", "b_multiplier", "b_reward"),
            False,
        ),
    )

    def __init__(self, *args, merchant: Merchant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.merchant = merchant
        self.fields["segment"].queryset = Segment.objects.for_merchant(merchant)
        rewards = Reward.objects.for_merchant(merchant).filter(is_active=True)
        for name in ("reward", "b_reward"):
            self.fields[name].queryset = rewards
        self.fields["send_at"].input_formats = ["%Y-%m-%dT%H:%M"]
        for name in (
            "bonus_points", "trigger_days", "b_bonus_points", "offer_days", "multiplier", "b_multiplier", "b_offer",
        ):  # fmt: skip
            self.fields[name].required = False  # left empty: none, or the default
        # The same texts in the other languages we ship; the main text is in the shop's language.
        saved = self.instance.translations if self.instance.pk else {}
        self.languages = [(code, name) for code, name in settings.LANGUAGES if code != merchant.language]
        for code, language in self.languages:
            for text in TEXTS:
                model_field = Campaign._meta.get_field(text)
                self.fields[f"{text}_{code}"] = forms.CharField(
                    label=f"{capfirst(model_field.verbose_name)} · {language}",
                    required=False,
                    max_length=model_field.max_length,
                    widget=forms.Textarea(attrs={"rows": 3}) if "body" in text else forms.TextInput(),
                    initial=saved.get(code, {}).get(text, ""),
                )

    def sections(self) -> list[tuple[str, list, bool]]:
        """(title, bound fields, open) for the template: the fixed sections, then one per language."""
        shown = [(title, [self[name] for name in names], opened) for title, names, opened in self.SECTIONS]
        for code, language in self.languages:
            names = [f"{text}_{code}" for text in TEXTS]
            filled = any(self[name].value() for name in names)
            shown.append((_("In %(language)s") % {"language": language}, [self[name] for name in names], filled))
        return shown

    def translations(self) -> dict:
        """{language: {"subject": ..., "body": ...}} for the languages with a text."""
        data, texts = self.cleaned_data, {}
        for code, _language in self.languages:
            written = {text: data.get(f"{text}_{code}", "").strip() for text in TEXTS}
            if any(written.values()):
                texts[code] = {text: value for text, value in written.items() if value}
        return texts

    def _placeholders(self, name: str, text: str) -> None:
        unknown = sorted({found for found in PLACEHOLDER.findall(text or "") if found not in PLACEHOLDERS})
        if unknown:
            self.add_error(
                name,
                forms.ValidationError(
                    _("%(names)s is not something we can fill in. Use %(known)s.")
                    % {
                        "names": ", ".join(f"{{{found}}}" for found in unknown),
                        "known": ", ".join(f"{{{known}}}" for known in PLACEHOLDERS),
                    },
                    code="placeholder",
                ),
            )

    def clean_bonus_points(self) -> int:
        return self.cleaned_data.get("bonus_points") or 0

    def clean_b_bonus_points(self) -> int:
        return self.cleaned_data.get("b_bonus_points") or 0

    def clean_b_offer(self) -> str:
        return self.cleaned_data.get("b_offer") or "same"

    def clean_trigger_days(self) -> int:
        return self.cleaned_data.get("trigger_days") or 0

    def clean_offer_days(self) -> int:
        return self.cleaned_data.get("offer_days") or 7

    def clean_multiplier(self) -> Decimal:
        return self.cleaned_data.get("multiplier") or Decimal(2)

    def clean_b_multiplier(self) -> Decimal:
        return self.cleaned_data.get("b_multiplier") or Decimal(2)

    def _offer_complete(self, data: dict, prefix: str, offer: str) -> None:
        if offer == Offer.BONUS and not data.get(f"{prefix}bonus_points"):
            self.add_error(f"{prefix}bonus_points", _("Say how many bonus points the offer gives."))
        if offer == Offer.VOUCHER and not data.get(f"{prefix}reward"):
            self.add_error(f"{prefix}reward", _("Pick the reward the voucher is for."))

    def clean(self) -> dict:
        data = super().clean()
        channel, trigger = data.get("channel"), data.get("trigger")
        texts = {name: data.get(name) or "" for name in TEXTS}
        texts.update({name: value for name, value in data.items() if name.rsplit("_", 1)[0] in TEXTS and value})
        for name, text in texts.items():
            self._placeholders(name, text)
            if channel == Channel.SMS and "body" in name and len(text) > SMS_MAX:
                self.add_error(name, _("A text message can be at most %(n)s characters.") % {"n": SMS_MAX})
        if channel == Channel.EMAIL and not (data.get("subject") or "").strip():
            self.add_error("subject", _("An email needs a subject."))
        self._offer_complete(data, "", data.get("offer"))
        if data.get("ab_test"):
            if data.get("b_offer") != "same":
                self._offer_complete(data, "b_", data.get("b_offer"))
            elif not (data.get("b_body") or "").strip() and not (data.get("b_subject") or "").strip():
                self.add_error("b_body", _("Write a different message or pick a different offer for version B."))
        if trigger == Trigger.LAPSED and not data.get("trigger_days"):
            self.add_error("trigger_days", _("Say after how many days without a purchase a member counts as lapsed."))
        if trigger == Trigger.EXPIRING and not data.get("trigger_days"):
            self.add_error("trigger_days", _("Say how many days before their points expire members hear about it."))
        if trigger == Trigger.FEEDBACK and "{survey_link}" not in texts["body"]:
            self.add_error("body", _("A feedback request needs {survey_link}: it is where members answer."))
        if trigger == Trigger.RULES and "{changes}" not in texts["body"]:
            self.add_error("body", _("A program change message needs {changes}: it lists what changes."))
        if trigger and data.get("send_at"):
            self.add_error("send_at", _("A campaign that runs every day starts when you switch it on."))
        if trigger and data.get("repeat"):
            self.add_error("repeat", _("A triggered campaign already runs every day."))
        if trigger and data.get("sample_size"):
            self.add_error(
                "sample_size", _("A surprise goes to a sample of a segment once or on a repeat, not on a trigger.")
            )
        if (send_at := data.get("send_at")) and send_at < timezone.now():
            self.add_error("send_at", _("Pick a time in the future, or leave it empty to send when you press send."))
        return data
