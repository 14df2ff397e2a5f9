"""A customer joins from the shop's public sign-up page.

The page must not tell anyone whether a phone number or email is already registered: when it is,
nothing is created and the member who owns it gets their card link again, so the person signing up
sees exactly what a new member sees. Rate limits and the honeypot are the view's job.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from merchants.actors import Actor, ActorKind
from merchants.models import Merchant
from merchants.queue import enqueue

from .models import Member, Source
from .services import member_enroll
from .tasks import card_link_send_task

SIGNUP_ACTOR = Actor(kind=ActorKind.MEMBER, label="sign-up page")


def _owners(merchant: Merchant, phone: str, email: str) -> list[Member]:
    """The members who already have this phone (E.164) or email: up to two different people."""
    members = Member.objects.for_merchant(merchant).filter(erased_at__isnull=True)
    found = [members.filter(phone=phone).first() if phone else None]
    found.append(members.filter(email__ci=email).first() if email else None)
    return list({m.pk: m for m in found if m is not None}.values())


def _send_links(merchant: Merchant, members: list[Member]) -> None:
    for member in members:
        enqueue(card_link_send_task, merchant.pk, member.pk)


@transaction.atomic
def member_signup(
    *,
    merchant: Merchant,
    first_name: str,
    phone: str,
    last_name: str = "",
    email: str = "",
    birthday: date | None = None,
    language: str = "",
    referral_code: str = "",
    email_consent: bool = False,
    sms_consent: bool = False,
) -> Member | None:
    """Enrol the customer and send their card link; None when the phone or email was taken.

    A taken phone or email creates nothing and changes nothing (the details typed here are not
    proof of who is asking): its owner just gets their own card link again.
    """
    try:
        member = member_enroll(
            merchant=merchant,
            actor=SIGNUP_ACTOR,
            source=Source.SIGNUP,
            first_name=first_name,
            last_name=last_name,
            phone=phone,
            email=email,
            birthday=birthday,
            language=language,
            referral_code=referral_code,
            email_consent=email_consent,
            sms_consent=sms_consent,
        )
    except ValidationError as error:
        # member_enroll refuses a phone or email another member has (also when a sign-up running at
        # the same moment took it first): the same answer as a new member's, and the owners' links.
        if getattr(error, "code", None) == "duplicate" and (owners := _owners(merchant, phone, email)):
            _send_links(merchant, owners)
            return None
        raise
    _send_links(merchant, [member])
    return member
