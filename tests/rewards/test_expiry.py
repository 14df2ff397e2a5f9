"""The expiry job: soonest-expiring credits are spent first, spent points never expire, twice is once.

Credits get different due dates the honest way: the shop changes its rule between purchases (a rule
applies to points earned after the change). The job is then run with explicit `now=` values.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from members.models import Member
from rewards import ledger
from rewards.models import Account, Kind, PointsEntry
from tests.factories import MemberFactory, MerchantFactory, ProgramFactory, RewardFactory

from .conftest import assert_ledger_consistent, balance_of, ledger_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def expiring(rules):
    return rules(expiry_mode="after_earning", expiry_months=12)


@pytest.fixture
def earn(rules, buy, expiring):
    """earn(points, months): a purchase whose points expire `months` after today; returns the due time."""

    def run(points: int, months: int, member: Member | None = None):
        rules(expiry_months=months)
        purchase = buy(points, **({"member": member} if member else {}))
        return PointsEntry.objects.get(purchase=purchase).expires_at

    return run


@pytest.fixture
def spend(merchant, cashier_actor):
    def run(member: Member, points: int):
        reward = RewardFactory(merchant=merchant, points_cost=points)
        return ledger.reward_redeem(member=member, reward=reward, actor=cashier_actor)

    return run


def expire(merchant, now) -> int:
    return ledger.points_expire(merchant=merchant, now=now)


def test_nothing_expires_before_its_date(merchant, earn, member):
    due = earn(100, months=1)

    assert expire(merchant, due - timedelta(seconds=1)) == 0

    assert balance_of(member) == 100


def test_unspent_points_expire_on_their_date(merchant, earn, member):
    due = earn(100, months=1)

    assert expire(merchant, due) == 100

    line = PointsEntry.objects.get(kind=Kind.EXPIRE)
    assert (line.points, line.balance_after, line.created_at, line.actor_kind) == (-100, 0, due, "job")
    assert balance_of(member) == 0


def test_spent_points_never_expire(merchant, earn, spend, member):
    due = earn(100, months=1)
    spend(member, 60)

    assert expire(merchant, due) == 40

    assert balance_of(member) == 0


def test_soonest_expiring_credits_are_spent_first(merchant, earn, spend, member):
    late = earn(100, months=12)
    soon = earn(50, months=1)
    spend(member, 50)  # takes the 50 that expire soonest, though they were earned last

    assert expire(merchant, soon) == 0
    assert balance_of(member) == 100
    assert expire(merchant, late) == 100
    assert balance_of(member) == 0


def test_points_earned_after_a_redemption_expire_on_their_own_date(merchant, earn, spend, member):
    earn(100, months=12)
    spend(member, 100)  # spends the only points there are
    soon = earn(50, months=1)

    assert expire(merchant, soon) == 50

    assert balance_of(member) == 0


def test_a_short_lived_bonus_expires_on_its_date_though_older_points_were_spent(
    merchant, earn, spend, member, cashier_actor
):
    earn(100, months=12)
    spend(member, 60)
    ends = timezone.now() + timedelta(days=30)
    ledger.points_credit(
        member=member,
        points=25,
        kind=Kind.BONUS,
        reason="Use it this month",
        actor=cashier_actor,
        idempotency_key="campaign:1",
        expires_at=ends,
    )

    assert expire(merchant, ends) == 25

    assert balance_of(member) == 40


def test_points_due_at_different_dates_expire_on_each_date(merchant, earn, member):
    first = earn(30, months=1)
    second = earn(50, months=3)

    assert expire(merchant, first) == 30
    assert balance_of(member) == 50
    assert expire(merchant, second) == 50
    assert balance_of(member) == 0
    assert_ledger_consistent(Account.objects.get(member=member))


def test_a_run_after_several_due_dates_catches_up_at_once(merchant, earn, member):
    earn(30, months=1)
    second = earn(50, months=3)

    assert expire(merchant, second + timedelta(days=3)) == 80


def test_points_that_never_expire_stay(merchant, rules, buy, earn, member):
    due = earn(30, months=1)
    rules(expiry_mode="never")
    buy(20)

    assert expire(merchant, due + timedelta(days=3650)) == 30

    assert balance_of(member) == 20


def test_a_second_run_changes_nothing(merchant, earn, member):
    due = earn(100, months=1)
    expire(merchant, due)
    before = ledger_snapshot()

    assert expire(merchant, due) == 0
    assert expire(merchant, due + timedelta(days=1)) == 0

    assert ledger_snapshot() == before


def test_a_second_run_does_only_a_few_queries(merchant, earn, django_assert_max_num_queries):
    due = None
    for _ in range(5):
        due = earn(10, months=1, member=MemberFactory(merchant=merchant))
    assert expire(merchant, due) == 50

    with django_assert_max_num_queries(3):
        assert expire(merchant, due + timedelta(hours=1)) == 0


@pytest.mark.parametrize("accounts", [2, 6])
def test_a_run_takes_the_same_number_of_queries_however_many_accounts_expire(
    merchant, earn, django_assert_num_queries, accounts
):
    due = None
    for _ in range(accounts):
        due = earn(10, months=1, member=MemberFactory(merchant=merchant))

    with django_assert_num_queries(10):
        assert expire(merchant, due) == 10 * accounts


def test_another_shops_points_are_left_alone(merchant, earn, member, cashier_actor):
    shop = MerchantFactory()
    ProgramFactory(merchant=shop, expiry_mode="after_earning", expiry_months=1)
    stranger = MemberFactory(merchant=shop)
    ledger.purchase_record(member=stranger, amount=Decimal(10), actor=cashier_actor)
    due = earn(100, months=1)

    expire(merchant, due)

    assert balance_of(stranger) == 10


def test_a_voided_vouchers_points_expire_by_the_rule_at_the_void(merchant, earn, spend, member, manager_actor, rules):
    due = earn(100, months=1)
    voucher = spend(member, 100)
    rules(expiry_months=6)
    ledger.voucher_void(redemption=voucher, actor=manager_actor)

    assert expire(merchant, due) == 0
    assert balance_of(member) == 100


# ---------------------------------------------------------------------------------------------
# After months without a visit


@pytest.fixture
def idle_rule(rules):
    return rules(expiry_mode="after_inactivity", expiry_months=6)


def test_inactivity_expires_the_whole_balance_after_n_months_without_a_visit(merchant, idle_rule, buy, member):
    buy(100)
    later = timezone.now() + relativedelta(months=6, days=2)

    assert expire(merchant, later) == 100

    line = PointsEntry.objects.get(kind=Kind.EXPIRE)
    assert "6 months without a visit" in line.reason
    assert balance_of(member) == 0


def test_a_visit_within_n_months_keeps_the_points(merchant, idle_rule, buy, member):
    buy(100)

    assert expire(merchant, timezone.now() + relativedelta(months=6, days=-2)) == 0

    assert balance_of(member) == 100


def test_a_redemption_counts_as_a_visit(merchant, idle_rule, buy, spend, member):
    buy(100)
    Account.objects.filter(member=member).update(last_activity_at=timezone.now() - relativedelta(months=7))
    spend(member, 10)

    assert expire(merchant, timezone.now()) == 0

    assert balance_of(member) == 90


def test_points_of_a_member_who_never_visited_expire_n_months_after_the_account_opened(
    merchant, idle_rule, give, member
):
    give(member, 50)

    assert expire(merchant, timezone.now() + relativedelta(months=6, days=2)) == 50


def test_inactivity_expiry_twice_is_once(merchant, idle_rule, buy, member):
    buy(100)
    later = timezone.now() + relativedelta(months=6, days=2)
    expire(merchant, later)
    before = ledger_snapshot()

    assert expire(merchant, later) == 0

    assert ledger_snapshot() == before
