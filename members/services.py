"""Write use cases for members."""

import copy
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from merchants import webhooks
from merchants.actors import Actor
from merchants.models import AuditLog, Merchant, Role, WebhookEvent
from merchants.queue import enqueue
from merchants.services import audit_record

from .models import (
    Card,
    CardStatus,
    Channel,
    ConsentEvent,
    LoginCode,
    Member,
    MemberTag,
    Source,
    portal_key_new,
    random_code,
)
from .phones import phone_normalize
from .signals import member_enrolled, member_erased
from .tasks import deletion_request_notify_task


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
    if email and (found := members.filter(email__ci=email).first()):
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
    email_consent: bool = False,
    sms_consent: bool = False,
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
    for channel, granted in ((Channel.EMAIL, email_consent), (Channel.SMS, sms_consent)):
        if granted:
            consent_set(member=member, channel=channel, granted=True, source=source, actor=actor)
    member_enrolled.send(sender=Member, member=member, actor=actor)
    webhooks.emit(
        merchant_id=merchant.pk,
        event=WebhookEvent.MEMBER_ENROLLED,
        data={
            "id": member.pk, "first_name": member.first_name, "last_name": member.last_name, "phone": member.phone,
            "email": member.email, "card_number": member.card_number, "source": source, "joined_at": member.joined_at,
        },
    )  # fmt: skip
    return member


@transaction.atomic
def consent_set(*, member: Member, channel: str, granted: bool, source: str, actor: Actor | None = None) -> bool:
    """Give or withdraw marketing consent on one channel; the change is logged with who and how.

    Returns False when nothing changed (the same answer again writes no event).
    """
    field = f"{Channel(channel).value}_consent"
    if getattr(member, field) == granted:
        return False
    Member.objects.filter(pk=member.pk).update(**{field: granted})
    setattr(member, field, granted)
    ConsentEvent.objects.create(
        merchant_id=member.merchant_id,
        member=member,
        channel=channel,
        granted=granted,
        source=source,
        collected_by=actor.user if actor else None,
    )
    return True


def card_find(*, merchant: Merchant, number: str) -> Card | None:
    return Card.objects.for_merchant(merchant).filter(number=number.strip().upper()).first()


@transaction.atomic
def card_link(*, member: Member, number: str, actor: Actor) -> Card:
    """Give a member a physical card: one the shop printed here, or any other card it bought."""
    number = number.strip().upper()
    if not number:
        raise ValidationError(_("Scan or type the card's number."), code="card_empty")
    card = Card.objects.select_for_update().filter(merchant_id=member.merchant_id, number=number).first()
    if card is not None and card.status == CardStatus.BLOCKED:
        raise ValidationError(
            _("Card %(number)s is blocked: it was reported lost or replaced.") % {"number": number}, code="card_blocked"
        )
    others = Member.objects.filter(merchant_id=member.merchant_id, card_number=number).exclude(pk=member.pk)
    if (card is not None and card.member_id not in (None, member.pk)) or others.exists():
        raise ValidationError(
            _("Card %(number)s already belongs to another member.") % {"number": number}, code="card_taken"
        )
    card = card or Card(merchant_id=member.merchant_id, number=number)
    card.member, card.status, card.linked_at = member, CardStatus.ACTIVE, timezone.now()
    card.save()
    audit_record(merchant=member.merchant, actor=actor.user, action="card.link", obj=card, after={"member": member.pk})
    return card


@transaction.atomic
def card_replace(*, card: Card, new_number: str, actor: Actor, reason: str = "") -> Card:
    """A lost or damaged card: block its number for good and link the new card to the same member."""
    if card.member_id is None:
        raise ValidationError(_("This card is not linked to a member."), code="card_unlinked")
    member = Member.objects.select_related("merchant").get(pk=card.member_id)
    Card.objects.filter(pk=card.pk).update(
        status=CardStatus.BLOCKED, blocked_at=timezone.now(), blocked_reason=(reason or _("Replaced"))[:200]
    )
    new = card_link(member=member, number=new_number, actor=actor)
    audit_record(
        merchant=member.merchant,
        actor=actor.user,
        action="card.replace",
        obj=card,
        after={"new_card": new.number, "reason": reason},
    )
    return new


