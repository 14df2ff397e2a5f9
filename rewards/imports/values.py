"""One raw cell of an uploaded customer file to a clean value, read the way the shop's country writes it.

`Cells(merchant)` is built once per import and called for every cell, so everything that needs Babel
(the locale's date order and decimal symbol, month names, language names) is worked out once; the
per-cell path is a regex or a dict lookup. Every method returns None ("" or [] for text) for a blank
cell and raises ValidationError with a message that names the bad value.

Error codes: date_invalid, date_impossible, date_too_old, date_future, number_invalid, not_whole,
negative, too_large, yes_no_invalid, email_invalid, phone_invalid (from members.phones),
language_unknown, tag_too_long, name_too_long.
"""

import datetime as dt
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.dates import get_date_format
from babel.numbers import format_decimal, get_decimal_symbol, list_currencies
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from members.phones import PhoneReader
from merchants.locales import currency_decimals
from merchants.models import Merchant

MAX_WHOLE = 10_000_000  # more points, stamps or visits than this is a misread column, not a customer
MAX_MONEY = Decimal(10) ** 12  # the money fields hold 14 digits, 2 of them decimals
NAME_LIMIT = 80  # Member.first_name / last_name
TAG_LIMIT = 50  # Tag.name
EMAIL_LIMIT = 254
SHORT_LIMIT = 64  # a date or number cell longer than this is not one (and stays cheap to refuse)
MEMO_LIMIT = 50_000  # parsed dates and amounts remembered per import
_UNSEEN = object()

# Zero-width characters and NUL that copy-pasted or exported cells carry invisibly.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\x00"))

_ISO = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})?)?"
)
# A time after the date ("15/03/2024 14:22", "3/15/2024 2:22 PM", "2024-03-15t14:22:05+07:00"), ignored.
_TIME_TAIL = re.compile(
    r"(?:[\s,]+|(?<=\d)t)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[ap]\.?\s?m\.?|น\.)?"
    r"\s*(?:z|utc|gmt|[+-]\d{2}:?\d{2})?$"
)
_SEP = r"(?:\s*[./-]\s*|\s+)"
_NUMERIC_DATE = re.compile(rf"(\d{{1,4}}){_SEP}(\d{{1,2}}){_SEP}(\d{{1,4}})\.?")
_ORDINAL = r"(?:st|nd|rd|th)?"
_ERA = r"(?:(?:พ\.ศ\.|ค\.ศ\.)\s*)?"  # Thai "15 มีนาคม พ.ศ. 2567"
_YEAR_WORD = r"(?:\s*(?:р\.|р|року|рік))?"  # the Ukrainian "year" word after a date

_WHOLE = re.compile(r"\+?(\d{1,3}(?:([,.' \u00a0\u202f\u2009])\d{3})(?:\2\d{3})*|\d+)(?:[.,]0+)?")
_NUMBERISH = re.compile(r"\+?[\d.,' \u00a0\u202f\u2009]*\d[\d.,' \u00a0\u202f\u2009]*")
_MONEY = re.compile(r"(\D*?)([.,]?\d(?:[\d.,']*\d)?)(\D*)")
_EXCEL_FLOAT = re.compile(r"\+?\d+\.0+")
_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?[eE]\+?\d{1,2}")
# A strict subset of what Django's EmailValidator accepts: dot-atom@labels.tld, ASCII only.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", re.ASCII
)
_TAG_SPLIT = re.compile(r"[,;|\r\n]+")

CURRENCY_WORDS = {
    "rm", "ringgit", "sen", "ft", "forint", "грн", "гривня", "гривні", "гривень", "гривна", "бат", "บาท",
    "baht", "dollar", "dollars", "euro", "euros", "us$", "s$", "a$", "c$", "hk$", "nz$", "nt$", "r$",
    "kr", "zł", "kč", "lei", "rp", "руб", "₽",
}  # fmt: skip

_YES = (
    "yes", "y", "true", "t", "1", "x", "✓", "✔", "✔️", "✅", "☑", "on", "subscribed", "opted in", "opt in",
    "accepted", "accept", "agreed", "agree", "allowed", "consented", "granted", "checked",
    "ya", "ye", "yer", "ใช่", "ได้", "так", "igen",
)  # fmt: skip
_NO = (
    "no", "n", "false", "f", "0", "off", "unsubscribed", "not subscribed", "non subscribed", "nonsubscribed",
    "never subscribed", "opted out", "opt out", "declined", "decline", "refused", "denied", "unchecked",
    "pending", "cleaned", "invalid", "redacted", "archived", "transactional", "✗", "✘", "×", "❌",
    "tidak", "tak", "ไม่", "ไม่ใช่", "ні", "nem",
)  # fmt: skip

