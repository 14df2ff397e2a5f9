"""Phone numbers as people type them, stored in E.164 (+60123456789)."""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def phone_normalize(raw: str, *, region: str) -> str:
    """E.164 for a number typed in local ("012-345 6789") or international form; '' for blank."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as error:
        raise ValidationError(
            _("“%(phone)s” is not a phone number."), params={"phone": raw}, code="phone_invalid"
        ) from error
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("“%(phone)s” is not a valid phone number for %(region)s or abroad."),
            params={"phone": raw, "region": region},
            code="phone_invalid",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str, *, region: str) -> str:
    """Local format for numbers of the shop's country, international for others."""
    if not e164:
        return ""
    number = phonenumbers.parse(e164, None)
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if phonenumbers.region_code_for_number(number) == region
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)


_PLAIN = re.compile(r"\+?[\d\s().\-/]{4,30}")
_NON_DIGITS = re.compile(r"\D")
# The kinds of number is_valid_number accepts; the ones customers give first, so most checks stop early.
_TYPES = (
    "mobile", "fixed_line", "toll_free", "premium_rate", "shared_cost", "voip", "personal_number", "pager", "uan",
    "voicemail",
)  # fmt: skip


class PhoneReader:
    """phone_normalize for many numbers of one country: the same answers, several times faster.

    phonenumbers spends most of a call on work that is the same for every number of a region. The
    everyday shapes (a local number with or without its trunk prefix, or +<the country's code>) are
    checked here against the region's own patterns; anything else takes the full parser.
    """

    def __init__(self, region: str) -> None:
        self.region = region
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        prefix = meta.national_prefix_for_parsing if meta else None
        self.fast = bool(meta) and not meta.national_prefix_transform_rule and (prefix is None or prefix.isdigit())
        if not self.fast:
            return
        self.code = str(meta.country_code)
        self.prefix = prefix or ""
        self.general = self._desc(meta.general_desc)
        self.kinds = [d for d in (self._desc(getattr(meta, name)) for name in _TYPES) if d is not None]

    @staticmethod
    def _desc(desc) -> tuple[re.Pattern, frozenset[int]] | None:
        if desc is None or not desc.national_number_pattern:
            return None
        return re.compile(desc.national_number_pattern), frozenset(desc.possible_length or ())

    @staticmethod
    def _matches(number: str, desc: tuple[re.Pattern, frozenset[int]] | None) -> bool:
        if desc is None:
            return False
        pattern, lengths = desc
        return (not lengths or len(number) in lengths) and pattern.fullmatch(number) is not None

    def normalize(self, raw: str) -> str:
        raw = (raw or "").strip()
        if self.fast and _PLAIN.fullmatch(raw):
            digits = _NON_DIGITS.sub("", raw)
            national = None
            if raw.startswith("+"):
                if digits.startswith(self.code):
                    national = digits[len(self.code) :]
            elif self.prefix and digits.startswith(self.prefix):
                stripped = digits[len(self.prefix) :]
                # As phonenumbers does: keep the prefix only when the number is viable with it and not without.
                keep = self._matches(digits, self.general) and not self._matches(stripped, self.general)
                national = digits if keep else stripped
            else:
                national = digits
            if (
                national
                and self._matches(national, self.general)
                and any(self._matches(national, k) for k in self.kinds)
            ):
                return f"+{self.code}{national}"
        return phone_normalize(raw, region=self.region)
