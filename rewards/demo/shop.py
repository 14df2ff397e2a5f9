"""What a demo history run holds fixed: the program's rules, the shop's calendar, who joined when.

history.py replays each member against these; nothing here touches the database.
"""

import random
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from rewards.ledger import add_months

# Busy weekends: a visit is twice as likely on a Sunday as on a Tuesday (Monday first; mean 1).
WEEKDAY = (0.75, 0.7, 0.75, 0.8, 1.0, 1.45, 1.55)
WEEKDAY_PEAK = max(WEEKDAY)
HOURS = list(range(7, 24))
# Weekdays peak before work and in the evening, weekends through the day.
WEEKDAY_HOURS = (2, 5, 6, 5, 4, 3, 3, 3, 3, 4, 6, 8, 9, 8, 6, 3, 1)
WEEKEND_HOURS = (2, 5, 8, 10, 10, 9, 8, 8, 8, 8, 7, 6, 5, 4, 3, 2, 1)
CUM_WEEKDAY = [sum(WEEKDAY_HOURS[: i + 1]) for i in range(len(HOURS))]
CUM_WEEKEND = [sum(WEEKEND_HOURS[: i + 1]) for i in range(len(HOURS))]
JOB_SECONDS = 300  # the nightly work runs a few minutes after the shop's midnight

# How a member joined, kept per index so another member's history can tell (a referral line).
COUNTER_CASHIER, COUNTER_OWNER, SIGNUP, IMPORTED = range(4)


@dataclass(frozen=True)
class TierRule:
    id: int
    threshold: int  # sen of spend in the window
    multiplier: int  # percent
    fee: int  # sen, for a paid tier
    paid_months: int


@dataclass(frozen=True)
class RewardRule:
    id: int
    name: str
    kind: str
    cost: int
    step: int
    min_tier: int | None  # rank (threshold) the member's tier must reach


@dataclass(frozen=True)
class Rules:
    """The program as the simulation needs it: integers, so earning is exact arithmetic."""

    welcome: int
    birthday: int
    referral: int
    expiry_months: int
    window_months: int
    voucher_days: int
    point_value: Decimal
    tiers: tuple[TierRule, ...]  # earned tiers, lowest first
    club: TierRule | None  # the paid tier
    rewards: tuple[RewardRule, ...]


class Calendar:
    """The shop's local days as integer indexes, each with its midnight in epoch seconds.

    Day arithmetic (month steps, expiry dates, tier windows) goes through dates once per day and is
    cached, so the simulation itself only compares integers.
    """

    def __init__(self, tz: ZoneInfo, first: date, last: date, *, expiry_months: int, window_months: int) -> None:
        self.first = first
        days = (last - first).days + 2
        self.midnights = [
            int(datetime.combine(first + timedelta(days=i), time.min, tzinfo=tz).timestamp()) for i in range(days)
        ]
        self.weekday0 = first.weekday()
        self.expiry_months, self.window_months = expiry_months, window_months
        self._expiry: dict[int, int] = {}
        self._window: dict[int, int] = {}

    def day(self, t: int) -> int:
        return bisect_right(self.midnights, t) - 1

    def date(self, d: int) -> date:
        return self.first + timedelta(days=d)

    def index(self, day: date) -> int:
        return (day - self.first).days

    def job(self, d: int) -> int:
        return self.midnights[d] + JOB_SECONDS

    def plus_months(self, d: int, months: int) -> int:
        return self.index(add_months(self.date(d), months))

    def expiry(self, d: int) -> int:
        """ledger.credit_expiry for a credit on day d: the midnight after the same day N months on."""
        if (at := self._expiry.get(d)) is None:
            at = self._expiry[d] = self.midnights[self.plus_months(d, self.expiry_months) + 1]
        return at

    def window_start(self, d: int) -> int:
        """Where ledger.tier_review's rolling window begins when it runs on day d."""
        if (at := self._window.get(d)) is None:
            at = self._window[d] = self.midnights[self.plus_months(d, -self.window_months)]
        return at


@dataclass(frozen=True)
class Texts:
    """The ledger's reasons, translated once per run: a gettext call per row costs more than the row."""

    welcome: str
    receipt: str
    referred_by: str
    referral_joined: str
    birthday: str
    expired: str
    refund: str
    voided: str