# Malay and Malaysian Indian names carry a patronymic, not a family name: "Siti binti Ahmad".
_PATRONYMICS = {"bin", "binti", "bte", "a/l", "a/p", "s/o", "d/o"}
_NAME_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "phd", "md"}


def _visible(value: str) -> str:
    # str.translate is slow; ASCII text can only carry the NUL, so most cells skip it.
    if value.isascii() and "\x00" not in value:
        return value
    return value.translate(_INVISIBLE)


def _shown(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= 40 else value[:39] + "…"


def _unaccent(value: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))


@cache
def _locale(language: str, country: str) -> Locale:
    # The country's own language (und_UA -> uk_UA) comes before plain "en", which is the US order.
    for tag in (f"{language}_{country}", f"en_{country}", f"und_{country}"):
        try:
            return Locale.parse(tag)
        except (UnknownLocaleError, ValueError, TypeError):
            continue
    return Locale.parse("en")


@cache
def _date_order(locale: Locale) -> str:
    """'dmy', 'mdy' or 'ymd', from where d, M and y first appear in the short date pattern."""
    pattern = re.sub(r"'[^']*'", "", get_date_format("short", locale=locale).pattern)
    positions = {letter: pattern.find(letter) for letter in "dMy"}
    if min(positions.values()) < 0:
        return "dmy"
    order = "".join(sorted("dMy", key=positions.__getitem__)).lower()
    return order if order in {"dmy", "mdy", "ymd"} else "dmy"


@cache
def _months() -> dict[str, int]:
    """Month names, wide and abbreviated, format and stand-alone, in English and every shipped language."""
    names: dict[str, int] = {"sept": 9}
    for code in ["en", *(code for code, _name in settings.LANGUAGES)]:
        try:
            months = Locale.parse(code).months
        except (UnknownLocaleError, ValueError):
            continue
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in months[context][width].items():
                    key = name.lower().rstrip(".")
                    names[key] = number
                    if (plain := _unaccent(key)).isascii():
                        names.setdefault(plain, number)  # "marcius" typed without accents
                    if "." in key:
                        names.setdefault(key.replace(".", ""), number)  # Thai "มีค" for "มี.ค."
    return names


@cache
def _month_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    month = "(" + "|".join(re.escape(n) for n in sorted(_months(), key=len, reverse=True)) + r")\.?"
    day_first = re.compile(
        rf"(\d{{1,2}}){_ORDINAL}\.?(?:\s*[-/.,\s]\s*)?{month}(?:\s*[-/.,\s]\s*)?{_ERA}(\d{{4}}|\d{{2}}){_YEAR_WORD}\.?"
    )
    month_first = re.compile(
        rf"{month}\s*[-/.\s]?\s*(\d{{1,2}}){_ORDINAL}(?:\s*,\s*|\s*[-/.\s]\s*){_ERA}(\d{{4}}|\d{{2}})"
    )
    year_first = re.compile(rf"(\d{{4}})\.?\s*[-/.\s]?\s*{month}\s*[-/.\s]?\s*(\d{{1,2}})\.?")
    return day_first, month_first, year_first


@cache
def _yes_no() -> dict[str, bool]:
    return {**{_yes_no_key(w): False for w in _NO}, **{_yes_no_key(w): True for w in _YES}}


def _yes_no_key(value: str) -> str:
    return " ".join(value.casefold().replace("_", " ").replace("-", " ").split()).rstrip(".!")


@cache
def _languages() -> dict[str, str]:
    """Codes, English names, our own labels in every shipped language, and each language's own name."""
    codes = [code for code, _name in settings.LANGUAGES]
    table: dict[str, str] = {"bahasa melayu": "ms", "bahasa malaysia": "ms", "malaysian": "ms", "bm": "ms"}
    for code, label in settings.LANGUAGES:
        for shown_in in codes:
            with translation.override(shown_in):
                table.setdefault(str(label).casefold(), code)
        for shown_in in ["en", *codes]:
            try:
                name = Locale.parse(shown_in).languages.get(code)
            except (UnknownLocaleError, ValueError):
                continue
            if name:
                table.setdefault(name.casefold(), code)
    for name, code in list(table.items()):
        table.setdefault(_unaccent(name), code)  # "ukran", "malaj"
    table.update({code.casefold(): code for code in codes})
    return table


