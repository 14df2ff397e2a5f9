"""The dashboard's numbers on small hand-made histories whose answers are known, and the rollups
against a recount from scratch."""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from members.kpis import enrolment_card
from members.models import EnrolmentDay, Member, Source
from merchants.periods import Window
from rewards import ledger
from rewards.kpis import cards
from rewards.kpis.models import ActivityDay, CohortMonth, RewardDay, Standing
from rewards.kpis.rollups import rollups_rebuild, rollups_refresh
from rewards.models import ExpiryMode, PointsEntry, Purchase, Redemption, TierChange
from tests.factories import LocationFactory, MemberFactory, RewardFactory, TierFactory


@pytest.fixture
def today(merchant) -> date:
    return ledger.local_today(merchant)


@pytest.fixture
def at(merchant):
    """Move a purchase (and its ledger lines) to noon of the shop's day `days` ago."""

    def move(purchase: Purchase, days: int) -> Purchase:
        moment = datetime.combine(ledger.local_today(merchant) - timedelta(days=days), time(12), merchant.tzinfo)
        Purchase.objects.filter(pk=purchase.pk).update(created_at=moment)
        PointsEntry.objects.filter(purchase=purchase).update(created_at=moment)
        return purchase

    return move


@pytest.fixture
def refresh(merchant):
    def run() -> None:
        rollups_rebuild(merchant=merchant)
        rollups_refresh(merchant_id=merchant.pk)

    return run


def window(today: date, days: int = 30, location=None) -> Window:
    return Window(today - timedelta(days=days - 1), today, location)


class TestActivity:
    def test_visits_revenue_and_average_spend_of_the_window(self, merchant, member, buy, at, refresh, today):
        at(buy("10"), 1), at(buy("20"), 2), at(buy("30"), 29)
        at(buy("50"), 31)  # the previous window
        refresh()
        card = cards.activity_card(merchant=merchant, window=window(today))
        assert (card.now.visits, card.now.revenue, card.average_spend) == (3, Decimal(60), Decimal(20))
        assert (card.before.visits, card.before.revenue) == (1, Decimal(50))
        assert card.change("visits") == pytest.approx(2.0)  # 3 against 1: up 200%

    def test_active_members_repeat_rate_and_visits_per_member(self, merchant, program, buy, at, refresh, today):
        a, b, c = (MemberFactory(merchant=merchant) for _ in range(3))
        at(buy("10", member=a), 0), at(buy("10", member=a), 10)  # twice in 30 days
        at(buy("10", member=b), 40)  # within 90 days only
        at(buy("10", member=c), 100)  # neither
        refresh()
        card = cards.activity_card(merchant=merchant, window=window(today))
        assert (card.active_30, card.active_90, card.repeat_90) == (1, 2, 1)
        assert card.visits_per_member == pytest.approx(1.5)  # 3 visits in 90 days, 2 members
        assert card.repeat_rate == pytest.approx(0.5)

    def test_a_location_counts_only_what_happened_there(self, merchant, member, buy, at, refresh, today, cashier_actor):
        elsewhere = LocationFactory(merchant=merchant, name="Elsewhere")
        at(buy("10"), 1)
        at(buy("99", actor=cashier_actor.__class__.for_staff(cashier_actor.staff, location=elsewhere)), 1)
        refresh()
        card = cards.activity_card(merchant=merchant, window=window(today, location=elsewhere))
        assert (card.now.visits, card.now.revenue, card.active_30) == (1, Decimal(99), 1)