def texts() -> Texts:
    """The same messages rewards.ledger writes, in the active language."""
    return Texts(
        welcome=_("Welcome bonus"),
        receipt=_("Receipt %(receipt)s"),
        referred_by=_("Referral bonus: referred by %(name)s"),
        referral_joined=_("Referral bonus: %(name)s joined"),
        birthday=_("Happy birthday!"),
        expired=_("Points expired"),
        refund=_("Refund of %(amount)s"),
        voided=_("Voucher %(code)s voided"),
    )


@dataclass
class Shop:
    """Everything fixed for the whole run."""

    merchant_id: int
    seed: int
    rules: Rules
    cal: Calendar
    now: int
    last_run_day: int  # the last local day whose nightly work has run by `now`
    locations: list[int]
    cashier: tuple[str, int, str]  # actor (kind, user id, label)
    owner: tuple[str, int, str]
    import_at: int  # when the launch import of the old card holders ran
    import_expiry: int  # their opening balances must be used by then
    member_base: int  # member i has id member_base + i, its account account_base + i
    account_base: int
    text: Texts = field(default_factory=texts)


@dataclass
class Roster:
    """What one member's history needs to know about the others: join time, referrer, channel."""

    joined: array
    referrer: array  # -1: not referred
    channel: bytearray
    home: bytearray  # index into Shop.locations
    inbound: dict[int, list[int]]  # referrer -> members they referred

    def first_purchase(self, index: int) -> int:
        # Members enrol at the counter while paying: the first purchase follows within minutes.
        return self.joined[index] + 60 + (index * 2_654_435_761) % 180


def roster_build(*, seed: int, members: int, cal: Calendar, start: int, end: int, import_at: int) -> Roster:
    """Join times in order (a launch import, then growth), referrers among earlier members."""
    rng = random.Random(f"roster:{seed}")  # noqa: S311 (made-up demo data, reproducible by design)
    imported = members * 15 // 100 if end - start > 30 * 86400 else 0
    first_day, last_day = cal.day(start), cal.day(end)
    times = []
    for _index in range(members - imported):
        while True:
            # u ** 0.8 leans later: the program grows as word gets around.
            d = first_day + int((last_day - first_day) * rng.random() ** 0.8)
            weekday = (cal.weekday0 + d) % 7
            if rng.random() * WEEKDAY_PEAK < WEEKDAY[weekday]:
                break
        t = cal.midnights[d] + time_of_day(rng, weekday >= 5)
        times.append(min(max(t, import_at + 3600), end))
    times.sort()
    joined = array("q", [import_at] * imported + times)
    referrer, channel, home = array("q"), bytearray(), bytearray()
    inbound: dict[int, list[int]] = {}
    for index in range(members):
        if index < imported:
            channel.append(IMPORTED)
        else:
            roll = rng.random()
            channel.append(SIGNUP if roll < 0.15 else COUNTER_OWNER if roll < 0.3 else COUNTER_CASHIER)
        home.append(0 if rng.random() < 0.7 else 1)
        ref = rng.randrange(index) if index >= imported and index > 0 and rng.random() < 0.06 else -1
        referrer.append(ref)
        if ref >= 0:
            inbound.setdefault(ref, []).append(index)
    return Roster(joined, referrer, channel, home, inbound)


def time_of_day(rng: random.Random, weekend: bool) -> int:
    hour = rng.choices(HOURS, cum_weights=CUM_WEEKEND if weekend else CUM_WEEKDAY)[0]
    return hour * 3600 + rng.randrange(3600)


@dataclass
class Batch:
    """Rows of a chunk of members; purchase/refund/redemption references are positions in this batch."""

    members: list[tuple] = field(default_factory=list)
    accounts: list[tuple] = field(default_factory=list)
    purchases: list[list] = field(default_factory=list)
    refunds: list[tuple] = field(default_factory=list)
    redemptions: list[list] = field(default_factory=list)
    entries: list[tuple] = field(default_factory=list)
    tier_changes: list[tuple] = field(default_factory=list)
    tier_fees: list[tuple] = field(default_factory=list)
    adjustments: list[tuple] = field(default_factory=list)  # (member index, name, points, reason, balance, time)
    vouchers: int = 0  # voucher codes handed out before this batch, so codes stay unique across batches
