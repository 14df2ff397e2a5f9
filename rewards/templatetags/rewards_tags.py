"""Money in the shop's currency, points or stamps in words, days and times, and fresh idempotency keys for forms."""

import copy
import uuid
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal
from django import template
from django.conf import settings
from django.utils.translation import get_language, ngettext, to_locale

from merchants.locales import currency_decimals, date_text, moment_text, time_text
from merchants.models import Merchant

register = template.Library()


def _locale(country: str = "") -> Locale:
    """The page's language, with the shop's country when CLDR knows the pair (en_MY writes RM, not MYR)."""
    language = to_locale(get_language() or settings.LANGUAGE_CODE)
    for name in (f"{language.split('_')[0]}_{country}" if country else "", language, "en"):
        if not name:
            continue
        try:
            return Locale.parse(name)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale("en")


def money_format(amount: Decimal | int | str | None, currency: str, country: str = "") -> str:
    """An amount with the currency's symbol and the minor units shops really use (no fillér for HUF)."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    locale = _locale(country)
    places = currency_decimals(currency)
    pattern = copy.copy(locale.currency_formats["standard"])
    pattern.frac_prec = (places, places)
    return pattern.apply(value, locale, currency=currency, currency_digits=False)


@register.filter
def money(amount: Decimal | None, shop: Merchant | str) -> str:
    """{{ purchase.amount|money:merchant }} (or |money:"MYR"): RM12.50 in English, 1 234 Ft in Hungarian."""
    if isinstance(shop, str):
        return money_format(amount, shop)
    return money_format(amount, shop.currency, shop.country)


@register.filter
def number(value: int) -> str:
    """{{ job.rows_total|number }}: 12,345 (12 345 in Hungarian and Ukrainian)."""
    return format_decimal(value, locale=_locale())


@register.filter
def decimal(value: Decimal | None) -> str:
    """{{ tier.multiplier|decimal }}: 1.5 (1,5 in Hungarian), without the stored trailing zeros."""
    return "" if value is None else format_decimal(value, locale=_locale())


# expects_localtime: an aware datetime arrives in the active (the shop's) time zone, as with |date.
@register.filter(expects_localtime=True)
def day(value: date | datetime | None) -> str:
    """{{ voucher.expires_at|day }}: Mar 7, 2025 (7 Mac 2025, 2025. márc. 7.), or "" for none."""
    return date_text(value) if value else ""


@register.filter(expects_localtime=True)
def moment(value: datetime | None) -> str:
    """{{ entry.created_at|moment }}: Mar 7, 2025, 2:05 PM (2025. márc. 7. 14:05), or "" for none."""
    return moment_text(value) if value else ""


@register.filter(expects_localtime=True)
def clock(value: datetime | None) -> str:
    """{{ last.at|clock }}: 2:05 PM (14:05), or "" for none."""
    return time_text(value) if value else ""


@register.filter
def units(value: int, stamps: bool) -> str:
    """{{ 12|units:program.is_stamps }}: "12 points", or "12 stamps" on a stamp card: never both words."""
    n = int(value or 0)
    if stamps:
        return ngettext("%(n)s stamp", "%(n)s stamps", abs(n)) % {"n": number(n)}
    return ngettext("%(n)s point", "%(n)s points", abs(n)) % {"n": number(n)}


@register.filter
def signed_units(value: int, stamps: bool) -> str:
    """A history line's change: "+12 points", or a minus sign and "3 stamps"."""
    n = int(value or 0)
    text = units(abs(n), stamps)
    return f"+{text}" if n > 0 else f"\u2212{text}" if n < 0 else text


@register.simple_tag
def new_key() -> str:
    """An idempotency key for a form as it renders: a double click or a resubmit posts it twice, the ledger writes once."""
    return uuid.uuid4().hex