class TestRedemption:
    def test_points_earned_redeemed_rate_and_top_rewards(
        self, merchant, member, buy, give, cashier_actor, refresh, today
    ):
        buy("100")  # 100 points
        coffee = RewardFactory(merchant=merchant, name="Coffee", points_cost=20)
        cake = RewardFactory(merchant=merchant, name="Cake", points_cost=30)
        first = ledger.reward_redeem(member=member, reward=coffee, actor=cashier_actor)
        ledger.reward_redeem(member=member, reward=coffee, actor=cashier_actor)
        ledger.reward_redeem(member=member, reward=cake, actor=cashier_actor)
        ledger.voucher_use(redemption=first, actor=cashier_actor)
        refresh()
        card = cards.redemption_card(merchant=merchant, window=window(today))
        assert (card.now.points_earned, card.now.points_redeemed) == (100, 70)
        assert card.rate == pytest.approx(0.7)
        assert (card.now.vouchers_issued, card.now.vouchers_used) == (3, 1)
        assert [(t.name, t.issued, t.used, t.points) for t in card.top] == [("Coffee", 2, 1, 40), ("Cake", 1, 0, 30)]


class TestRetention:
    def test_retained_and_lapsed_members_over_the_two_90_day_windows(self, merchant, program, buy, at, refresh, today):
        back, gone, new = (MemberFactory(merchant=merchant) for _ in range(3))
        at(buy("10", member=back), 120), at(buy("10", member=back), 5)
        at(buy("10", member=gone), 150)
        at(buy("10", member=new), 3)
        refresh()
        card = cards.retention_card(merchant=merchant, window=window(today))
        assert (card.retained, card.lapsed) == (1, 1)
        assert card.retention == pytest.approx(0.5)

    def test_cohorts_share_of_each_months_members_who_bought_later(self, merchant, program, buy, at, refresh, today):
        month = today.replace(day=1)
        joined = datetime.combine(ledger.add_months(month, -1), time(12), merchant.tzinfo)
        one, two = (MemberFactory(merchant=merchant, joined_at=joined) for _ in range(2))
        days_into_month = (today - month).days
        at(buy("10", member=one), days_into_month + 20)  # the month they joined (last month)
        at(buy("10", member=one), 0)  # this month
        at(buy("10", member=two), 0)
        refresh()
        card = cards.retention_card(merchant=merchant, window=window(today))
        cohort = next(c for c in card.cohorts if c.month == ledger.add_months(month, -1))
        assert (cohort.size, cohort.buyers) == (2, [1, 2])
        assert cohort.shares() == [0.5, 1.0]


class TestLiability:
    def test_points_held_their_value_breakage_and_cost(
        self, merchant, member, rules, buy, give, cashier_actor, refresh, today
    ):
        rules(point_value=Decimal("0.05"))
        buy("200")  # 200 points earned, RM200 revenue
        reward = RewardFactory(merchant=merchant, points_cost=40)
        ledger.reward_redeem(member=member, reward=reward, actor=cashier_actor)
        refresh()
        card = cards.liability_card(merchant=merchant, window=window(today))
        assert (card.outstanding, card.outstanding_value) == (160, Decimal("8.00"))
        assert card.cost == Decimal("2.00")  # 40 points at 5 sen
        assert card.cost_share == pytest.approx(0.01)
        assert card.outstanding_before == 0

    def test_points_expiring_in_30_and_90_days(self, merchant, member, rules, buy, refresh):
        rules(expiry_mode=ExpiryMode.AFTER_EARNING, expiry_months=12)
        soon, later, never = (buy(n) for n in ("10", "20", "40"))
        now = timezone.now()
        PointsEntry.objects.filter(purchase=soon).update(expires_at=now + timedelta(days=10))
        PointsEntry.objects.filter(purchase=later).update(expires_at=now + timedelta(days=60))
        PointsEntry.objects.filter(purchase=never).update(expires_at=now + timedelta(days=200))
        refresh()
        card = cards.liability_card(merchant=merchant, window=window(ledger.local_today(merchant)))
        assert (card.expiring_30, card.expiring_90) == (10, 30)

    def test_spent_points_do_not_expire(self, merchant, member, rules, buy, cashier_actor, refresh):
        rules(expiry_mode=ExpiryMode.AFTER_EARNING, expiry_months=12)
        soon = buy("50")
        PointsEntry.objects.filter(purchase=soon).update(expires_at=timezone.now() + timedelta(days=10))
        ledger.reward_redeem(
            member=member, reward=RewardFactory(merchant=merchant, points_cost=30), actor=cashier_actor
        )
        refresh()
        assert cards.liability_card(merchant=merchant, window=window(ledger.local_today(merchant))).expiring_30 == 20


