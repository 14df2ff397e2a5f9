"""Reads for members."""

from django.db.models import Count, F, Min, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from merchants.models import Merchant

from .models import Card, CardStatus, ConsentEvent, Member, Source


def member_search(*, merchant: Merchant, query: str = "") -> QuerySet[Member]:
    """Members matching a phone (any format), card number, email or name prefix."""
    members = Member.objects.for_merchant(merchant)
    query = query.strip()
    if not query:
        return members
    digits = "".join(ch for ch in query if ch.isdigit())
    condition = Q(card_number=query.upper()) | Q(email__ci=query)
    condition |= Q(first_name__istartswith=query) | Q(last_name__istartswith=query)
    if " " in query:
        first, _sep, last = query.partition(" ")
        condition |= Q(first_name__istartswith=first, last_name__istartswith=last.strip())
    # A local number starts with the trunk 0 that E.164 drops; what is left must still say something
    # (four typed digits, three left: "0001" of a card number must not match every phone with a 1).
    if len(digits) >= 4 and len(digits.lstrip("0")) >= 3:
        condition |= Q(phone__contains=digits.lstrip("0"))
        # Newest first, as always, but in words the joined-date index cannot serve (joined_at is never
        # null): PostgreSQL would otherwise walk the whole shop down that index, newest first, testing
        # each member against the phone (90 ms at 100,000 members) rather than ask the phone's trigram
        # index for the few it holds and sort those (2 to 5 ms). A name prefix matches many members
        # and keeps the index's order: its first page is found at once.
        return members.filter(condition).order_by(F("joined_at").desc(nulls_last=True), "-pk")
    return members.filter(condition)


def card_batches(*, merchant: Merchant) -> QuerySet[Card]:
    """The shop's printed batches, newest first: how many cards each has, how many are still to hand out."""
    return (
        Card.objects.for_merchant(merchant)
        .exclude(batch="")
        .values("batch")
        .annotate(
            count=Count("pk"),
            unassigned=Count("pk", filter=Q(status=CardStatus.UNASSIGNED)),
            made=Min("created_at"),
        )
        .order_by("-made")
    )


def cards_with_members(*, merchant: Merchant) -> QuerySet[Card]:
    """Every physical card of the shop with the member it was given to: newest batch first, bought cards last."""
    return Card.objects.for_merchant(merchant).select_related("member").order_by("-batch", "number")


# How a consent change came in, in words (ConsentEvent.source holds the code).
CONSENT_SOURCES = {
    **dict(Source.choices),
    "unsubscribe": _("Unsubscribe link"),
    "unsubscribe_undo": _("Unsubscribe undone"),
    "erasure": _("Erasure"),
}
CONSENT_HISTORY_SHOWN = 50


def consent_history(*, member: Member) -> list[ConsentEvent]:
    """The member's latest consent changes, newest first: when, channel, given or withdrawn, how, who."""
    events = ConsentEvent.objects.for_merchant(member.merchant_id).filter(member=member).select_related("collected_by")
    shown = list(events.order_by("-created_at", "-pk")[:CONSENT_HISTORY_SHOWN])
    for event in shown:
        event.source_label = CONSENT_SOURCES.get(event.source, event.source)
    return shown
