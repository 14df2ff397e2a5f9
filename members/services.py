"""Write use cases for members."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from merchants.actors import Actor
from merchants.models import Merchant

from .models import Member, Source, random_code
from .phones import phone_normalize
from .signals import member_enrolled


def _unique_code(merchant: Merchant, field: str, length: int) -> str:
    for _attempt in range(10):
        code = random_code(length)
        if not Member.objects.for_merchant(merchant).filter(**{field: code}).exists():
            return code
    raise RuntimeError("could not find a free code")  # 25^8 codes: only reachable if the generator broke


def member_find_duplicate(*, merchant: Merchant, phone: str = "", email: str = "") -> Member | None:
    """The member who already has this phone (E.164) or email, if any."""
    members = Member.objects.for_merchant(merchant)
    if phone and (found := members.filter(phone=phone).first()):
        return found
    if email and (found := members.filter(email__iexact=email).first()):
        return found
    return None


@transaction.atomic
def member_enroll(
    *,
    merchant: Merchant,
    actor: Actor,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    email: str = "",
    birthday: date | None = None,
    language: str = "",
    referral_code: str = "",
    source: str = Source.COUNTER,
    card_number: str = "",
) -> Member:
    """A new member of the shop's program; refuses a phone or email another member already has."""
    phone = phone_normalize(phone, region=merchant.country)
    email = email.strip().lower()
    if not (first_name or last_name or phone or email):
        raise ValidationError(_("Give at least a name, a phone number or an email."), code="empty")
    if existing := member_find_duplicate(merchant=merchant, phone=phone, email=email):
        raise ValidationError(
            _("%(member)s already has this phone number or email.") % {"member": existing}, code="duplicate"
        )
    referrer = None
    if referral_code:
        referrer = Member.objects.for_merchant(merchant).filter(referral_code=referral_code.strip().upper()).first()
        if referrer is None:
            raise ValidationError(_("No member has the referral code “%(code)s”.") % {"code": referral_code})
    member = Member(
        merchant=merchant,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        phone=phone,
        email=email,
        birthday=birthday,
        language=language,
        referred_by=referrer,
        source=source,
        enrolled_by=actor.user,
        location=actor.location,
        card_number=card_number or _unique_code(merchant, "card_number", 10),
        referral_code=_unique_code(merchant, "referral_code", 6),
    )
    member.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError as error:  # a concurrent enrolment took the phone or email first
        raise ValidationError(_("Another member already has this phone number or email."), code="duplicate") from error
    member_enrolled.send(sender=Member, member=member, actor=actor)
    return member
