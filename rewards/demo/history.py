"""The demo shop's history, simulated member by member under the ledger's own rules.

Each member's events (joining, visits, redemptions, refunds, the nightly birthday, tier and expiry
runs) are replayed in time order against an in-memory account that applies the same arithmetic as
rewards.ledger: so the rows satisfy the ledger's invariants exactly, without a service call per row.
Rows are tuples; ids inside a batch are batch-local until bulk.py writes them.
"""

import heapq
import random
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from math import log

from members.models import Source
from merchants.actors import ActorKind
from rewards.models import Kind, RewardKind, VoucherStatus

from .people import code, person
from .shop import (
    COUNTER_CASHIER,
    COUNTER_OWNER,
    IMPORTED,
    SIGNUP,
    WEEKDAY,
    WEEKDAY_PEAK,
    Batch,
    Roster,
    Shop,
    TierRule,
    time_of_day,
)

SOURCES = {
    COUNTER_CASHIER: Source.COUNTER,
    COUNTER_OWNER: Source.COUNTER,
    SIGNUP: Source.SIGNUP,
    IMPORTED: Source.IMPORT,
}
ADJUST_UP = ["Coins lost in washer 5", "Goodwill: dryer 2 did not heat", "Points missed on an earlier receipt"]
ADJUST_DOWN = ["Purchase recorded twice", "Receipt keyed in with the wrong amount"]
REFUND_REASONS = ["Washer stopped mid-cycle", "Charged twice", "Dryer did not heat", ""]
VOID_REASONS = ["Customer changed their mind", "Issued by mistake", ""]

# Event kinds; at equal times the heap falls back to the order they were scheduled in.
VISIT, BIRTHDAY, REVIEW, EXPIRE, REFERRED, REFUND, VOID, ADJUST = range(8)


