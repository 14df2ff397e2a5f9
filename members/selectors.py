"""Reads for members."""

from django.db.models import Q, QuerySet

from merchants.models import Merchant

from .models import Member


def member_search(*, merchant: Merchant, query: str = "") -> QuerySet[Member]:
    """Members matching a phone (any format), card number, email or name prefix."""
    members = Member.objects.for_merchant(merchant)
    query = query.strip()
    if not query:
        return members
    digits = "".join(ch for ch in query if ch.isdigit())
    condition = Q(card_number__iexact=query) | Q(email__iexact=query)
    condition |= Q(first_name__istartswith=query) | Q(last_name__istartswith=query)
    if " " in query:
        first, _sep, last = query.partition(" ")
        condition |= Q(first_name__istartswith=first, last_name__istartswith=last.strip())
    if len(digits) >= 4:
        condition |= Q(phone__contains=digits.lstrip("0"))
    return members.filter(condition)
