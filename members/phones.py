"""Phone numbers as people type them, stored in E.164 (+60123456789)."""

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
