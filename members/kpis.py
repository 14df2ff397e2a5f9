"""The dashboard's enrolment numbers: new members per day, week or month, by channel and by staff member.

Cards read EnrolmentDay, a daily rollup that enrolment never touches: the rewards job that keeps
the dashboard's rollups recounts recent days (and every day an import reached back to).
"""

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from merchants.models import Merchant, User
from merchants.periods import Window, buckets, change, days_range

from .models import EnrolmentDay, Member, Source


def enrolment_refresh(*, merchant: Merchant, start: date | None = None, end: date | None = None) -> int:
    """Recount the members who joined from `start` to `end` (the shop's dates, both included; open
    ends reach the first and the last member). Returns the rows written."""
    members = Member.objects.for_merchant(merchant)
    rollup = EnrolmentDay.objects.for_merchant(merchant)
    if start is not None:
        members = members.filter(joined_at__gte=days_range(merchant, start, start)[0])
        rollup = rollup.filter(day__gte=start)
    if end is not None:
        members = members.filter(joined_at__lt=days_range(merchant, end, end)[1])
        rollup = rollup.filter(day__lte=end)
    counts = (
        members.annotate(day=TruncDate("joined_at", tzinfo=merchant.tzinfo))
        .values("day", "location_id", "source", "enrolled_by_id")
        .annotate(members=Count("pk"))
        .order_by()
    )
    with transaction.atomic():
        rollup.delete()
        made = EnrolmentDay.objects.bulk_create(EnrolmentDay(merchant=merchant, **row) for row in counts)
    return len(made)


@dataclass
class Breakdown:
    label: str
    current: int
    previous: int

    @property
    def change(self) -> float | None:
        return change(self.current, self.previous)


@dataclass
class EnrolmentCard:
    window: Window
    new: int
    new_previous: int
    total: int  # members at the end of the window
    total_previous: int  # ... and at the end of the previous window
    trend: list[tuple[date, int]]
    trend_previous: list[tuple[date, int]]
    channels: list[Breakdown]
    staff: list[Breakdown]

    @property
    def new_change(self) -> float | None:
        return change(self.new, self.new_previous)

    @property
    def total_change(self) -> float | None:
        return change(self.total, self.total_previous)


def enrolment_card(*, merchant: Merchant, window: Window) -> EnrolmentCard:
    previous = window.previous
    rows = EnrolmentDay.objects.for_merchant(merchant)
    if window.location:
        rows = rows.filter(location=window.location)
    recent = list(
        rows.filter(day__gte=previous.start, day__lte=window.end).values_list(
            "day", "source", "enrolled_by_id", "members"
        )
    )
    before = rows.filter(day__lt=previous.start).aggregate(total=Sum("members"))["total"] or 0

    def in_window(period: Window) -> list[tuple[date, str, int | None, int]]:
        return [row for row in recent if period.start <= row[0] <= period.end]

    current, earlier = in_window(window), in_window(previous)
    new, new_previous = sum(row[3] for row in current), sum(row[3] for row in earlier)

    def per_day(period_rows: list) -> dict[date, int]:
        days: dict[date, int] = {}
        for day, _source, _by, count in period_rows:
            days[day] = days.get(day, 0) + count
        return days

    def per(key: int, period_rows: list) -> dict:
        totals: dict = {}
        for row in period_rows:
            totals[row[key]] = totals.get(row[key], 0) + row[3]
        return totals

    channels_now, channels_before = per(1, current), per(1, earlier)
    channels = [
        Breakdown(str(label), channels_now.get(value, 0), channels_before.get(value, 0))
        for value, label in Source.choices
        if channels_now.get(value) or channels_before.get(value)
    ]
    staff_now, staff_before = per(2, current), per(2, earlier)
    users = {user.pk: str(user) for user in User.objects.filter(pk__in=[pk for pk in staff_now if pk])}
    staff = sorted(
        (Breakdown(users.get(pk, ""), count, staff_before.get(pk, 0)) for pk, count in staff_now.items() if pk),
        key=lambda row: (-row.current, row.label),
    )
    return EnrolmentCard(
        window=window,
        new=new,
        new_previous=new_previous,
        total=before + new_previous + new,
        total_previous=before + new_previous,
        trend=buckets(window, per_day(current)),
        trend_previous=buckets(previous, per_day(earlier)),
        channels=channels,
        staff=staff,
    )