class MemberHistory:
    """One member's account, replayed event by event; appends its rows to the batch."""

    def __init__(self, shop: Shop, roster: Roster, batch: Batch, index: int) -> None:
        self.shop, self.roster, self.batch, self.index = shop, roster, batch, index
        self.rng = random.Random(shop.seed * 1_000_003 + index)  # noqa: S311 (made-up demo data)
        self.events: list[tuple[int, int, int, int]] = []
        self.sequence = 0
        self.clock = 0  # the last time written: rows of one account never go back in time
        self.balance = self.lifetime_earned = self.lifetime_spend = self.purchase_count = 0
        self.debits = self.credits_due = 0  # for the expiry rule: all debits, credits due so far
        self.credits: list[tuple[int, int]] = []  # (expires_at, points), soonest first
        self.expiry_runs: set[int] = set()
        self.window: list[list] = []  # purchases in the tier window (refunds lower their net amount)
        self.window_head = 0
        self.window_total = 0
        self.tier: TierRule | None = None
        self.tier_until: int | None = None  # day index
        self.paid: TierRule | None = None
        self.paid_until: int | None = None
        self.day = self.day_earned = None
        self.last_activity = self.last_purchase = None

    # -------------------------------------------------------------------------- schedule

    def push(self, t: int, kind: int, payload: int = 0) -> None:
        if t <= self.shop.now:
            self.sequence += 1
            heapq.heappush(self.events, (t, self.sequence, kind, payload))

    def push_job(self, d: int, kind: int) -> None:
        """The nightly work of day d, if it has run by now (birthdays, then tiers, then expiry)."""
        if d <= self.shop.last_run_day:
            self.push(self.shop.cal.job(d) + {BIRTHDAY: 0, REVIEW: 1, EXPIRE: 2}[kind], kind, d)

    def at(self, t: int) -> int:
        self.clock = max(self.clock, t)
        return self.clock

    # -------------------------------------------------------------------------- the member

    def run(self) -> None:
        shop, roster, rng, index = self.shop, self.roster, self.rng, self.index
        who = person(shop.seed, index)
        self.name = who.name
        joined, channel = roster.joined[index], roster.channel[index]
        self.home = shop.locations[roster.home[index] % len(shop.locations)]
        self.member_id = shop.member_base + index
        ref = roster.referrer[index]
        enroller = {COUNTER_CASHIER: shop.cashier, COUNTER_OWNER: shop.owner, IMPORTED: shop.owner}.get(channel)
        self.batch.members.append(
            (
                self.member_id,
                shop.merchant_id,
                who.first_name,
                who.last_name,
                who.phone,
                who.email,
                who.birthday,
                who.language,
                code(index, 10, shop.seed),
                code(index, 6, shop.seed + 1),
                shop.member_base + ref if ref >= 0 else None,
                SOURCES[channel],
                enroller[1] if enroller else None,
                self.home if enroller else None,
                "",
                joined,
                False,  # marketing consent: none recorded for the demo members
                False,
                code(index, 22, shop.seed + 2),  # the private card link's key
                None,
                None,
            )
        )
        actor = enroller or (ActorKind.MEMBER, None, who.name)
        if channel == IMPORTED:
            opening = rng.choice((30, 50, 80, 100, 150))
            self.entry(
                joined,
                Kind.IMPORT,
                opening,
                shop.owner,
                expires=shop.import_expiry,
                key=f"import:{self.member_id}",
                reason="Opening balance from the paper stamp card",
            )
        welcome = self.shop.rules.welcome
        if welcome:
            self.entry(
                joined,
                Kind.BONUS,
                welcome,
                actor,
                reason=shop.text.welcome,
                key=f"welcome:{self.member_id}",
                location=self.home if enroller else None,
            )
        self.plan(who.birthday, joined, channel)
        while self.events:
            t, _sequence, kind, payload = heapq.heappop(self.events)
            HANDLERS[kind](self, t, payload)
        self.close(joined)

    def plan(self, birthday: date | None, joined: int, channel: int) -> None:
        """Schedule the member's life: visits at their own pace until they lapse, birthdays, referrals."""
        shop, rng, cal = self.shop, self.rng, self.shop.cal
        rate = min(max(rng.lognormvariate(log(0.33), 0.65), 0.05), 3.0)  # visits a week
        self.spend = min(max(rng.lognormvariate(log(15), 0.3), 6.0), 45.0)  # typical RM a visit
        self.redeem_urge = rng.choice((0.0, 0.1, 0.3, 0.3, 0.6))  # some never redeem: their points expire
        self.club_fan = rng.random() < 0.06
        churn = rng.random()
        end = shop.now
        if churn < 0.45:
            end = joined + int(rng.expovariate(1 / (150 * 86400)))  # lapsed: stops coming
        first = None if channel == IMPORTED else self.roster.first_purchase(self.index)
        visits = [] if churn < 0.15 else self.visits(first or joined, min(end, shop.now), rate)
        for t in ([first] if first else []) + visits:
            self.push(t, VISIT)
        if birthday:
            for year in range(cal.date(cal.day(joined)).year, cal.date(shop.last_run_day).year + 1):
                day = (
                    birthday.replace(year=year)
                    if birthday.month != 2 or birthday.day != 29 or _leap(year)
                    else date(year, 2, 28)
                )
                d = cal.index(day)
                if cal.job(d) > joined:
                    self.push_job(d, BIRTHDAY)
        for referee in self.roster.inbound.get(self.index, ()):
            self.push(self.roster.first_purchase(referee), REFERRED, referee)
        if visits and rng.random() < 0.025:
            self.push(rng.choice(visits) + rng.randrange(3600, 2 * 86400), ADJUST)

    def visits(self, start: int, end: int, rate: float) -> list[int]:
        """Visit times after `start`: a Poisson process thinned by the weekday's weight."""
        cal, rng = self.shop.cal, self.rng
        per_day = rate / 7 * WEEKDAY_PEAK
        x, last = float(cal.day(start)), cal.day(end)
        times = []
        while True:
            x += rng.expovariate(per_day)
            d = int(x)
            if d > last:
                break
            weekday = (cal.weekday0 + d) % 7
            if rng.random() * WEEKDAY_PEAK >= WEEKDAY[weekday]:
                continue
            t = cal.midnights[d] + time_of_day(rng, weekday >= 5)
            if start < t <= end:
                times.append(t)
        times.sort()
        return times

    # -------------------------------------------------------------------------- the ledger's arithmetic

    def entry(
        self,
        t: int,
        kind: str,
        points: int,
        actor: tuple,
        *,
        reason: str = "",
        expires: int | None = None,
        key: str | tuple | None = None,
        location: int | None = None,
        purchase: int | None = None,
        refund: int | None = None,
        redemption: int | None = None,
        day: int | None = None,
    ) -> None:
        """ledger._entry: apply the points, keep the running totals, append the ledger line."""
        t = self.at(t)
        cal = self.shop.cal
        self.balance += points
        if points > 0:
            if expires is None:
                expires = cal.expiry(cal.day(t) if day is None else day)
            if kind in (Kind.EARN, Kind.BONUS, Kind.IMPORT):
                self.lifetime_earned += points
            heapq.heappush(self.credits, (expires, points))
            run_day = cal.day(expires)  # the nightly run that starts at that midnight expires them
            if run_day not in self.expiry_runs:
                self.expiry_runs.add(run_day)
                self.push_job(run_day, EXPIRE)
        else:
            self.debits += points
        self.batch.entries.append(
            (
                self.index,
                kind,
                points,
                self.balance,
                expires,
                reason[:200],
                purchase,
                refund,
                redemption,
                location,
                actor[0],
                actor[1],
                actor[2][:120],
                key,
                t,
            )
        )

    def multiplier(self, d: int) -> int:
        best = self.tier.multiplier if self.tier else 100
        if self.paid and self.paid_until is not None and self.paid_until >= d:
            best = max(best, self.paid.multiplier)
        return best

    def advance_window(self, d: int) -> None:
        """Drop purchases that left the rolling window as the review of day d sees it."""
        start, window = self.shop.cal.window_start(d), self.window
        while self.window_head < len(window) and window[self.window_head][-1] < start:
            purchase = window[self.window_head]
            self.window_total -= purchase[1] - purchase[2]
            self.window_head += 1

    def earned_tier(self) -> TierRule | None:
        earned = None
        for tier in self.shop.rules.tiers:  # lowest first
            if tier.threshold > self.window_total:
                break
            earned = tier
        return earned

    def tier_change(self, t: int, old: TierRule | None, new: TierRule | None, reason: str) -> None:
        self.batch.tier_changes.append((self.index, old.id if old else None, new.id if new else None, reason, t))

    def set_tier(self, t: int, d: int, tier: TierRule | None, reason: str | None) -> None:
        if reason:
            self.tier_change(t, self.tier, tier, reason)
        self.tier = tier
        self.tier_until = self.shop.cal.plus_months(d, self.shop.rules.window_months) if tier else None
        if tier:
            self.push_job(self.tier_until, REVIEW)

    # -------------------------------------------------------------------------- events

    def on_visit(self, t: int, _payload: int) -> None:
        shop, rng, cal = self.shop, self.rng, self.shop.cal
        d = cal.day(t)
        location = self.home if rng.random() < 0.85 else shop.locations[rng.randrange(len(shop.locations))]
        actor = shop.cashier if rng.random() < 0.8 else shop.owner
        # At the counter: a reward first (its voucher takes money off this purchase), then the purchase.
        if rng.random() < self.redeem_urge:
            self.redeem(t - 60, d, location, actor)
        if shop.rules.club:
            self.club(t - 30, d, location, actor)
        self.purchase(t, location, actor)

    def purchase(self, t: int, location: int, actor: tuple) -> None:
        """ledger.purchase_record."""
        shop, rng, cal = self.shop, self.rng, self.shop.cal
        t = self.at(t)
        d = cal.day(t)
        amount = int(self.spend * rng.lognormvariate(0, 0.35) * 2 + 0.5) * 50  # RM 0.50 steps: coin machines
        amount = min(max(amount, 500), 6000)
        self.advance_window(d)
        points = amount * self.multiplier(d) // 10000  # 1 point per RM 1, rounded down
        receipt = f"{rng.randrange(10**6):06d}"
        purchase = [self.index, amount, 0, points, 0, receipt, location, actor[0], actor[1], actor[2][:120], t]
        number = len(self.batch.purchases)
        self.batch.purchases.append(purchase)
        if points:
            self.entry(
                t,
                Kind.EARN,
                points,
                actor,
                purchase=number,
                location=location,
                reason=shop.text.receipt % {"receipt": receipt},
                day=d,
            )
        if self.day != d:
            self.day, self.day_earned = d, 0
        self.day_earned += points
        first = self.purchase_count == 0
        self.purchase_count += 1
        self.lifetime_spend += amount
        self.window.append(purchase)
        self.window_total += amount
        self.last_activity = self.last_purchase = t
        best = self.earned_tier()
        if best and (self.tier is None or best.threshold > self.tier.threshold):
            self.set_tier(t, d, best, "earned")
        ref = self.roster.referrer[self.index]
        if first and ref >= 0 and shop.rules.referral:
            self.entry(
                t,
                Kind.BONUS,
                shop.rules.referral,
                actor,
                location=location,
                reason=shop.text.referred_by % {"name": person(shop.seed, ref).name},
                day=d,
                key=f"referral:{self.member_id}:new",
            )
        if rng.random() < 0.006:
            self.push(t + rng.randrange(600, 2 * 86400), REFUND, number)

    def redeem(self, t: int, d: int, location: int, actor: tuple) -> None:
        """ledger.reward_redeem, then the voucher is used at once, voided later or left unused."""
        shop, rng = self.shop, self.rng
        rank = self.tier.threshold if self.tier else -1
        if self.paid and self.paid_until is not None and self.paid_until >= d:
            rank = max(rank, self.paid.threshold)
        choices = [
            r for r in shop.rules.rewards if r.cost <= self.balance and (r.min_tier is None or rank >= r.min_tier)
        ]
        if not choices:
            return
        reward = rng.choice(choices)
        points, discount = reward.cost, 0
        if reward.kind == RewardKind.PAY_WITH_POINTS:
            points = max(min(self.balance, rng.choice((100, 200, 300))) // reward.step * reward.step, reward.cost)
            discount = int((points * shop.rules.point_value * 100).quantize(Decimal(1), rounding=ROUND_FLOOR))
        t = self.at(t)
        number = len(self.batch.redemptions)
        voucher = code(self.batch.vouchers + number, 10, shop.seed + 2)
        redemption = [
            self.index,
            reward.id,
            f"{voucher[:5]}-{voucher[5:]}",
            points,
            discount,
            VoucherStatus.ISSUED,
            t + shop.rules.voucher_days * 86400,
            location,
            actor[0],
            actor[1],
            actor[2][:120],
            None,
            None,
            None,
            None,
            t,
        ]
        self.batch.redemptions.append(redemption)
        self.entry(t, Kind.REDEEM, -points, actor, redemption=number, reason=reward.name, location=location)
        self.last_activity = t
        roll = rng.random()
        if roll < 0.04:
            self.push(t + rng.randrange(3600, 5 * 86400), VOID, number)
        elif roll > 0.12:  # used at the counter right away (the rest are kept, and some run out)
            redemption[11], redemption[12] = t + 30, actor[1]

    def club(self, t: int, d: int, location: int, actor: tuple) -> None:
        """ledger.tier_fee_record: regulars buy the paid tier, and half of them renew in its last fortnight."""
        club, rng, cal = self.shop.rules.club, self.rng, self.shop.cal
        holding = self.paid is not None and self.paid_until is not None and self.paid_until >= d
        if holding:
            if not (self.paid_until - 14 <= d and rng.random() < 0.5):
                return
        elif not (self.club_fan and self.purchase_count >= 2 and rng.random() < 0.3):
            return
        t = self.at(t)
        start = self.paid_until + 1 if holding else d
        end = cal.plus_months(start, club.paid_months) - 1
        if not holding:
            self.tier_change(t, self.tier, club, "paid")
        self.paid, self.paid_until = club, end
        self.batch.tier_fees.append(
            (self.index, club.id, club.fee, cal.date(start), cal.date(end), location, actor[1], t)
        )
        self.push_job(end + 1, REVIEW)  # the night after it ends, the review lets it lapse

    def on_birthday(self, t: int, d: int) -> None:
        """ledger.birthday_bonuses: the nightly job, once a year."""
        year = self.shop.cal.date(d).year
        self.entry(
            t,
            Kind.BONUS,
            self.shop.rules.birthday,
            (ActorKind.JOB, None, "birthday"),
            reason=self.shop.text.birthday,
            day=d,
            key=f"birthday:{self.member_id}:{year}",
        )

    def on_review(self, t: int, d: int) -> None:
        """ledger._settle_tier for the review of day d (it only changes accounts that are due)."""
        self.advance_window(d)
        if self.paid and self.paid_until is not None and self.paid_until < d:
            self.tier_change(self.at(t), self.paid, self.tier, "lapsed")
            self.paid = None
        earned = self.earned_tier()
        current = self.tier
        if earned and (current is None or earned.threshold > current.threshold):
            self.set_tier(self.at(t), d, earned, "review")
        elif current is not None and self.tier_until is not None and self.tier_until <= d:
            same = earned is not None and earned.id == current.id
            self.set_tier(self.at(t), d, earned, None if same else "review")

    def on_expire(self, t: int, d: int) -> None:
        """ledger.points_expire: due = credits expired by now + all debits so far, when positive."""
        while self.credits and self.credits[0][0] <= t:
            self.credits_due += heapq.heappop(self.credits)[1]
        due = self.credits_due + self.debits
        if due > 0:
            self.entry(t, Kind.EXPIRE, -due, (ActorKind.JOB, None, "expiry"), reason=self.shop.text.expired)

    def on_referred(self, t: int, referee: int) -> None:
        """The referrer's side of ledger._referral_bonus, at the new member's first purchase."""
        shop = self.shop
        if not shop.rules.referral:
            return
        home = shop.locations[self.roster.home[referee] % len(shop.locations)]
        self.entry(
            t,
            Kind.BONUS,
            shop.rules.referral,
            shop.cashier,
            location=home,
            reason=shop.text.referral_joined % {"name": person(shop.seed, referee).name},
            key=f"referral:{shop.member_base + referee}:referrer",
        )

    def on_refund(self, t: int, number: int) -> None:
        """ledger.purchase_refund: points back in proportion, never below zero (the rest is shortfall)."""
        rng = self.rng
        purchase = self.batch.purchases[number]
        amount, points = purchase[1], purchase[3]
        refund = amount if rng.random() < 0.6 else max(amount // 100 * 50, 50)
        refunded = purchase[2] + refund
        due = min((2 * points * refunded + amount) // (2 * amount), points) - purchase[4]  # ROUND_HALF_UP
        taken = min(due, self.balance)
        reason = rng.choice(REFUND_REASONS)
        t = self.at(t)
        ref = len(self.batch.refunds)
        owner = self.shop.owner
        self.batch.refunds.append((number, refund, taken, due - taken, reason, owner[0], owner[1], owner[2][:120], t))
        if taken:
            text = self.shop.text.refund % {"amount": f"{refund // 100}.{refund % 100:02d}"}
            self.entry(
                t,
                Kind.REVERSAL,
                -taken,
                owner,
                purchase=number,
                refund=ref,
                location=purchase[6],
                reason=text + (f": {reason}" if reason else ""),
            )
        purchase[2], purchase[4] = refunded, purchase[4] + due
        self.lifetime_spend -= refund
        self.window_total -= refund  # the purchase is days old: still in the window

    def on_void(self, t: int, number: int) -> None:
        """ledger.voucher_void: the points come back as a new credit."""
        redemption = self.batch.redemptions[number]
        t = self.at(t)
        redemption[5], redemption[13], redemption[14] = VoucherStatus.VOIDED, t, self.shop.owner[1]
        reason = self.rng.choice(VOID_REASONS)
        text = self.shop.text.voided % {"code": redemption[2]} + (f": {reason}" if reason else "")
        self.entry(
            t, Kind.REVERSAL, redemption[3], self.shop.owner, redemption=number, reason=text, key=("void", number)
        )

    def on_adjust(self, t: int, _payload: int) -> None:
        """ledger.points_adjust, by the owner, with its audit line."""
        rng = self.rng
        if rng.random() < 0.65 or self.balance == 0:
            points, reason = rng.choice((20, 30, 50, 80)), rng.choice(ADJUST_UP)
        else:
            points, reason = -min(self.balance, rng.choice((10, 20, 50))), rng.choice(ADJUST_DOWN)
        t = self.at(t)
        self.entry(t, Kind.ADJUST, points, self.shop.owner, reason=reason)
        self.batch.adjustments.append((self.index, self.name, points, reason, self.balance, t))

    def close(self, joined: int) -> None:
        """The account row as the ledger would have left it after the last nightly run."""
        shop = self.shop
        self.advance_window(shop.last_run_day)
        cal = shop.cal
        self.batch.accounts.append(
            (
                shop.account_base + self.index,
                shop.merchant_id,
                self.member_id,
                self.balance,
                self.lifetime_earned,
                self.lifetime_spend,
                self.purchase_count,
                self.window_total,
                self.tier.id if self.tier else None,
                cal.date(self.tier_until) if self.tier_until is not None else None,
                self.paid.id if self.paid else None,
                cal.date(self.paid_until) if self.paid_until is not None else None,
                None,
                cal.date(self.day) if self.day is not None else None,
                self.day_earned or 0,
                self.last_activity,
                self.last_purchase,
                "0.00",  # opening spend and visits: the demo history starts here
                0,
                None,  # boost_until: no campaign multiplier yet
                joined,
            )
        )


HANDLERS = {
    VISIT: MemberHistory.on_visit,
    BIRTHDAY: MemberHistory.on_birthday,
    REVIEW: MemberHistory.on_review,
    EXPIRE: MemberHistory.on_expire,
    REFERRED: MemberHistory.on_referred,
    REFUND: MemberHistory.on_refund,
    VOID: MemberHistory.on_void,
    ADJUST: MemberHistory.on_adjust,
}


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
