"""Keeping the dashboard's rollups: each run recounts a range of the shop's days from the source rows.

A run replaces the rollup rows of the days it counts, so running it twice changes nothing, and a
rollup always agrees with a recount from scratch (tests/rewards/test_kpis.py checks it).
Each periodic run recounts yesterday and today; a change that reaches further back (an import
with join dates, the demo history) marks the shop dirty from that day and the next run goes back.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import groupby, pairwise

from django.db import connection, transaction
from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import Least, TruncDate, TruncMonth
from django.utils import timezone

from members.kpis import enrolment_refresh
from merchants.models import Location, Merchant
from merchants.periods import day_start, days_range
from rewards.ledger import add_months, local_today, program_for
from rewards.models import Account, ExpiryMode, Kind, Purchase, Redemption, Refund, TierChange
from rewards.models import PointsEntry as Entry

from .models import ActivityDay, CohortMonth, Liability, RewardDay, RollupState, Standing

SLOW_EVERY = timedelta(hours=1)
WINDOWS = (30, 90, 180)  # the rolling windows a Standing counts (180: for lapsed = 180 less 90)
LOOKBACK = max(WINDOWS)


def rollups_refresh(*, merchant_id: int, now: datetime | None = None) -> dict[str, int]:
    """Bring the shop's rollups up to date: yesterday and today, or from the day a change reached back to."""
    now = now or timezone.now()
    merchant = Merchant.objects.get(pk=merchant_id)
    state, _ = RollupState.objects.get_or_create(merchant=merchant)
    today = local_today(merchant, now)
    dirty = state.dirty_from
    # Never counted: everything (None), else yesterday and today, or from where a change reached back.
    start = None if state.rebuilt_at is None else min(today - timedelta(days=1), dirty or today)
    counts = {
        "enrolment": enrolment_refresh(merchant=merchant, start=start, end=today),
        "activity": activity_refresh(merchant=merchant, start=start, end=today),
        "cohorts": cohorts_refresh(merchant=merchant, start=start, end=today),
    }
    changes = {"refreshed_at": now}
    # Rolling 90- and 180-day counts and the points about to expire move slowly and cost a pass over
    # months of purchases or the ledger: recounted hourly (and whenever days are recounted from further back).
    slow = start is None or dirty is not None or state.standings_at is None or now - state.standings_at >= SLOW_EVERY
    if slow:
        counts["standings"] = standings_refresh(merchant=merchant, start=start, end=today)
        liability_count(merchant=merchant, now=now)
        changes["standings_at"] = now
    if start is None:
        changes["rebuilt_at"] = now
    # Clear the mark only if no other change moved it while we counted.
    RollupState.objects.filter(pk=state.pk, dirty_from=dirty).update(dirty_from=None, **changes)
    RollupState.objects.filter(pk=state.pk).update(**changes)
    return counts


def rollups_mark_dirty(*, merchant: Merchant, since: date) -> None:
    """A change reached back to `since` (an import with join dates): the next run recounts from there."""
    state, _ = RollupState.objects.get_or_create(merchant=merchant)
    RollupState.objects.filter(pk=state.pk, dirty_from__isnull=True).update(dirty_from=since)
    RollupState.objects.filter(pk=state.pk).update(dirty_from=Least("dirty_from", since))


def rollups_rebuild(*, merchant: Merchant) -> None:
    """Count everything again on the next run (the demo history, a repair)."""
    RollupState.objects.update_or_create(merchant=merchant, defaults={"rebuilt_at": None, "dirty_from": None})


def _in_days(merchant: Merchant, field: str, start: date | None, end: date) -> Q:
    low, high = days_range(merchant, start or date.min.replace(year=1900), end)
    return Q(**{f"{field}__lt": high}) & (Q(**{f"{field}__gte": low}) if start else Q())


def _local_day(merchant: Merchant, field: str) -> TruncDate:
    return TruncDate(field, tzinfo=merchant.tzinfo)


def _replace(model: type, merchant: Merchant, start: date | None, end: date, rows: Iterable, **range_field) -> int:
    field = next(iter(range_field.values()), "day")
    old = model.objects.filter(merchant=merchant, **{f"{field}__lte": end})
    if start is not None:
        old = old.filter(**{f"{field}__gte": start})
    with transaction.atomic():
        old.delete()
        return len(model.objects.bulk_create(rows, batch_size=2000))


# ---------------------------------------------------------------------------------------------
# Daily sums: purchases, refunds, the ledger, vouchers, tier changes


ENTRY_FIELDS = {
    Kind.EARN: ("points_earned", 1),
    Kind.BONUS: ("points_earned", 1),
    Kind.IMPORT: ("points_imported", 1),
    Kind.REDEEM: ("points_redeemed", -1),
    Kind.EXPIRE: ("points_expired", -1),
    Kind.REVERSAL: ("points_reversed", -1),
    Kind.ADJUST: ("points_adjusted", 1),
}


