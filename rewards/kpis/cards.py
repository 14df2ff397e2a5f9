"""The numbers of the dashboard's cards owned by rewards: activity, redemption, retention, liability, tiers.

Each card reads the rollups (rewards.kpis.models) for its window and the one before it: a few
hundred small rows at most, never the ledger.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum

from members.models import EnrolmentDay
from merchants.models import Merchant
from merchants.periods import Window, buckets, change
from rewards.ledger import add_months, program_for
from rewards.models import Program, Reward, Tier

from .models import ActivityDay, CohortMonth, Liability, RewardDay, RollupState, Standing

SUMMED = (
    "visits",
    "revenue",
    "refunded",
    "points_earned",
    "points_imported",
    "points_redeemed",
    "points_expired",
    "points_reversed",
    "points_adjusted",
    "vouchers_issued",
    "vouchers_used",
    "promotions",
    "demotions",
)
TOP_REWARDS = 5
COHORT_MONTHS = 12


def _ratio(part: int | Decimal | None, whole: int | Decimal | None) -> float | None:
    return float(part) / float(whole) if part is not None and whole else None


@dataclass
class Totals:
    """The rollup's sums over a window, and its days for the charts."""

    sums: dict[str, int | Decimal]
    days: dict[date, dict[str, int | Decimal]]

    def __getattr__(self, name: str) -> int | Decimal:
        try:
            return self.sums[name]
        except KeyError:
            raise AttributeError(name) from None

    def per_day(self, name: str) -> dict[date, int | Decimal]:
        return {day: values.get(name, 0) for day, values in self.days.items()}


def _activity(merchant: Merchant, window: Window) -> tuple[Totals, Totals]:
    """This window's sums and the previous window's, in one query."""
    previous = window.previous
    rows = ActivityDay.objects.for_merchant(merchant).filter(day__gte=previous.start, day__lte=window.end)
    if window.location:
        rows = rows.filter(location=window.location)
    current, before = Totals(dict.fromkeys(SUMMED, 0), {}), Totals(dict.fromkeys(SUMMED, 0), {})
    for row in rows.values("day", *SUMMED).order_by():
        target = current if row["day"] >= window.start else before
        day = target.days.setdefault(row["day"], dict.fromkeys(SUMMED, 0))
        for name in SUMMED:
            target.sums[name] += row[name]
            day[name] += row[name]
    return current, before


def _standing(merchant: Merchant, day: date, location_id: int | None) -> Standing:
    """The standing at the end of `day`: its own row, or the last one counted before it (the job has
    not run since), or none yet (nothing bought)."""
    found = Standing.objects.for_merchant(merchant).filter(day__lte=day, location_id=location_id).order_by("-day")
    return found.first() or Standing(day=day, location_id=location_id)


@dataclass
class ActivityCard:
    window: Window
    now: Totals
    before: Totals
    active_30: int
    active_30_before: int
    active_90: int
    active_90_before: int
    repeat_90: int
    visits_90: int
    trend: list[tuple[date, int]] = field(default_factory=list)
    trend_before: list[tuple[date, int]] = field(default_factory=list)
    revenue_trend: list[tuple[date, Decimal]] = field(default_factory=list)
    revenue_trend_before: list[tuple[date, Decimal]] = field(default_factory=list)

    @property
    def average_spend(self) -> Decimal | None:
        return self.now.revenue / self.now.visits if self.now.visits else None

    @property
    def average_spend_before(self) -> Decimal | None:
        return self.before.revenue / self.before.visits if self.before.visits else None

    @property
    def visits_per_member(self) -> float | None:
        """Visits in the last 90 days per member who came in those 90 days."""
        return _ratio(self.visits_90, self.active_90)

    @property
    def repeat_rate(self) -> float | None:
        """Of the members who bought in the last 90 days, the share who bought at least twice."""
        return _ratio(self.repeat_90, self.active_90)

    @property
    def changes(self) -> dict[str, float | None]:
        return {name: self.change(name) for name in ("active_30", "active_90", "visits", "revenue", "average_spend")}

    def change(self, name: str) -> float | None:
        if name in ("active_30", "active_90"):
            return change(getattr(self, name), getattr(self, f"{name}_before"))
        if name == "average_spend":
            return change(self.average_spend, self.average_spend_before)
        return change(getattr(self.now, name), getattr(self.before, name))


