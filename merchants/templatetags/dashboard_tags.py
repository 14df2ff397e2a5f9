"""The dashboard's figures: a KPI with its change on the previous period, shares as percentages."""

from django import template
from django.utils.translation import gettext as _

from merchants.locales import number_text, percent_text

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    """{{ card.repeat_rate|percent }}: 42% (42 % in Hungarian), or a dash when there is nothing to divide."""
    return percent_text(value)


@register.filter
def count(value: float | None) -> str:
    """{{ card.new|count }}: 12,345 as the page's language writes it; an estimate rounds to a whole count."""
    return number_text(round(value or 0))


@register.inclusion_tag("components/_change.html")
def change_badge(value: float | None, lower_is_better: bool = False) -> dict:
    """▲ 12% or ▼ 3% against the previous period, coloured by whether the move is good news."""
    if value is None:
        return {"text": _("no comparison"), "direction": "none", "good": None}
    direction = "up" if value > 0 else "down" if value < 0 else "flat"
    good = None if direction == "flat" else (direction == "up") != lower_is_better
    return {"text": percent_text(abs(value)), "direction": direction, "good": good}


@register.filter
def tenths(value: float | None) -> str:
    """{{ card.visits_per_member|tenths }}: 2.4 (2,4 in Hungarian), or a dash."""
    return "\u2013" if value is None else number_text(round(value, 1))
