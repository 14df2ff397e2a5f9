"""Passwordless sign-in to the member's card: a 6-digit code sent to their email or phone.

Codes are stored hashed (keyed with SECRET_KEY), live 10 minutes and allow 5 tries. Nothing a
visitor sees depends on whether the phone or email belongs to a member: asking for a code does
the same work either way (the lookup and the sending happen in a task), and the tries on an
address are counted per address in the cache whether or not a member has it, so an unknown
address runs out of tries exactly as a known one does.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from merchants.models import Merchant

from .models import LoginCode, Member
from .phones import phone_normalize
from .sms import sms_send

CODE_MINUTES = 10
CODE_TRIES = 5


@dataclass(frozen=True)
class Address:
    """What the member typed, cleaned: an email (lowercase) or a phone (E.164)."""

    kind: str  # "email" or "phone"
    value: str

    def key(self, merchant_id: int) -> str:
        """A cache key that does not spell out the address."""
        digest = hashlib.sha256(f"{merchant_id}:{self.kind}:{self.value}".encode()).hexdigest()
        return f"members:login:{digest}"


def address_parse(raw: str, *, merchant: Merchant) -> Address:
    """An email if it has an @, else a phone number in the shop's country; a clear error otherwise."""
    raw = (raw or "").strip()
    if "@" in raw:
        try:
            validate_email(raw)
        except ValidationError as error:
            raise ValidationError(_("“%(email)s” is not an email address.") % {"email": raw}, code="email") from error
        return Address("email", raw.lower())
    if not raw:
        raise ValidationError(_("Type your phone number or email."), code="empty")
    return Address("phone", phone_normalize(raw, region=merchant.country))


def _member_for(merchant: Merchant, address: Address) -> Member | None:
    members = Member.objects.for_merchant(merchant).filter(erased_at__isnull=True).select_related("merchant")
    if address.kind == "email":
        return members.filter(email__ci=address.value).first()
    return members.filter(phone=address.value).first()


def _hash(member_id: int, code: str) -> str:
    return salted_hmac("members.login-code", f"{member_id}:{code}", algorithm="sha256").hexdigest()


def login_code_requested(*, merchant: Merchant, address: Address) -> None:
    """The visitor asked for a code: open a window of CODE_TRIES tries on this address.

    Runs in the request for every address; login_code_send (in a task) then finds the member, if any.
    """
    cache.set(address.key(merchant.pk), 0, CODE_MINUTES * 60)


def login_code_send(*, merchant: Merchant, address: Address) -> str:
    """Send a fresh code to the member with this address; returns the channel, "" when there is none."""
    member = _member_for(merchant, address)
    if member is None:
        return ""
    code = _code_create(member)  # committed before it is sent: the member may type it at once
    with translation.override(member.language or merchant.language):
        context = {"member": member, "merchant": merchant, "code": code, "minutes": CODE_MINUTES}
        if address.kind == "email":
            subject = _("%(code)s is your %(shop)s code") % {"code": code, "shop": merchant.name}
            send_mail(subject, render_to_string("members/email/login_code.txt", context), None, [member.email])
            return "email"
        sms_send(to=member.phone, body=render_to_string("members/sms/login_code.txt", context).strip())
        return "sms"


@transaction.atomic
def _code_create(member: Member) -> str:
    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    # A new code replaces the ones before it: only the latest message's code works.
    LoginCode.objects.for_merchant(member.merchant_id).filter(member=member, used_at__isnull=True).update(used_at=now)
    LoginCode.objects.create(
        merchant_id=member.merchant_id,
        member=member,
        code_hash=_hash(member.pk, code),
        expires_at=now + timedelta(minutes=CODE_MINUTES),
        created_at=now,
    )
    return code


class CodeRefused(ValidationError):
    """A wrong code (code "wrong", with tries left) or a dead one (code "expired")."""


def login_code_check(*, merchant: Merchant, address: Address, code: str) -> Member:
    """The member whose code this is; CodeRefused otherwise. Every try counts, right or wrong."""
    window = address.key(merchant.pk)
    try:
        tries = cache.incr(window)
    except ValueError:  # no code asked for this address in the last CODE_MINUTES
        raise CodeRefused(_("This code has expired. Ask for a new one."), code="expired") from None
    if tries > CODE_TRIES:
        raise CodeRefused(_("Too many wrong tries: this code no longer works. Ask for a new one."), code="expired")
    member = _member_for(merchant, address)
    # The same work with no member (the hash, the locked read, the write): no quicker "no" to time.
    if _code_matches(merchant, member, code.strip()) and member is not None:
        cache.delete(window)
        return member
    left = CODE_TRIES - tries
    if not left:
        raise CodeRefused(_("Too many wrong tries: this code no longer works. Ask for a new one."), code="expired")
    message = ngettext(
        "That code is not right. %(left)d try left.", "That code is not right. %(left)d tries left.", left
    )
    raise CodeRefused(message % {"left": left}, code="wrong")


@transaction.atomic
def _code_matches(merchant: Merchant, member: Member | None, code: str) -> bool:
    """Check against the member's live code under a row lock, so parallel tries cannot exceed the limit.

    With no member it runs the same queries, which find nothing, and says no.
    """
    member_id = member.pk if member is not None else 0  # no member has id 0
    code_hash = _hash(member_id, code)
    login = (
        LoginCode.objects.for_merchant(merchant)
        .select_for_update()
        .filter(member_id=member_id, used_at__isnull=True, expires_at__gt=timezone.now(), attempts__lt=CODE_TRIES)
        .order_by("-created_at", "-pk")
        .first()
    )
    matches = login is not None and constant_time_compare(login.code_hash, code_hash)
    done = {"used_at": timezone.now()} if matches else {}
    LoginCode.objects.filter(pk=login.pk if login else 0).update(attempts=F("attempts") + 1, **done)
    return matches