@transaction.atomic
def cards_create_batch(*, merchant: Merchant, count: int, actor: Actor) -> list[Card]:
    """Fresh card numbers to print and hand out; they link to members when first scanned."""
    if not 1 <= count <= 500:
        raise ValidationError(_("Print between 1 and 500 cards at a time."), code="card_count")
    batch = timezone.now().strftime("%Y%m%d-%H%M%S")
    numbers: set[str] = set()
    taken = set(Card.objects.for_merchant(merchant).values_list("number", flat=True))
    taken |= set(Member.objects.for_merchant(merchant).values_list("card_number", flat=True))
    while len(numbers) < count:
        number = random_code(10)
        if number not in taken:
            numbers.add(number)
    cards = Card.objects.bulk_create(Card(merchant=merchant, number=n, batch=batch) for n in sorted(numbers))
    audit_record(
        merchant=merchant, actor=actor.user, action="card.batch", obj=merchant, after={"count": count, "batch": batch}
    )
    return cards


def member_by_card(*, merchant: Merchant, number: str) -> Member | None:
    """The member a scanned number belongs to: their own card number or an active physical card."""
    number = number.strip().upper()  # card numbers are kept in capitals (random_code, card_link)
    if not number:
        return None
    members = Member.objects.for_merchant(merchant).filter(erased_at__isnull=True)
    return (
        members.filter(card_number=number).first()
        or members.filter(cards__number=number, cards__status=CardStatus.ACTIVE).first()
    )


@transaction.atomic
def member_request_deletion(*, member: Member) -> Member:
    """The member asked to be forgotten: the shop is told and erases them (or the privacy job does)."""
    if member.deletion_requested_at is None:
        member.deletion_requested_at = timezone.now()
        member.save(update_fields=["deletion_requested_at"])
        audit_record(merchant=member.merchant, actor=None, action="member.deletion_requested", obj=member)
        # Asking twice tells the owners once.
        enqueue(deletion_request_notify_task, member.merchant_id, member.pk)
    return member


def erase_confirmation(member: Member) -> str:
    """What the owner types to confirm an erasure: the member's name, or what else we know them by."""
    return " ".join(str(member).split()).casefold()


def erase_confirmed(member: Member, typed: str) -> bool:
    return bool(typed.strip()) and " ".join(typed.split()).casefold() == erase_confirmation(member)


@transaction.atomic
def member_erase(*, member: Member, actor: Actor) -> Member:
    """Remove a member's personal data, for good. Their purchases, points and vouchers stay, as
    amounts linked to the anonymised member, so balances, ledger sums and the dashboard do not move.

    Idempotent: erasing an erased member changes nothing. Only the owner (or the retention job) may.
    """
    if not actor.can(Role.OWNER, member.merchant_id):
        raise PermissionDenied(_("Only the shop's owner can erase a member's personal data."))
    # Under the row lock: two erasures at once (the owner and the nightly job) erase once.
    locked = Member.objects.select_for_update().get(pk=member.pk, merchant_id=member.merchant_id)
    if locked.erased_at:
        member.erased_at = locked.erased_at
        return member
    for channel in (Channel.EMAIL, Channel.SMS):
        consent_set(member=locked, channel=channel, granted=False, source="erasure", actor=actor)
    now = timezone.now()
    locked.first_name = locked.last_name = locked.phone = locked.email = locked.notes = locked.language = ""
    locked.birthday = locked.referred_by = None
    # The card number and referral code were handed out with the person: new ones no one knows.
    locked.card_number = _unique_code(locked.merchant, "card_number", 10)
    locked.referral_code = _unique_code(locked.merchant, "referral_code", 6)
    locked.portal_key = portal_key_new()  # every private link and portal session stops working
    locked.erased_at = now
    locked.save()
    # Physical cards stay blocked (their numbers are never handed out again) and name no one.
    Card.objects.filter(merchant_id=locked.merchant_id, member=locked).update(
        member=None, status=CardStatus.BLOCKED, blocked_at=now, blocked_reason="erased"
    )
    MemberTag.objects.for_merchant(locked.merchant_id).filter(member=locked).delete()
    LoginCode.objects.for_merchant(locked.merchant_id).filter(member=locked).delete()
    # Earlier audit lines named the member: keep what happened, not who it was.
    AuditLog.objects.for_merchant(locked.merchant_id).filter(
        object_type=Member._meta.label_lower, object_id=str(locked.pk)
    ).update(object_repr=str(locked)[:200])
    audit_record(merchant=locked.merchant, actor=actor.user, action="member.erase", obj=locked)
    member_erased.send(sender=Member, member=locked, actor=actor)
    member.refresh_from_db()
    return member


