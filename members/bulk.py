"""Writes for many members at once (a customer import): a few statements per batch, not a few per member.

Callers run these inside their own transaction, after the members exist. Unlike the one-member
services they send no signals and write no audit line per member: the import audits itself once.
"""

import base64
import secrets
from collections.abc import Callable, Iterable

from django.db import connection
from django.db.models.functions import Lower
from django.utils import timezone

from merchants.db import Blueprint, Column, insert_columns, insert_many
from merchants.models import Merchant, User

from .models import CODE_ALPHABET, Card, CardStatus, ConsentEvent, MemberTag, Tag


def codes_new(*, count: int, length: int, taken: Callable[[str], bool]) -> list[str]:
    """`count` distinct new codes (card numbers, referral codes) for which `taken` says no.

    random_code's alphabet and randomness, drawn for all the codes at once. The caller knows the
    shop's codes (an import reads them once); the unique constraints on the member table stay the
    last word, should someone else take one meanwhile.
    """
    size = len(CODE_ALPHABET)
    limit = 256 - 256 % size  # bytes past the last whole round of the alphabet would favour its start
    codes: set[str] = set()
    while len(codes) < count:
        chars = [CODE_ALPHABET[b % size] for b in secrets.token_bytes((count - len(codes)) * length * 2) if b < limit]
        for start in range(0, len(chars) - length + 1, length):
            code = "".join(chars[start : start + length])
            if code not in codes and not taken(code):
                codes.add(code)
                if len(codes) == count:
                    break
    return list(codes)


def portal_keys_new(count: int) -> list[str]:
    """`count` private-link keys, as portal_key_new makes them, from one draw of random bytes."""
    raw = secrets.token_bytes(16 * count)
    return [base64.urlsafe_b64encode(raw[i : i + 16]).rstrip(b"=").decode() for i in range(0, 16 * count, 16)]


def consents_record(
    *,
    merchant: Merchant,
    events: Iterable[tuple[int, str, bool, str]],
    source: str,
    user: User | None,
) -> int:
    """Log consent given or withdrawn: (member id, channel, granted, detail) each. The members'
    consent flags are set by the caller's own update of the member rows."""
    now = timezone.now()
    if connection.vendor == "postgresql":  # by column: no instance per event (see insert_columns)
        events = list(events)
        if events:
            members, channels, granted, details = zip(*events, strict=True)
            insert_columns(
                ConsentEvent,
                len(events),
                merchant=merchant,
                member_id=Column(members),
                channel=Column(channels),
                granted=Column(granted),
                detail=Column(detail[:200] for detail in details),
                source=source,
                collected_by=user,
                created_at=now,
            )
        return len(events)
    blueprint = Blueprint(ConsentEvent, merchant=merchant, source=source, collected_by=user, created_at=now)
    rows = [
        blueprint.new(
            member_id=member_id,
            channel=channel,
            granted=granted,
            detail=detail[:200],
        )
        for member_id, channel, granted, detail in events
    ]
    insert_many(rows)
    return len(rows)


def tags_ensure(*, merchant: Merchant, names: Iterable[str]) -> dict[str, int]:
    """The shop's tags by lower-cased name, creating those it does not have yet (the first
    spelling given wins); names match case-insensitively."""
    wanted = {}
    for name in names:
        wanted.setdefault(name.lower(), name)
    if not wanted:
        return {}
    tags = Tag.objects.for_merchant(merchant).annotate(lname=Lower("name"))
    known = dict(tags.filter(lname__in=wanted).values_list("lname", "pk"))
    missing = [Tag(merchant=merchant, name=wanted[lname]) for lname in wanted if lname not in known]
    if missing:
        # A concurrent import may create the same tag: its row stands, ours is skipped.
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        known = dict(tags.filter(lname__in=wanted).values_list("lname", "pk"))
    return known


def tags_add(*, merchant: Merchant, links: Iterable[tuple[int, str]]) -> int:
    """Put tags on members: (member id, tag name) each. New tag names are created; tags already
    on a member stay as they are. Names match case-insensitively."""
    links = list(links)
    if not links:
        return 0
    known = tags_ensure(merchant=merchant, names=[name for _member, name in links])
    if connection.vendor == "postgresql":  # by column: no instance per link (see insert_columns)
        members = Column(member for member, _name in links)
        tags = Column(known[name.lower()] for _member, name in links)
        insert_columns(MemberTag, len(links), merchant=merchant, member_id=members, tag_id=tags)
        return len(links)
    blueprint = Blueprint(MemberTag, merchant=merchant)
    # The planner only adds tags a member does not have yet; a concurrent import adding the same
    # one makes this chunk's transaction fail, and the import plans the chunk again.
    rows = [blueprint.new(member_id=member, tag_id=known[name.lower()]) for member, name in links]
    insert_many(rows)
    return len(rows)


def cards_link(*, merchant: Merchant, links: Iterable[tuple[int, str]]) -> int:
    """Physical cards members already carry: (member id, card number) each, numbers nobody has."""
    now = timezone.now()
    blueprint = Blueprint(Card, merchant=merchant, status=CardStatus.ACTIVE, linked_at=now, created_at=now)
    rows = [blueprint.new(number=number, member_id=member) for member, number in links]
    insert_many(rows)
    return len(rows)