class TestTiers:
    def test_members_per_tier_and_promotions(self, merchant, program, buy, refresh, today):
        TierFactory(merchant=merchant, name="Silver", threshold=Decimal(100))
        rich, poor = MemberFactory(merchant=merchant), MemberFactory(merchant=merchant)
        buy("150", member=rich)
        buy("10", member=poor)
        refresh()
        card = cards.tiers_card(merchant=merchant, window=window(today), no_tier="No tier")
        assert [(t.name, t.members) for t in card.tiers] == [("No tier", 1), ("Silver", 1)]
        assert (card.now.promotions, card.now.demotions) == (1, 0)
        assert TierChange.objects.filter(merchant=merchant).count() == 1


class TestEnrolment:
    def test_new_members_by_channel_and_staff_with_the_total(self, merchant, owner, refresh, today):
        noon = datetime.combine(today, time(12), merchant.tzinfo)
        MemberFactory.create_batch(2, merchant=merchant, source=Source.COUNTER, enrolled_by=owner.user, joined_at=noon)
        MemberFactory(merchant=merchant, source=Source.SIGNUP, joined_at=noon - timedelta(days=3))
        MemberFactory(merchant=merchant, source=Source.IMPORT, joined_at=noon - timedelta(days=45))  # previous window
        MemberFactory(merchant=merchant, source=Source.IMPORT, joined_at=noon - timedelta(days=400))
        refresh()
        card = enrolment_card(merchant=merchant, window=window(today))
        assert (card.new, card.new_previous, card.total, card.total_previous) == (3, 1, 5, 2)
        assert [(c.label, c.current, c.previous) for c in card.channels] == [
            ("Counter", 2, 0),
            ("Sign-up page", 1, 0),
            ("Import", 0, 1),
        ]
        assert [(s.label, s.current) for s in card.staff] == [(str(owner.user), 2)]

    def test_days_follow_the_shops_time_zone(self, merchant, refresh, today):
        # 23:30 in Kuala Lumpur is still today there, though it is the afternoon in UTC.
        late = datetime.combine(today, time(23, 30), merchant.tzinfo)
        MemberFactory(merchant=merchant, joined_at=late)
        refresh()
        assert EnrolmentDay.objects.get(merchant=merchant).day == today


def _rollups(merchant) -> dict[str, list]:
    def rows(model, *fields: str) -> list:
        return sorted(model.objects.filter(merchant=merchant).values_list(*fields), key=repr)

    return {
        "activity": rows(
            ActivityDay,
            "day",
            "location_id",
            "visits",
            "revenue",
            "points_earned",
            "points_redeemed",
            "vouchers_issued",
            "vouchers_used",
            "promotions",
        ),
        "rewards": rows(RewardDay, "day", "location_id", "reward_id", "issued", "used", "points"),
        "standing": rows(Standing, "day", "location_id", "active_30", "active_90", "repeat_90", "lapsed", "retained"),
        "cohorts": rows(CohortMonth, "cohort", "month", "location_id", "members"),
        "enrolment": rows(EnrolmentDay, "day", "location_id", "source", "enrolled_by_id", "members"),
    }


def _backdate(merchant, since: dict[str, int], moment: datetime) -> dict[str, int]:
    """Move what was written after the ids in `since` to `moment`; returns the ids to start from next."""
    models = {"purchase": Purchase, "entry": PointsEntry, "voucher": Redemption, "tier": TierChange}
    for name, model in models.items():
        rows = model.objects.filter(merchant=merchant, pk__gt=since.get(name, 0))
        rows.update(created_at=moment)
        if model is Redemption:
            rows.filter(used_at__isnull=False).update(used_at=moment + timedelta(minutes=5))
    return {
        name: model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0 for name, model in models.items()
    }


