"""Retention: members idle for the shop's chosen number of years (Merchant.erase_inactive_years) have
their personal data erased, by a nightly job, in batches.

It lives in rewards because activity is the ledger's: a member is active when they joined, or their
account saw a purchase, a redemption or another ledger line that updates `last_activity_at` (expiry
does not), within the period. The erasure itself is members.services.member_erase.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

from members.models import Member
from members.services import member_erase
from merchants.actors import Actor
from merchants.models import Merchant

from .ledger import add_months, local_midnight, local_today
from .models import Account

log = logging.getLogger(__name__)

ERASE_BATCH = 200  # members read per round; each erasure is its own short transaction


def inactive_cutoff(*, merchant: Merchant, years: int, now: datetime | None = None) -> datetime:
    """The shop's midnight `years` ago: activity before it is too old."""
    return local_midnight(merchant, add_months(local_today(merchant, now), -12 * years))


def members_inactive(*, merchant: Merchant, years: int, now: datetime | None = None) -> QuerySet[Member]:
    """The shop's members, not yet erased, who joined and did nothing since before the cutoff."""
    cutoff = inactive_cutoff(merchant=merchant, years=years, now=now)
    active = Account.objects.for_merchant(merchant).filter(last_activity_at__gte=cutoff).values("member_id")
    return (
        Member.objects.for_merchant(merchant)
        .filter(erased_at__isnull=True, joined_at__lt=cutoff)
        .exclude(pk__in=active)
    )


def inactive_members_erase(*, merchant_id: int, now: datetime | None = None) -> int:
    """Erase the shop's members idle for its retention period; returns how many were erased.

    Idempotent: erased members are no longer candidates, so a second run (or a retry) finds none.
    """
    merchant = Merchant.objects.get(pk=merchant_id)
    years = merchant.erase_inactive_years
    if not years:
        return 0
    actor = Actor.job("retention")
    cutoff = inactive_cutoff(merchant=merchant, years=years, now=now)
    erased, after = 0, 0
    while True:
        candidates = members_inactive(merchant=merchant, years=years, now=now).filter(pk__gt=after).order_by("pk")
        batch = list(candidates.select_related("merchant")[:ERASE_BATCH])
        if not batch:
            break
        after = batch[-1].pk
        for member in batch:
            erased += _erase_if_still_idle(member, cutoff, actor)
    log.info("retention for %s: %d members erased", merchant.slug, erased)
    return erased


@transaction.atomic
def _erase_if_still_idle(member: Member, cutoff: datetime, actor: Actor) -> int:
    # Under the account's row lock (the one every purchase takes): a purchase that committed since
    # the batch was read makes the member active again, and one that waits sees the erasure.
    account = Account.objects.select_for_update().filter(merchant_id=member.merchant_id, member=member).first()
    if account is not None and account.last_activity_at and account.last_activity_at >= cutoff:
        return 0
    member_erase(member=member, actor=actor)
    return 1
