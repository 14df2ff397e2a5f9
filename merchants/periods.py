"""The dashboard's period and location filter: read once from the query string, shared by every card.

A period is a range of the shop's local dates (both ends included), the range of the same length
just before it for the comparison, and the step its charts group by (day, week or month).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django import forms
from django.http import Http404, QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Location, Merchant

PERIODS = {"7": 7, "30": 30, "90": 90, "365": 365}
MAX_DAYS = 3 * 366  # a custom range: at most about three years


class Step:
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Window:
    start: date
    end: date
    location: Location | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> "Window":
        """The same number of days just before this window."""
        end = self.start - timedelta(days=1)
        return Window(end - timedelta(days=self.days - 1), end, self.location)

    @property
    def step(self) -> str:
        if self.days <= 31:
            return Step.DAY
        return Step.WEEK if self.days <= 120 else Step.MONTH

    @property
    def location_id(self) -> int | None:
        return self.location.pk if self.location else None

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=offset) for offset in range(self.days)]


def day_start(merchant: Merchant, day: date) -> datetime:
    """The moment the shop's day begins, in its time zone."""
    return datetime.combine(day, time.min, tzinfo=merchant.tzinfo)


def days_range(merchant: Merchant, start: date, end: date) -> tuple[datetime, datetime]:
    """From the start of `start` to the start of the day after `end`, for created_at__gte / __lt."""
    return day_start(merchant, start), day_start(merchant, end + timedelta(days=1))


def step_start(day: date, step: str) -> date:
    """The first day of the week (Monday) or month `day` falls in."""
    if step == Step.WEEK:
        return day - timedelta(days=day.weekday())
    if step == Step.MONTH:
        return day.replace(day=1)
    return day


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"),
        choices=[
            ("7", _("Last 7 days")),
            ("30", _("Last 30 days")),
            ("90", _("Last 90 days")),
            ("365", _("Last 12 months")),
            ("custom", _("Custom")),
        ],
        initial="30",
        required=False,
    )
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    location = forms.ModelChoiceField(
        label=_("Location"), queryset=Location.objects.none(), required=False, empty_label=_("All locations")
    )

    def __init__(self, *args, merchant: Merchant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.merchant = merchant
        self.fields["location"].queryset = Location.objects.for_merchant(merchant)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError(_("Pick the first and the last day of the period."), code="range_missing")
            if start > end:
                raise forms.ValidationError(_("The period ends before it starts."), code="range_reversed")
            if (end - start).days >= MAX_DAYS:
                raise forms.ValidationError(_("Pick a period of at most three years."), code="range_too_long")
        return data


def window_from(query: QueryDict, merchant: Merchant) -> Window:
    """The window a card shows. A location id that is not this shop's is a 404, like any forged id;
    any other bad value falls back to the last 30 days (the form on the home page says what was wrong)."""
    raw = query.get("location") or ""
    location = Location.objects.for_merchant(merchant).filter(pk=raw).first() if raw.isdigit() else None
    if raw and location is None:
        raise Http404
    today = timezone.localdate(timezone=merchant.tzinfo)
    form = PeriodForm(query, merchant=merchant)
    if form.is_valid() and form.cleaned_data.get("period") == "custom":
        end = min(form.cleaned_data["end"], today)
        return Window(min(form.cleaned_data["start"], end), end, location)
    days = PERIODS.get(form.cleaned_data.get("period") if form.is_valid() else "", 30)
    return Window(today - timedelta(days=days - 1), today, location)


def window_query(window: Window) -> str:
    """The query string that selects `window` again (for the CSV links of a card)."""
    params = {"period": "custom", "start": window.start.isoformat(), "end": window.end.isoformat()}
    if window.location:
        params["location"] = window.location.pk
    return urlencode(params)


def step_heading(window: Window) -> str:
    """The first column's heading of a chart's table and CSV: what each row's date stands for."""
    return {Step.DAY: _("Day"), Step.WEEK: _("Week from"), Step.MONTH: _("Month")}[window.step]


def aligned(current: list, previous: list) -> list:
    """The previous period's values lined up under this period's steps (weeks and months may not
    match in number): the last ones kept, the missing first ones None."""
    values = [value for _day, value in previous][-len(current) :] if current else []
    return [None] * (len(current) - len(values)) + values


def change(current: float | int | None, previous: float | int | None) -> float | None:
    """The relative change from the previous period, or None where it means nothing (from zero)."""
    if current is None or not previous:
        return None
    return (current - previous) / previous


def buckets(window: Window, values: dict[date, int | float]) -> list[tuple[date, int | float]]:
    """Daily values summed per step (day, week or month) of `window`, each step once, empty ones as 0."""
    step = window.step
    totals: dict[date, int | float] = {}
    for day in window.dates():
        key = step_start(day, step)
        totals[key] = totals.get(key, 0) + values.get(day, 0)
    return list(totals.items())
