"""Which members a segment's rules pick: one queryset, scoped to the shop, for counts and campaigns.

Rules are what the segment form saved: plain numbers, ISO dates and ids, so a saved segment reads
the same tomorrow (a "last purchase more than 60 days ago" moves with the date it is read on).
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Member
from merchants.models import Merchant
from merchants.periods import day_start


def segment_members(*, merchant: Merchant, rules: dict, now: datetime | None = None) -> QuerySet[Member]:
    """The shop's members (never erased ones) that every rule picks; no rule picks everyone."""
    now = now or timezone.now()
    members = Member.objects.for_merchant(merchant).filter(erased_at__isnull=True)
    if rules.get("tiers"):
        tiers = [int(pk) for pk in rules["tiers"]]
        members = members.filter(account__tier_id__in=tiers)
    if (low := rules.get("balance_min")) is not None:
        members = members.filter(account__balance__gte=low)
    if (high := rules.get("balance_max")) is not None:
        members = members.filter(Q(account__balance__lte=high) | Q(account__isnull=True))
    if days := rules.get("bought_within_days"):
        members = members.filter(account__last_purchase_at__gte=now - timedelta(days=days))
    if days := rules.get("not_bought_days"):
        cutoff = now - timedelta(days=days)
        # Never bought counts too, once they have been members that long.
        members = members.filter(
            Q(account__last_purchase_at__lt=cutoff)
            | Q(account__last_purchase_at__isnull=True, joined_at__lt=cutoff)
            | Q(account__isnull=True, joined_at__lt=cutoff)
        )
    if rules.get("visits_min") is not None or rules.get("visits_max") is not None:
        # Visits here and the ones the shop's old system counted (an import's opening visits).
        members = members.alias(visits=F("account__purchase_count") + F("account__opening_visits"))
        if (low := rules.get("visits_min")) is not None:
            members = members.filter(visits__gte=low)
        if (high := rules.get("visits_max")) is not None:
            members = members.filter(visits__lte=high)
    if rules.get("spend_min") is not None or rules.get("spend_max") is not None:
        members = members.alias(spend=F("account__lifetime_spend") + F("account__opening_spend"))
        if (low := rules.get("spend_min")) is not None:
            members = members.filter(spend__gte=Decimal(str(low)))
        if (high := rules.get("spend_max")) is not None:
            members = members.filter(spend__lte=Decimal(str(high)))
    if days := rules.get("joined_within_days"):
        members = members.filter(joined_at__gte=now - timedelta(days=days))
    if start := rules.get("joined_from"):
        members = members.filter(joined_at__gte=day_start(merchant, date.fromisoformat(start)))
    if end := rules.get("joined_to"):
        members = members.filter(joined_at__lt=day_start(merchant, date.fromisoformat(end) + timedelta(days=1)))
    if month := rules.get("birthday_month"):
        members = members.filter(birthday__month=int(month))
    if rules.get("locations"):
        members = members.filter(location_id__in=[int(pk) for pk in rules["locations"]])
    for channel in ("email", "sms"):
        wanted = rules.get(f"{channel}_consent")
        if wanted in ("yes", "no"):
            members = members.filter(**{f"{channel}_consent": wanted == "yes"})
    if rules.get("tags"):
        members = members.filter(tag_links__tag_id__in=[int(pk) for pk in rules["tags"]]).distinct()
    return members


def segment_count(*, merchant: Merchant, rules: dict) -> int:
    return segment_members(merchant=merchant, rules=rules).count()


# Ready-made RFM segments (recency, frequency, money): a starting point the owner can then edit.
PRESETS: dict[str, tuple[str, Callable[[], dict]]] = {
    "champions": (
        _("Champions: bought in the last 30 days, 10 visits or more"),
        lambda: {"bought_within_days": 30, "visits_min": 10},
    ),
    "loyal": (
        _("Loyal: bought in the last 60 days, 5 visits or more"),
        lambda: {"bought_within_days": 60, "visits_min": 5},
    ),
    "at_risk": (
        _("At risk: 3 visits or more, the last one 60 to 120 days ago"),
        lambda: {"not_bought_days": 60, "bought_within_days": 120, "visits_min": 3},
    ),
    "lapsed": (_("Lapsed: no purchase in the last 120 days"), lambda: {"not_bought_days": 120, "visits_min": 1}),
    "new": (_("New: joined in the last 30 days"), lambda: {"joined_within_days": 30}),
}
