"""What a campaign brought, measured against its holdout: conversion, visits and revenue per member,
and the lift with a 95% confidence interval, said in plain words.

The members who were sent the campaign and the held-out ones were drawn from the same audience at
random, so the difference between the two groups after the send is what the campaign caused.
"""

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from rewards.ledger import program_for
from rewards.models import Purchase

from .models import Campaign, Message, MessageStatus

WINDOW_DAYS = 14  # a purchase within this many days of the send counts as a conversion
Z_95 = 1.96


@dataclass
class Group:
    members: int
    converted: int  # members who bought within the window
    visits: int
    revenue: Decimal

    @property
    def conversion(self) -> float | None:
        return self.converted / self.members if self.members else None

    @property
    def visits_per_member(self) -> float | None:
        return self.visits / self.members if self.members else None

    @property
    def revenue_per_member(self) -> Decimal | None:
        return self.revenue / self.members if self.members else None


@dataclass
class Report:
    campaign: Campaign
    days: int
    complete: bool  # the window has passed
    sent: Group
    held_out: Group
    points_given: int  # the offer's bonus points, to the members who got it
    cost: Decimal  # ... at the program's point value
    variants: dict[str, Group] | None = None  # an A/B test's two halves of the members who got it

    @property
    def variant_difference(self) -> float | None:
        """B's conversion less A's."""
        if not self.variants or not all(group.members for group in self.variants.values()):
            return None
        return self.variants["b"].conversion - self.variants["a"].conversion

    @property
    def variant_interval(self) -> tuple[float, float] | None:
        if self.variant_difference is None:
            return None
        return _interval(self.variants["b"], self.variants["a"])

    @property
    def better_variant(self) -> str | None:
        """ "a" or "b" when one converts better beyond chance (95%), else None."""
        interval = self.variant_interval
        if interval is None or interval[0] <= 0 <= interval[1]:
            return None
        return "b" if interval[0] > 0 else "a"

    @property
    def measurable(self) -> bool:
        return self.sent.members > 0 and self.held_out.members > 0

    @property
    def lift(self) -> float | None:
        """Extra conversion (share of members) the campaign brought: sent less held out."""
        if not self.measurable:
            return None
        return self.sent.conversion - self.held_out.conversion

    @property
    def lift_interval(self) -> tuple[float, float] | None:
        """The 95% confidence interval of the lift (normal approximation for two proportions)."""
        if not self.measurable:
            return None
        return _interval(self.sent, self.held_out)

    @property
    def significant(self) -> bool:
        """The interval does not include zero: the difference is unlikely to be chance."""
        interval = self.lift_interval
        return interval is not None and (interval[0] > 0 or interval[1] < 0)

    @property
    def extra_visits(self) -> float | None:
        if not self.measurable:
            return None
        return (self.sent.visits_per_member - self.held_out.visits_per_member) * self.sent.members

    @property
    def extra_revenue(self) -> Decimal | None:
        if not self.measurable:
            return None
        return (self.sent.revenue_per_member - self.held_out.revenue_per_member) * self.sent.members


def _interval(first: Group, second: Group) -> tuple[float, float]:
    """95% confidence interval of first's conversion less second's (normal approximation)."""
    p1, n1, p2, n2 = first.conversion, first.members, second.conversion, second.members
    difference = p1 - p2
    margin = Z_95 * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return difference - margin, difference + margin


def points_given(*, campaign: Campaign) -> int:
    return Message.objects.filter(campaign=campaign).aggregate(total=Sum("points"))["total"] or 0


def _per_message_group(campaign: Campaign, messages: QuerySet, days: int) -> Group:
    """A triggered or recurring campaign reaches each member on a day of their own: each message is
    measured over the days after its own day (the held-out ones over the days after theirs)."""
    tz = campaign.merchant.tzinfo
    rows = list(messages.values_list("member_id", "occurrence"))
    if not rows:
        return Group(0, 0, 0, Decimal(0))
    windows = [(member, datetime.combine(day, time.min, tzinfo=tz)) for member, day in rows]
    first, last = min(start for _m, start in windows), max(start for _m, start in windows)
    bought: dict[int, list[tuple[datetime, Decimal]]] = defaultdict(list)
    for member, at, amount in Purchase.objects.filter(
        merchant_id=campaign.merchant_id,
        account__member_id__in={member for member, _day in rows},
        created_at__gte=first,
        created_at__lt=last + timedelta(days=days),
    ).values_list("account__member_id", "created_at", "amount"):
        bought[member].append((at, amount))
    converted, visits, revenue = 0, 0, Decimal(0)
    for member, start in windows:
        inside = [amount for at, amount in bought[member] if start <= at < start + timedelta(days=days)]
        converted += bool(inside)
        visits += len(inside)
        revenue += sum(inside, Decimal(0))
    return Group(len(windows), converted, visits, revenue)


def _group(campaign: Campaign, messages: QuerySet, days: int) -> Group:
    if campaign.trigger or campaign.repeat:
        return _per_message_group(campaign, messages, days)
    start = campaign.started_at or campaign.created_at
    bought = Purchase.objects.filter(
        merchant_id=campaign.merchant_id,
        account__member_id__in=messages.values("member_id"),
        created_at__gte=start,
        created_at__lt=start + timedelta(days=days),
    ).aggregate(converted=Count("account_id", distinct=True), visits=Count("pk"), revenue=Sum("amount"))
    return Group(
        members=messages.count(),
        converted=bought["converted"],
        visits=bought["visits"],
        revenue=bought["revenue"] or Decimal(0),
    )


def campaign_report(*, campaign: Campaign, days: int = WINDOW_DAYS) -> Report:
    start = campaign.started_at or campaign.created_at
    end = start + timedelta(days=days)
    messages = Message.objects.filter(campaign=campaign)
    sent = messages.filter(status=MessageStatus.SENT)
    variants = None
    if campaign.ab_test:
        variants = {variant: _group(campaign, sent.filter(variant=variant), days) for variant in ("a", "b")}
    given = points_given(campaign=campaign)
    value = program_for(campaign.merchant).point_value
    cost = (Decimal(given) * value).quantize(Decimal("0.01"))
    if campaign.repeat or campaign.trigger:  # runs on: complete when the last run's window has passed
        last = messages.order_by("-occurrence").values_list("occurrence", flat=True).first()
        end = datetime.combine(last, time.min, tzinfo=campaign.merchant.tzinfo) + timedelta(days=days) if last else end
    return Report(
        campaign,
        days,
        timezone.now() >= end,
        _group(campaign, sent, days),
        _group(campaign, messages.filter(status=MessageStatus.HELD_OUT), days),
        given,
        cost,
        variants,
    )