def activity_card(*, merchant: Merchant, window: Window) -> ActivityCard:
    now, before = _activity(merchant, window)
    location = window.location_id
    standing, standing_before = (
        _standing(merchant, window.end, location),
        _standing(merchant, window.previous.end, location),
    )
    last_90 = ActivityDay.objects.for_merchant(merchant).filter(
        day__gt=window.end - timedelta(days=90), day__lte=window.end
    )
    if window.location:
        last_90 = last_90.filter(location=window.location)
    return ActivityCard(
        window=window,
        now=now,
        before=before,
        active_30=standing.active_30,
        active_30_before=standing_before.active_30,
        active_90=standing.active_90,
        active_90_before=standing_before.active_90,
        repeat_90=standing.repeat_90,
        visits_90=last_90.aggregate(visits=Sum("visits"))["visits"] or 0,
        trend=buckets(window, now.per_day("visits")),
        trend_before=buckets(window.previous, before.per_day("visits")),
        revenue_trend=buckets(window, now.per_day("revenue")),
        revenue_trend_before=buckets(window.previous, before.per_day("revenue")),
    )


@dataclass
class TopReward:
    name: str
    issued: int
    used: int
    points: int


@dataclass
class RedemptionCard:
    window: Window
    now: Totals
    before: Totals
    top: list[TopReward]
    earned_trend: list[tuple[date, int]]
    redeemed_trend: list[tuple[date, int]]

    @property
    def rate(self) -> float | None:
        """Points redeemed for every point earned in the window."""
        return _ratio(self.now.points_redeemed, self.now.points_earned)

    @property
    def rate_before(self) -> float | None:
        return _ratio(self.before.points_redeemed, self.before.points_earned)

    @property
    def changes(self) -> dict[str, float | None]:
        names = ("points_earned", "points_redeemed", "rate", "vouchers_issued", "vouchers_used")
        return {name: self.change(name) for name in names}

    def change(self, name: str) -> float | None:
        if name == "rate":
            return change(self.rate, self.rate_before)
        return change(getattr(self.now, name), getattr(self.before, name))


def redemption_card(*, merchant: Merchant, window: Window) -> RedemptionCard:
    now, before = _activity(merchant, window)
    rows = RewardDay.objects.for_merchant(merchant).filter(day__gte=window.start, day__lte=window.end)
    if window.location:
        rows = rows.filter(location=window.location)
    sums = rows.values("reward_id").annotate(issued=Sum("issued"), used=Sum("used"), points=Sum("points")).order_by()
    names = dict(Reward.objects.for_merchant(merchant).values_list("pk", "name"))
    top = sorted(
        (TopReward(names.get(row["reward_id"], ""), row["issued"], row["used"], row["points"]) for row in sums),
        key=lambda reward: (-reward.issued, -reward.used, reward.name),
    )[:TOP_REWARDS]
    return RedemptionCard(
        window=window,
        now=now,
        before=before,
        top=top,
        earned_trend=buckets(window, now.per_day("points_earned")),
        redeemed_trend=buckets(window, now.per_day("points_redeemed")),
    )


@dataclass
class Cohort:
    month: date
    size: int
    buyers: list[int | None]  # by months since joining: 0 the month they joined; None: not reached yet

    def shares(self) -> list[float | None]:
        return [None if n is None else _ratio(n, self.size) or 0.0 for n in self.buyers]


@dataclass
class RetentionCard:
    window: Window
    cohorts: list[Cohort]
    retained: int  # bought in the 90 days before the last 90 and again since
    lapsed: int  # bought in the 90 days before the last 90, not since
    retained_before: int
    lapsed_before: int

    @property
    def retention(self) -> float | None:
        return _ratio(self.retained, self.retained + self.lapsed)

    @property
    def retention_before(self) -> float | None:
        return _ratio(self.retained_before, self.retained_before + self.lapsed_before)

    @property
    def changes(self) -> dict[str, float | None]:
        return {name: self.change(name) for name in ("retention", "lapsed")}

    def change(self, name: str) -> float | None:
        if name == "retention":
            return change(self.retention, self.retention_before)
        return change(getattr(self, name), getattr(self, f"{name}_before"))


def retention_card(*, merchant: Merchant, window: Window) -> RetentionCard:
    last = window.end.replace(day=1)
    first = add_months(last, -(COHORT_MONTHS - 1))
    cells = CohortMonth.objects.for_merchant(merchant).filter(
        cohort__gte=first, cohort__lte=last, month__lte=last, location_id=window.location_id
    )
    joined = EnrolmentDay.objects.for_merchant(merchant).filter(day__gte=first, day__lt=add_months(last, 1))
    if window.location:
        joined = joined.filter(location=window.location)
    sizes: dict[date, int] = defaultdict(int)
    for day, count in joined.values_list("day", "members"):
        sizes[day.replace(day=1)] += count
    bought = {(cohort, month): n for cohort, month, n in cells.values_list("cohort", "month", "members")}
    cohorts = []
    month = first
    while month <= last:
        reached = (last.year - month.year) * 12 + last.month - month.month + 1
        cohorts.append(
            Cohort(month, sizes.get(month, 0), [bought.get((month, add_months(month, k)), 0) for k in range(reached)])
        )
        month = add_months(month, 1)
    standing = _standing(merchant, window.end, window.location_id)
    standing_before = _standing(merchant, window.previous.end, window.location_id)
    return RetentionCard(
        window=window,
        cohorts=[cohort for cohort in cohorts if cohort.size],
        retained=standing.retained,
        lapsed=standing.lapsed,
        retained_before=standing_before.retained,
        lapsed_before=standing_before.lapsed,
    )