def test_rollups_kept_day_by_day_agree_with_a_recount_from_scratch(merchant, program, cashier_actor, today):
    """Sixty days of a small shop's life with the job run each evening, against one recount at the end."""
    rng = random.Random(7)
    reward = RewardFactory(merchant=merchant, points_cost=15)
    TierFactory(merchant=merchant, name="Silver", threshold=Decimal(120))
    start = today - timedelta(days=59)
    members: list[Member] = []
    seen: dict[str, int] = {}
    for offset in range(60):
        moment = datetime.combine(start + timedelta(days=offset), time(10), merchant.tzinfo)
        members += [MemberFactory(merchant=merchant, joined_at=moment) for _ in range(rng.randint(0, 2))]
        for member in rng.sample(members, k=min(len(members), rng.randint(0, 4))):
            ledger.purchase_record(member=member, amount=Decimal(rng.randint(5, 60)), actor=cashier_actor)
            if rng.random() < 0.3 and ledger.Account.objects.get(member=member).balance >= reward.points_cost:
                voucher = ledger.reward_redeem(member=member, reward=reward, actor=cashier_actor)
                if rng.random() < 0.5:
                    ledger.voucher_use(redemption=voucher, actor=cashier_actor)
        seen = _backdate(merchant, seen, moment)
        rollups_refresh(merchant_id=merchant.pk, now=moment + timedelta(hours=8))
    kept = _rollups(merchant)
    rollups_rebuild(merchant=merchant)
    rollups_refresh(merchant_id=merchant.pk, now=datetime.combine(today, time(20), merchant.tzinfo))
    recounted = _rollups(merchant)
    assert Purchase.objects.filter(merchant=merchant).count() > 50
    assert Redemption.objects.filter(merchant=merchant, used_at__isnull=False).exists()
    for name in kept:
        assert kept[name] == recounted[name], name


def test_another_shops_rollups_are_never_read(merchant, other_merchant, program, buy, refresh, today):
    buy("10")
    refresh()
    rollups_rebuild(merchant=other_merchant)
    rollups_refresh(merchant_id=other_merchant.pk)
    card = cards.activity_card(merchant=other_merchant, window=window(today))
    assert (card.now.visits, card.active_30) == (0, 0)


def test_rolling_counts_are_recounted_hourly_the_daily_sums_every_run(merchant, member, buy, refresh, today):
    refresh()
    buy("10")
    now = timezone.now()
    counted = rollups_refresh(merchant_id=merchant.pk, now=now + timedelta(minutes=10))
    assert "standings" not in counted
    assert ActivityDay.objects.get(merchant=merchant, day=today).visits == 1
    assert rollups_refresh(merchant_id=merchant.pk, now=now + timedelta(minutes=70))["standings"] > 0
    assert cards.activity_card(merchant=merchant, window=window(today)).active_30 == 1


def test_breakage_is_points_expired_for_every_point_earned(merchant, member, rules, buy, refresh, today):
    rules(expiry_mode=ExpiryMode.AFTER_EARNING, expiry_months=12)
    buy("100")
    gone = buy("50")
    PointsEntry.objects.filter(purchase=gone).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert ledger.points_expire(merchant=merchant) == 50
    refresh()
    card = cards.liability_card(merchant=merchant, window=window(today))
    assert (card.now.points_expired, card.now.points_earned) == (50, 150)
    assert card.breakage == pytest.approx(1 / 3)
    assert card.outstanding == 100


def test_a_tier_lost_at_the_review_counts_as_a_demotion(merchant, member, buy, refresh, today):
    silver = TierFactory(merchant=merchant, name="Silver", threshold=Decimal(100))
    gold = TierFactory(merchant=merchant, name="Gold", threshold=Decimal(500))
    account = buy("10").account
    TierChange.objects.create(merchant=merchant, account=account, from_tier=gold, to_tier=silver, reason="review")
    TierChange.objects.create(merchant=merchant, account=account, from_tier=silver, to_tier=None, reason="review")
    TierChange.objects.create(merchant=merchant, account=account, from_tier=None, to_tier=gold, reason="paid")
    refresh()
    card = cards.tiers_card(merchant=merchant, window=window(today), no_tier="No tier")
    assert (card.now.promotions, card.now.demotions) == (1, 2)
