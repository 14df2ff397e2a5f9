"""A customer joins at the counter: enrolled, given the card in their hand, sent their card link.

Unlike the public sign-up page, the counter says who already has a phone number or email: the
cashier is staff, and opening that member beats enrolling the same person twice.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from merchants.actors import Actor
from merchants.models import Merchant
from merchants.queue import enqueue

from .models import Member, Source
from .phones import phone_normalize
from .services import card_link, member_enroll, member_find_duplicate
from .tasks import card_link_send_task


class AlreadyMember(ValidationError):
    """The phone or email belongs to a member: the counter offers to open them instead."""

    def __init__(self, member: Member, *, by_phone: bool) -> None:
        message = (
            _("%(member)s already has this phone number.") if by_phone else _("%(member)s already has this email.")
        )
        super().__init__(message % {"member": member}, code="duplicate")
        self.member = member


@transaction.atomic
def member_enroll_at_counter(
    *,
    merchant: Merchant,
    actor: Actor,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    email: str = "",
    birthday: date | None = None,
    referral_code: str = "",
    email_consent: bool = False,
    sms_consent: bool = False,
    card: str = "",
) -> Member:
    """Enrol, link the physical card if one is given, and send the private card link after commit.

    One transaction: a card that is blocked or taken, a bad referral code or a taken phone or email
    leaves nothing behind.
    """
    # Refusals name the field they are about, so the counter shows each next to what to fix.
    try:
        e164 = phone_normalize(phone, region=merchant.country)
    except ValidationError as error:
        raise ValidationError({"phone": error.error_list}) from error
    if existing := member_find_duplicate(merchant=merchant, phone=e164, email=email.strip()):
        raise AlreadyMember(existing, by_phone=bool(e164) and existing.phone == e164)
    code = referral_code.strip().upper()
    if code and not Member.objects.for_merchant(merchant).filter(referral_code=code).exists():
        raise ValidationError({"referral_code": _("No member has the referral code “%(code)s”.") % {"code": code}})
    member = member_enroll(
        merchant=merchant,
        actor=actor,
        first_name=first_name,
        last_name=last_name,
        phone=e164,
        email=email,
        birthday=birthday,
        referral_code=code,
        source=Source.COUNTER,
        email_consent=email_consent,
        sms_consent=sms_consent,
    )
    if card.strip():
        try:
            card_link(member=member, number=card, actor=actor)
        except ValidationError as error:
            raise ValidationError({"card": error.error_list}) from error
    enqueue(card_link_send_task, merchant.pk, member.pk)
    return member