@dataclass
class LiabilityCard:
    window: Window
    program: Program
    outstanding: int
    outstanding_before: int  # at the end of the previous window
    expiring_30: int
    expiring_90: int
    now: Totals
    trend: list[tuple[date, int]]
    counted_at: object

    def value(self, points: int) -> Decimal:
        return (Decimal(points) * self.program.point_value).quantize(Decimal("0.01"))

    @property
    def outstanding_value(self) -> Decimal:
        return self.value(self.outstanding)

    @property
    def breakage(self) -> float | None:
        """Points that expired for every point earned in the window."""
        return _ratio(self.now.points_expired, self.now.points_earned)

    @property
    def cost(self) -> Decimal:
        """What the rewards given in the window cost: the points redeemed at the point's value."""
        return self.value(self.now.points_redeemed)

    @property
    def cost_share(self) -> float | None:
        return _ratio(self.cost, self.now.revenue)

    @property
    def outstanding_change(self) -> float | None:
        return change(self.outstanding, self.outstanding_before)


def liability_card(*, merchant: Merchant, window: Window) -> LiabilityCard:
    """Points are held by members, not by locations: the points figures are for the whole shop; the
    cost share follows the location filter."""
    now, _before = _activity(merchant, window)
    every = ActivityDay.objects.for_merchant(merchant)
    fields = (
        "points_earned",
        "points_imported",
        "points_adjusted",
        "points_redeemed",
        "points_expired",
        "points_reversed",
    )
    opening = every.filter(day__lt=window.start).aggregate(**{name: Sum(name) for name in fields})
    held = sum((opening[name] or 0) * (-1 if name in fields[3:] else 1) for name in fields)
    daily: dict[date, int] = defaultdict(int)
    for day, *points in every.filter(day__gte=window.start, day__lte=window.end).values_list("day", *fields):
        daily[day] += sum(points[:3]) - sum(points[3:])  # ActivityDay.points_net, without making the rows
    held_before = held
    running, by_day = held, {}
    for day in window.dates():
        running += daily.get(day, 0)
        by_day[day] = running
    trend = [(start, by_day[min(_step_end(start, window), window.end)]) for start, _ in buckets(window, {})]
    liability = Liability.objects.filter(merchant=merchant).first() or Liability(merchant=merchant)
    return LiabilityCard(
        window=window,
        program=program_for(merchant),
        outstanding=running,
        outstanding_before=held_before,
        expiring_30=liability.expiring_30,
        expiring_90=liability.expiring_90,
        now=now,
        trend=trend,
        counted_at=liability.counted_at if liability.pk else None,
    )


def _step_end(start: date, window: Window) -> date:
    """The last day of the step (day, week or month) that begins on `start`."""
    step = window.step
    if step == "week":
        return start + timedelta(days=6)
    if step == "month":
        return add_months(start, 1) - timedelta(days=1)
    return start


@dataclass
class TierCount:
    name: str
    members: int


@dataclass
class TiersCard:
    window: Window
    tiers: list[TierCount]
    now: Totals
    before: Totals
    counted_at: object

    @property
    def changes(self) -> dict[str, float | None]:
        return {
            name: change(getattr(self.now, name), getattr(self.before, name)) for name in ("promotions", "demotions")
        }


def tiers_card(*, merchant: Merchant, window: Window, no_tier: str) -> TiersCard:
    now, before = _activity(merchant, Window(window.start, window.end))  # tier changes have no location
    liability = Liability.objects.filter(merchant=merchant).first()
    counts = liability.members_by_tier if liability else {}
    tiers = [TierCount(no_tier, counts.get("", 0))] if counts.get("") else []
    for tier in Tier.objects.for_merchant(merchant):
        tiers.append(TierCount(tier.name, counts.get(str(tier.pk), 0)))
    return TiersCard(
        window=window, tiers=tiers, now=now, before=before, counted_at=liability.counted_at if liability else None
    )


def refreshed_at(*, merchant: Merchant) -> object:
    state = RollupState.objects.filter(merchant=merchant).first()
    return state.refreshed_at if state else None