def activity_refresh(*, merchant: Merchant, start: date | None, end: date) -> int:
    days: dict[tuple[date, int | None], dict] = defaultdict(dict)

    def add(day: date, location: int | None, field: str, value: int | Decimal) -> None:
        row = days[(day, location)]
        row[field] = row.get(field, 0) + value

    purchases = Purchase.objects.filter(merchant=merchant).filter(_in_days(merchant, "created_at", start, end))
    for day, location, visits, revenue in (
        purchases.annotate(day=_local_day(merchant, "created_at"))
        .values_list("day", "location_id")
        .annotate(Count("pk"), Sum("amount"))
        .order_by()
    ):
        add(day, location, "visits", visits)
        add(day, location, "revenue", revenue)
    refunds = Refund.objects.filter(merchant=merchant).filter(_in_days(merchant, "created_at", start, end))
    for day, location, amount in (
        refunds.annotate(day=_local_day(merchant, "created_at"))
        .values_list("day", "purchase__location_id")
        .annotate(Sum("amount"))
        .order_by()
    ):
        add(day, location, "refunded", amount)
    entries = Entry.objects.filter(merchant=merchant).filter(_in_days(merchant, "created_at", start, end))
    for day, location, kind, points in (
        entries.annotate(day=_local_day(merchant, "created_at"))
        .values_list("day", "location_id", "kind")
        .annotate(Sum("points"))
        .order_by()
    ):
        field, sign = ENTRY_FIELDS[kind]
        add(day, location, field, sign * points)
    vouchers = Redemption.objects.filter(merchant=merchant)
    issued = vouchers.filter(_in_days(merchant, "created_at", start, end))
    for day, location, count in (
        issued.annotate(day=_local_day(merchant, "created_at"))
        .values_list("day", "location_id")
        .annotate(Count("pk"))
        .order_by()
    ):
        add(day, location, "vouchers_issued", count)
    used = vouchers.filter(_in_days(merchant, "used_at", start, end))
    for day, location, count in (
        used.annotate(day=_local_day(merchant, "used_at"))
        .values_list("day", "location_id")
        .annotate(Count("pk"))
        .order_by()
    ):
        add(day, location, "vouchers_used", count)
    changes = TierChange.objects.filter(merchant=merchant).filter(_in_days(merchant, "created_at", start, end))
    for day, reason, before, after in changes.annotate(day=_local_day(merchant, "created_at")).values_list(
        "day", "reason", "from_tier__threshold", "to_tier__threshold"
    ):
        up = reason == "paid" or (reason != "lapsed" and after is not None and (before is None or after > before))
        add(day, None, "promotions" if up else "demotions", 1)
    rows = (
        ActivityDay(merchant=merchant, day=day, location_id=location, **fields)
        for (day, location), fields in days.items()
    )
    counted = _replace(ActivityDay, merchant, start, end, rows)
    _rewards_refresh(merchant, start, end)
    return counted


def _rewards_refresh(merchant: Merchant, start: date | None, end: date) -> int:
    cells: dict[tuple[date, int | None, int], dict] = defaultdict(lambda: {"issued": 0, "used": 0, "points": 0})
    vouchers = Redemption.objects.filter(merchant=merchant)
    for day, location, reward, count, points in (
        vouchers.filter(_in_days(merchant, "created_at", start, end))
        .annotate(day=_local_day(merchant, "created_at"))
        .values_list("day", "location_id", "reward_id")
        .annotate(Count("pk"), Sum("points"))
        .order_by()
    ):
        cells[(day, location, reward)].update(issued=count, points=points)
    for day, location, reward, count in (
        vouchers.filter(_in_days(merchant, "used_at", start, end))
        .annotate(day=_local_day(merchant, "used_at"))
        .values_list("day", "location_id", "reward_id")
        .annotate(Count("pk"))
        .order_by()
    ):
        cells[(day, location, reward)]["used"] = count
    rows = (
        RewardDay(merchant=merchant, day=day, location_id=location, reward_id=reward, **fields)
        for (day, location, reward), fields in cells.items()
    )
    return _replace(RewardDay, merchant, start, end, rows)


# ---------------------------------------------------------------------------------------------
# Standings: distinct members over rolling windows, from one pass over the purchases