@cache
def _currency_words() -> frozenset[str]:
    return frozenset({*CURRENCY_WORDS, *(code.lower() for code in list_currencies())})


class Cells:
    """Parsers for one shop's cells; see the module docstring."""

    def __init__(self, merchant: Merchant) -> None:
        locale = _locale(merchant.language, merchant.country)
        self.country = merchant.country
        self.phones = PhoneReader(merchant.country)
        self.order = _date_order(locale)
        self.decimal = get_decimal_symbol(locale)
        self.quantum = Decimal(1).scaleb(-currency_decimals(merchant.currency))
        self.family_first = merchant.country == "HU"
        self.tz = merchant.tzinfo
        self.today = timezone.now().astimezone(self.tz).date()
        self.months = _months()
        self.month_patterns = _month_patterns()
        self.yes_no_words = _yes_no()
        self.language_names = _languages()
        self.language_codes = {code for code, _name in settings.LANGUAGES}
        self.currency_words = _currency_words()
        self.max_whole_shown = format_decimal(MAX_WHOLE, locale=locale)
        self._affixes: dict[str, bool] = {}
        self._dates: dict[str, dt.date | None] = {}
        self._amounts: dict[str, Decimal | None] = {}

    # Text

    def text(self, raw: str) -> str:
        value = " ".join(_visible(raw).split())
        # Exports (ours too) write '=1+2 so a spreadsheet does not run a formula; the apostrophe is not data.
        if len(value) > 1 and value[0] == "'" and value[1] in "=+-@":
            value = value[1:]
        return value

    def name(self, raw: str) -> str:
        value = self.text(raw)
        self._check_name(value)
        return value

    def full_name(self, raw: str) -> tuple[str, str]:
        value = self.text(raw)
        if not value:
            return "", ""
        first, last = self._split_name(value)
        self._check_name(first)
        self._check_name(last)
        return first, last

    def _split_name(self, value: str) -> tuple[str, str]:
        if value.count(",") == 1:  # "Smith, John" as address books export it
            before, after = (part.strip() for part in value.split(","))
            if before and after and after.lower() not in _NAME_SUFFIXES:
                return after, before
        words = value.split(" ")
        if len(words) == 1:
            return words[0], ""
        for i, word in enumerate(words[1:-1], start=1):
            if word.lower() in _PATRONYMICS:
                return " ".join(words[:i]), " ".join(words[i:])
        if self.family_first:  # Hungarian order: "Kovács Anna"
            return " ".join(words[1:]), words[0]
        return " ".join(words[:-1]), words[-1]

    def _check_name(self, value: str) -> None:
        if len(value) > NAME_LIMIT:
            raise ValidationError(
                _("“%(value)s” is too long for a name: the most is %(limit)s characters."),
                params={"value": _shown(value), "limit": NAME_LIMIT},
                code="name_too_long",
            )

    def tags(self, raw: str) -> list[str]:
        tags: list[str] = []
        seen: set[str] = set()
        for part in _TAG_SPLIT.split(raw):
            tag = self.text(part)
            if not tag:
                continue
            if len(tag) > TAG_LIMIT:
                raise ValidationError(
                    _("The tag “%(value)s” is too long: the most is %(limit)s characters."),
                    params={"value": _shown(tag), "limit": TAG_LIMIT},
                    code="tag_too_long",
                )
            if (key := tag.casefold()) not in seen:
                seen.add(key)
                tags.append(tag)
        return tags

    # Dates

    def date(self, raw: str, *, past_only: bool = True) -> dt.date | None:
        # A file repeats the same dates (joined, last visit) thousands of times: parse each once.
        result = self._dates.get(raw, _UNSEEN)
        if result is _UNSEEN:
            result = self._date(raw)
            if len(self._dates) < MEMO_LIMIT:
                self._dates[raw] = result
        if past_only and result is not None and result > self.today:
            self.today = timezone.now().astimezone(self.tz).date()  # an import may run past midnight
            if result > self.today:
                raise ValidationError(
                    _("“%(value)s” is in the future."), params={"value": _shown(raw)}, code="date_future"
                )
        return result

    def _date(self, raw: str) -> dt.date | None:
        value = raw.strip()
        if not value:
            return None
        if match := _ISO.fullmatch(value):
            y, m, d = int(match[1]), int(match[2]), int(match[3])
        else:
            y, m, d = self._date_parts(value)
        if y == m == d == 0:  # MySQL's "0000-00-00" and "00/00/0000" mean no date
            return None
        if y < 1900:
            raise ValidationError(
                _("“%(value)s” is before 1900."), params={"value": _shown(value)}, code="date_too_old"
            )
        try:
            return dt.date(y, m, d)
        except ValueError:
            raise ValidationError(
                _("“%(value)s” is not a real date."), params={"value": _shown(value)}, code="date_impossible"
            ) from None

    def _date_parts(self, value: str) -> tuple[int, int, int]:
        if len(value) > SHORT_LIMIT:
            raise self._unreadable_date(value)
        text = _visible(value).lower()
        if not text.isascii():
            text = unicodedata.normalize("NFC", text)
        text = " ".join(text.split())
        if not (match := _NUMERIC_DATE.fullmatch(text)):
            text = _TIME_TAIL.sub("", text)
            match = _NUMERIC_DATE.fullmatch(text)
        if match:
            a, b, c = match.groups()
            if len(a) == 4 or (self.order == "ymd" and len(c) != 4):
                ys, ms, ds = a, b, c
            elif self.order == "mdy":
                ms, ds, ys = a, b, c
            else:
                ds, ms, ys = a, b, c
            if len(ys) in (2, 4) and len(ds) <= 2:
                return self._year(ys), *self._month_day(int(ms), int(ds))
        day_first, month_first, year_first = self.month_patterns
        if match := day_first.fullmatch(text):
            ds, name, ys = match.groups()
        elif match := month_first.fullmatch(text):
            name, ds, ys = match.groups()
        elif match := year_first.fullmatch(text):
            ys, name, ds = match.groups()
        else:
            raise self._unreadable_date(value)
        return self._year(ys), self.months[name], int(ds)

    @staticmethod
    def _unreadable_date(value: str) -> ValidationError:
        return ValidationError(
            _("“%(value)s” is not a date we can read."), params={"value": _shown(value)}, code="date_invalid"
        )

    def _year(self, digits: str) -> int:
        year = int(digits)
        if len(digits) == 2:
            return year + (2000 if year <= self.today.year % 100 else 1900)
        return year - 543 if year >= 2400 else year  # Thai Buddhist era: 2567 is 2024

    @staticmethod
    def _month_day(month: int, day: int) -> tuple[int, int]:
        # "25/12/2023" in a US shop: there is no month 25, so the file is day-first.
        return (day, month) if month > 12 >= day else (month, day)

    # Numbers

    def whole(self, raw: str) -> int | None:
        value = raw.strip()
        if not value:
            return None
        if len(value) > SHORT_LIMIT:
            raise self._not_a_number(value)
        number = int(value) if value.isdecimal() else self._whole(value)
        if number > MAX_WHOLE:
            raise ValidationError(
                _("“%(value)s” is too large to be right: the most is %(limit)s."),
                params={"value": _shown(value), "limit": self.max_whole_shown},
                code="too_large",
            )
        return number

    def _whole(self, value: str) -> int:
        text = _visible(value).lstrip("'")
        negative = text[:1] in ("-", "\u2212")
        if negative:
            text = text[1:].lstrip()
        if match := _WHOLE.fullmatch(text):
            number = int(match[1].replace(match[2], "") if match[2] else match[1])
            if negative and number:
                raise self._negative(value)
            return number
        if _NUMBERISH.fullmatch(text):
            if negative:
                raise self._negative(value)
            raise ValidationError(
                _("“%(value)s” is not a whole number."), params={"value": _shown(value)}, code="not_whole"
            )
        raise self._not_a_number(value)

    @staticmethod
    def _not_a_number(value: str) -> ValidationError:
        return ValidationError(
            _("“%(value)s” is not a number."), params={"value": _shown(value)}, code="number_invalid"
        )

    @staticmethod
    def _negative(value: str) -> ValidationError:
        return ValidationError(_("“%(value)s” is below zero."), params={"value": _shown(value)}, code="negative")

    def money(self, raw: str) -> Decimal | None:
        amount = self._amounts.get(raw, _UNSEEN)
        if amount is _UNSEEN:
            amount = self._amount(raw)
            if len(self._amounts) < MEMO_LIMIT:
                self._amounts[raw] = amount
        return amount

    def _amount(self, raw: str) -> Decimal | None:
        value = raw.strip()
        if not value:
            return None
        if len(value) > SHORT_LIMIT:
            raise self._not_a_number(value)
        amount = Decimal(value) if value.isdecimal() else self._money(value)
        if amount >= MAX_MONEY:  # checked first: quantize() fails on more digits than the context holds
            raise ValidationError(
                _("“%(value)s” is too large to be right."), params={"value": _shown(value)}, code="too_large"
            )
        return amount.quantize(self.quantum, rounding=ROUND_HALF_UP)

    def _money(self, value: str) -> Decimal:
        match = _MONEY.fullmatch("".join(_visible(value).split()))
        if not match:
            raise self._not_a_number(value)
        prefix, digits, suffix = match.groups()
        if suffix[:2] in (",-", ".-"):  # "12,-" is twelve, not minus
            suffix = suffix[2:]
        if not (self._is_currency(prefix) and self._is_currency(suffix)):
            raise self._not_a_number(value)
        if "-" in prefix + suffix or "\u2212" in prefix + suffix or ("(" in prefix and ")" in suffix):
            raise self._negative(value)
        try:
            return Decimal(self._decimal_point(digits.replace("'", "")))
        except (ValueError, InvalidOperation):
            raise self._not_a_number(value) from None

    def _decimal_point(self, digits: str) -> str:
        """Digits with "." as the only separator, which ends up as the decimal point."""
        commas, dots = digits.count(","), digits.count(".")
        if commas and dots:
            point, thousands = (",", ".") if digits.rfind(",") > digits.rfind(".") else (".", ",")
            if digits.count(point) > 1:
                raise ValueError(digits)
            return digits.replace(thousands, "").replace(point, ".")
        if not (commas or dots):
            return digits
        separator = "," if commas else "."
        if commas + dots > 1:
            return digits.replace(separator, "")  # "1.234.567": only thousands repeat
        head, tail = digits.split(separator)
        if len(tail) == 3 and head and self.decimal != separator:
            return head + tail  # "1,234" in Malaysia, "1.234" in Hungary
        return f"{head or 0}.{tail}"

    def _is_currency(self, affix: str) -> bool:
        if not affix:
            return True
        if (known := self._affixes.get(affix)) is not None:
            return known
        word = affix.lower().strip("-\u2212+().'")
        known = (
            not word
            or word in self.currency_words
            or word.rstrip(".") in self.currency_words
            or all(unicodedata.category(c) == "Sc" for c in word)
        )
        if len(self._affixes) < 1000:
            self._affixes[affix] = known
        return known

    # Choices

    def yes_no(self, raw: str) -> bool | None:
        value = raw.strip()
        if not value:
            return None
        answer = self.yes_no_words.get(value.lower())
        if answer is not None:
            return answer
        key = _yes_no_key(_visible(value))
        if not key:
            return None  # a lone "-" is an empty cell
        answer = self.yes_no_words.get(key)
        if answer is None:
            raise ValidationError(
                _("“%(value)s” is not yes or no."), params={"value": _shown(value)}, code="yes_no_invalid"
            )
        return answer

    def language(self, raw: str) -> str:
        value = " ".join(_visible(raw).split())
        if not value:
            return ""
        key = value.casefold().replace("_", "-")
        code = self.language_names.get(key) or self.language_names.get(_unaccent(key))
        if code is None and (primary := key.split("-")[0]) in self.language_codes:
            code = primary  # "ms-MY", "th_TH"
        if code is None:
            raise ValidationError(
                _("“%(value)s” is not a language we offer."), params={"value": _shown(value)}, code="language_unknown"
            )
        return code

    # Contacts

    def email(self, raw: str) -> str:
        value = "".join(_visible(raw).split()).lower()
        if value.startswith("mailto:"):
            value = value[len("mailto:") :]
        if not value:
            return ""
        if len(value) <= EMAIL_LIMIT and _PLAIN_EMAIL.fullmatch(value):
            return value  # the everyday shape, which validate_email accepts too, at a tenth of the cost
        try:
            if len(value) > EMAIL_LIMIT:
                raise ValidationError("too long")
            validate_email(value)
        except ValidationError:
            raise ValidationError(
                _("“%(value)s” is not an email address."), params={"value": _shown(raw)}, code="email_invalid"
            ) from None
        return value

    def phone(self, raw: str) -> str:
        value = _visible(raw).strip().lstrip("'").strip()
        if _EXCEL_FLOAT.fullmatch(value):
            value = value.split(".")[0]  # 60123456789.0 from a number cell
        elif _SCIENTIFIC.fullmatch(value):
            number = Decimal(value)  # 6.0123456789E+10
            if number == number.to_integral_value():
                value = str(int(number))
        return self.phones.normalize(value)
