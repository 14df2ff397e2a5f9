"""Countries, currencies, time zones and languages a shop can choose, named in the user's language.

Babel's CLDR data does the naming, so the lists follow the language of the page.
"""

import zoneinfo
from datetime import date, datetime
from decimal import Decimal
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import format_date, format_skeleton, format_time, get_datetime_format
from babel.numbers import (
    format_decimal,
    format_percent,
    get_currency_name,
    get_currency_precision,
    get_territory_currencies,
)
from django.conf import settings
from django.utils.translation import get_language, to_locale

# CLDR lists several zones for some countries; suggest the one most shops there use.
PREFERRED_ZONES = {
    "MY": "Asia/Kuala_Lumpur",
    "US": "America/New_York",
    "UA": "Europe/Kyiv",
    "AU": "Australia/Sydney",
    "CA": "America/Toronto",
    "BR": "America/Sao_Paulo",
    "ID": "Asia/Jakarta",
    "MX": "America/Mexico_City",
    "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon",
    "DE": "Europe/Berlin",
    "CN": "Asia/Shanghai",
    "RU": "Europe/Moscow",
    "NZ": "Pacific/Auckland",
    "AR": "America/Argentina/Buenos_Aires",
    "CL": "America/Santiago",
    "KZ": "Asia/Almaty",
}
NOT_COUNTRIES = {"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB"}


def _locale() -> Locale:
    try:
        return Locale.parse(to_locale(get_language() or settings.LANGUAGE_CODE))
    except (UnknownLocaleError, ValueError):
        return Locale("en")


@cache
def country_codes() -> frozenset[str]:
    return frozenset(
        code for code in Locale("en").territories if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    )


@cache
def currency_codes() -> frozenset[str]:
    """Currencies in use today somewhere (not historic ones like DEM)."""
    return frozenset(c for country in country_codes() for c in get_territory_currencies(country))


@cache
def timezone_names() -> tuple[str, ...]:
    return tuple(
        sorted(z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    )


def country_choices() -> list[tuple[str, str]]:
    names = _locale().territories
    return sorted(((code, names.get(code, code)) for code in country_codes()), key=lambda c: c[1])


def currency_choices() -> list[tuple[str, str]]:
    locale = _locale()
    return sorted(
        ((code, f"{code} · {get_currency_name(code, locale=locale)}") for code in currency_codes()), key=lambda c: c[0]
    )


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in timezone_names()]


def country_defaults(country: str) -> dict[str, str]:
    """What a shop in `country` most likely uses: its currency, time zone and (shipped) language."""
    currencies = get_territory_currencies(country) if country in country_codes() else []
    zones = get_global("territory_zones").get(country, [])
    shipped = {code for code, _name in settings.LANGUAGES}
    spoken = get_global("territory_languages").get(country, {})
    official = [lang for lang, info in spoken.items() if info.get("official_status") and lang in shipped]
    return {
        "currency": currencies[0] if currencies else "",
        "timezone": PREFERRED_ZONES.get(country, zones[0] if zones else ""),
        "language": official[0] if official else settings.LANGUAGE_CODE,
    }


# ISO 4217 gives HUF and some others two decimals, but nobody pays in fillér: cash and card
# terminals use whole units. These are the minor units shops really use.
PRACTICAL_DECIMALS = {"HUF": 0, "JPY": 0, "KRW": 0, "VND": 0, "IDR": 0, "CLP": 0, "ISK": 0, "TWD": 0, "UGX": 0}


def currency_decimals(code: str) -> int:
    return PRACTICAL_DECIMALS.get(code, get_currency_precision(code))


def number_text(value: int | float | Decimal) -> str:
    """12,345 in English, 12 345 in Hungarian and Ukrainian: the page's language, through CLDR."""
    return format_decimal(value, locale=_locale())


def percent_text(value: float | None) -> str:
    """A share as the page's language writes it (42%, 42 %), or a dash where there is none."""
    return "\u2013" if value is None else format_percent(value, locale=_locale())


def step_text(day: date, step: str) -> str:
    """A chart's label for a day, a week (its Monday) or a month, as the page's language writes it."""
    locale = _locale()
    if step == "month":
        return format_skeleton("yMMM", day, locale=locale)
    return format_skeleton("MMMd", day, locale=locale)


def date_text(day: date) -> str:
    return format_date(day, format="medium", locale=_locale())


def time_text(moment: datetime) -> str:
    """14:05, or 2:05 PM in English: the page's language, without seconds."""
    return format_time(moment, format="short", locale=_locale())


def moment_text(moment: datetime) -> str:
    """A day and its time, joined as the page's language joins them (Mar 7, 2025, 2:05 PM)."""
    locale = _locale()
    joined = str(get_datetime_format("medium", locale=locale))
    return joined.replace("{1}", date_text(moment)).replace("{0}", time_text(moment))