class _Days:
    """Counts per day from start to end, set through a difference array: +1 where a stretch begins.

    Days are ordinals (date.toordinal()): plain integers keep the pass over a year of purchases quick.
    """

    def __init__(self, start: int, end: int) -> None:
        self.start, self.length = start, end - start + 1
        self.diff = [0] * (self.length + 1)

    def cover(self, stretches: Iterable[tuple[int, int]]) -> None:
        """Count 1 on each day of the stretches (sorted by start; overlapping ones count once)."""
        low = high = None
        for first, last in stretches:
            if high is not None and first <= high + 1:
                if last > high:
                    high = last
                continue
            if high is not None:
                self._add(low, high)
            low, high = first, last
        if high is not None:
            self._add(low, high)

    def _add(self, first: int, last: int) -> None:
        begin = first - self.start if first > self.start else 0
        stop = last - self.start if last - self.start < self.length else self.length - 1
        if begin <= stop:
            self.diff[begin] += 1
            self.diff[stop + 1] -= 1

    def totals(self) -> list[int]:
        running, out = 0, []
        for change in self.diff[: self.length]:
            running += change
            out.append(running)
        return out


def _cover_member(named: dict[str, _Days], days: list[int]) -> None:
    """Count one member's purchase days (ordinals, sorted, a day twice for two visits) in each window."""
    distinct = sorted(set(days))
    for window in WINDOWS:
        named[f"active_{window}"].cover((day, day + window - 1) for day in distinct)
    # Bought twice within 90 days: from the second purchase until 90 days after the first.
    named["repeat_90"].cover((later, earlier + 89) for earlier, later in pairwise(days) if later <= earlier + 89)
    # Bought in the 90 days before the last 90 and again since: a purchase and the next one.
    named["retained"].cover(
        (max(later, earlier + 90), min(earlier + 179, later + 89))
        for earlier, later in pairwise(distinct)
        if max(later, earlier + 90) <= min(earlier + 179, later + 89)
    )


def standings_refresh(*, merchant: Merchant, start: date | None, end: date) -> int:
    purchases = Purchase.objects.filter(merchant=merchant)
    # Rows begin on the day of the shop's first purchase, however the range was asked for.
    first = purchases.aggregate(first=Min("created_at"))["first"]
    if first is None:
        return _replace(Standing, merchant, start, end, [])
    start = max(start or date.min, min(local_today(merchant, first), end))
    since = day_start(merchant, start - timedelta(days=LOOKBACK))
    rows = (
        purchases.filter(created_at__gte=since, created_at__lt=days_range(merchant, end, end)[1])
        .annotate(day=_local_day(merchant, "created_at"))
        .order_by("account_id", "created_at")
        .values_list("account_id", "day", "location_id")
    )
    names = ("active_30", "active_90", "active_180", "repeat_90", "retained")
    # A row for every day, for the whole shop and each location, zeros included: a card reads the
    # row of its last day, and a location nobody bought at lately must read zero, not an old count.
    keys = [None, *Location.objects.for_merchant(merchant).values_list("pk", flat=True)]
    counters = {key: {name: _Days(start.toordinal(), end.toordinal()) for name in names} for key in keys}
    for _account, lines in groupby(rows.iterator(chunk_size=10_000), key=lambda row: row[0]):
        by_location: dict[int | None, list[int]] = defaultdict(list)
        for _, day, location in lines:
            ordinal = day.toordinal()
            by_location[None].append(ordinal)
            if location is not None and location in counters:
                by_location[location].append(ordinal)
        for location, days in by_location.items():
            _cover_member(counters[location], days)
    made = []
    for location, named in counters.items():
        totals = {name: days.totals() for name, days in named.items()}
        for offset in range((end - start).days + 1):
            active_90 = totals["active_90"][offset]
            made.append(
                Standing(
                    merchant=merchant,
                    day=start + timedelta(days=offset),
                    location_id=location,
                    active_30=totals["active_30"][offset],
                    active_90=active_90,
                    repeat_90=totals["repeat_90"][offset],
                    lapsed=totals["active_180"][offset] - active_90,
                    retained=totals["retained"][offset],
                )
            )
    return _replace(Standing, merchant, start, end, made)


# ---------------------------------------------------------------------------------------------
# Cohorts: of the members who joined in a month, how many bought in each month after


def cohorts_refresh(*, merchant: Merchant, start: date | None, end: date) -> int:
    first_month = start.replace(day=1) if start else None
    purchases = Purchase.objects.filter(merchant=merchant).filter(_in_days(merchant, "created_at", first_month, end))
    cells = (
        purchases.annotate(
            cohort=TruncMonth("account__member__joined_at", tzinfo=merchant.tzinfo),
            month=TruncMonth("created_at", tzinfo=merchant.tzinfo),
        )
        .values_list("cohort", "month")
        .order_by()
    )
    every = cells.annotate(members=Count("account_id", distinct=True))
    by_location = cells.values_list("cohort", "month", "account__member__location_id").annotate(
        members=Count("account_id", distinct=True)
    )
    rows = [
        *(CohortMonth(merchant=merchant, cohort=_date(c), month=_date(m), members=n) for c, m, n in every),
        *(
            CohortMonth(merchant=merchant, cohort=_date(c), month=_date(m), location_id=loc, members=n)
            for c, m, loc, n in by_location
            if loc is not None
        ),
    ]
    return _replace(CohortMonth, merchant, first_month, end, rows, field="month")