@transaction.atomic
def member_data_exported(*, member: Member, actor: Actor, fmt: str) -> None:
    """Staff downloaded a member's data: the audit log says who and when (never what it held)."""
    audit_record(merchant=member.merchant, actor=actor.user, action="member.export", obj=member, after={"format": fmt})


@transaction.atomic
def member_update(
    *,
    member: Member,
    actor: Actor | None = None,
    source: str = Source.PORTAL,
    first_name: str,
    last_name: str,
    phone: str,
    email: str,
    birthday: date | None,
    language: str,
    email_consent: bool,
    sms_consent: bool,
) -> Member:
    """A member's own details and consents (or staff changing them for them); each consent change is logged.

    Refuses, with the reason next to the field: a phone that is not a number, a phone or email another
    member has, offers by a channel the member gave no address for, and leaving nothing to know them by.
    """
    merchant = member.merchant
    errors: dict[str, list[str]] = {}
    try:
        phone = phone_normalize(phone, region=merchant.country)
    except ValidationError as error:
        errors["phone"] = error.messages
    email = email.strip().lower()
    others = Member.objects.for_merchant(merchant).exclude(pk=member.pk)
    if "phone" not in errors and phone and others.filter(phone=phone).exists():
        errors["phone"] = [_("Another member already has this phone number.")]
    if email and others.filter(email__ci=email).exists():
        errors["email"] = [_("Another member already has this email.")]
    if sms_consent and not phone and "phone" not in errors:
        errors["sms_consent"] = [_("Add a phone number to get offers by SMS.")]
    if email_consent and not email:
        errors["email_consent"] = [_("Add an email to get offers by email.")]
    if not (first_name.strip() or last_name.strip() or phone or email) and not errors:
        errors["__all__"] = [_("Keep at least a name, a phone number or an email.")]
    if errors:
        raise ValidationError(errors)
    fields = {
        "first_name": first_name.strip(),
        "last_name": last_name.strip(),
        "phone": phone,
        "email": email,
        "birthday": birthday,
        "language": language,
    }
    changed = [name for name, value in fields.items() if getattr(member, name) != value]
    if changed:
        # Field rules (lengths, email format, languages) checked on a copy: a refusal leaves `member` as it was.
        candidate = copy.copy(member)
        for name in changed:
            setattr(candidate, name, fields[name])
        candidate.full_clean(validate_unique=False, validate_constraints=False)
        for name in changed:
            setattr(member, name, fields[name])
        try:
            with transaction.atomic():
                member.save(update_fields=changed)
        except IntegrityError as error:  # a concurrent change took the phone or email first
            raise ValidationError(
                _("Another member already has this phone number or email."), code="duplicate"
            ) from error
        # Which fields changed, not their values: the audit log outlives an erasure.
        audit_record(
            merchant=merchant,
            actor=actor.user if actor else None,
            action="member.update",
            obj=member,
            after={"fields": changed},
        )
    for channel, granted in ((Channel.EMAIL, email_consent), (Channel.SMS, sms_consent)):
        consent_set(member=member, channel=channel, granted=granted, source=source, actor=actor)
    return member


@transaction.atomic
def marketing_unsubscribe(*, member: Member) -> list[str]:
    """One click from a message's footer: no more offers by any channel. Returns the channels that were on."""
    return [
        channel
        for channel in (Channel.EMAIL, Channel.SMS)
        if consent_set(member=member, channel=channel, granted=False, source="unsubscribe")
    ]


@transaction.atomic
def marketing_resubscribe(*, member: Member) -> list[str]:
    """Undo a one-click unsubscribe: offers again on the channels it turned off, unless changed since.

    Returns the channels turned back on.
    """
    address = {Channel.EMAIL: member.email, Channel.SMS: member.phone}
    restored = []
    for channel in (Channel.EMAIL, Channel.SMS):
        last = ConsentEvent.objects.for_merchant(member.merchant_id).filter(member=member, channel=channel).first()
        undo = last is not None and not last.granted and last.source == "unsubscribe" and address[channel]
        if undo and consent_set(member=member, channel=channel, granted=True, source="unsubscribe_undo"):
            restored.append(channel)
    return restored