def _date(value: date | datetime) -> date:
    """TruncMonth on a DateTimeField gives an aware datetime at the start of the month."""
    return value.date() if isinstance(value, datetime) else value


# ---------------------------------------------------------------------------------------------
# Liability: the points members hold and what will expire soon


def liability_count(*, merchant: Merchant, now: datetime) -> Liability:
    accounts = Account.objects.filter(merchant=merchant)
    outstanding = accounts.aggregate(total=Sum("balance"))["total"] or 0
    tiers = {str(tier or ""): count for tier, count in accounts.values_list("tier_id").annotate(Count("pk")).order_by()}
    expiring_30, expiring_90 = _expiring(merchant, now)
    liability, _ = Liability.objects.update_or_create(
        merchant=merchant,
        defaults={
            "outstanding": outstanding,
            "expiring_30": expiring_30,
            "expiring_90": expiring_90,
            "members_by_tier": tiers,
            "counted_at": now,
        },
    )
    return liability


def _expiring(merchant: Merchant, now: datetime) -> tuple[int, int]:
    """Points that will expire within 30 and 90 days if members neither buy nor redeem meanwhile."""
    program = program_for(merchant)
    if program.expiry_mode == ExpiryMode.AFTER_INACTIVITY:
        return _idle_balance(merchant, program, now + timedelta(days=30)), _idle_balance(
            merchant, program, now + timedelta(days=90)
        )
    if program.expiry_mode != ExpiryMode.AFTER_EARNING:
        return 0, 0
    # As the expiry job reads the ledger (rewards.ledger._expire_batch), for every account with a
    # credit falling due within 90 days: what is left of its credits due by each date. The accounts
    # come first (the credit-expiry index finds them), then each one's lines through the account
    # index: a plan that stays right even before the statistics know how big the shop is.
    table = Entry._meta.db_table
    walks, params = [], []
    for _days in (30, 90):
        counted = "CASE WHEN points < 0 OR expires_at <= %s THEN points ELSE 0 END"
        walks.append(f"{counted} AS counted_{_days}, SUM({counted}) OVER w AS running_{_days}")
    dues = ", ".join(f"SUM(counted_{d}) - LEAST(MIN(running_{d}), 0) AS due_{d}" for d in (30, 90))
    sql = (
        f"WITH due_accounts AS MATERIALIZED ("  # noqa: S608 (only placeholders are interpolated)
        f" SELECT DISTINCT account_id FROM {table} WHERE merchant_id = %s AND points > 0"
        f" AND expires_at > %s AND expires_at <= %s) "
        f"SELECT COALESCE(SUM(CASE WHEN due_30 > 0 THEN due_30 ELSE 0 END), 0),"
        f" COALESCE(SUM(CASE WHEN due_90 > 0 THEN due_90 ELSE 0 END), 0) FROM ("
        f" SELECT {dues} FROM ("
        f"  SELECT e.account_id, {', '.join(walks)}"
        f"  FROM due_accounts d JOIN {table} e ON e.account_id = d.account_id"
        f"  WINDOW w AS (PARTITION BY e.account_id ORDER BY e.id)"
        f" ) AS walk GROUP BY account_id) AS dues"
    )
    if connection.vendor == "sqlite":
        sql = sql.replace("LEAST(", "MIN(")
    adapt = connection.ops.adapt_datetimefield_value
    at_30, at_90 = adapt(now + timedelta(days=30)), adapt(now + timedelta(days=90))
    params = [merchant.pk, adapt(now), at_90, at_30, at_30, at_90, at_90]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        due_30, due_90 = cursor.fetchone()
    return int(due_30), int(due_90)


def _idle_balance(merchant: Merchant, program, until: datetime) -> int:
    """Points of members who will have gone the program's months without a visit by `until`."""
    cutoff = day_start(merchant, add_months(local_today(merchant, until), -program.expiry_months))
    idle = Account.objects.filter(merchant=merchant, balance__gt=0).filter(
        Q(last_activity_at__lt=cutoff) | Q(last_activity_at__isnull=True, created_at__lt=cutoff)
    )
    return idle.aggregate(total=Sum("balance"))["total"] or 0


def rollups_after_import(*, merchant: Merchant) -> None:
    """An import brings members with their join dates (any day in the past) and opening balances
    (today): recount every day's enrolment, today's activity and the points held. Purchases, and so
    standings and cohorts, are not touched by an import."""
    now = timezone.now()
    today = local_today(merchant, now)
    enrolment_refresh(merchant=merchant)
    activity_refresh(merchant=merchant, start=today, end=today)
    liability_count(merchant=merchant, now=now)
