"""The ledger under concurrent writers, on PostgreSQL's row locks (SQLite runs skip this file)."""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from members.models import Member
from merchants.actors import Actor
from merchants.models import Role
from rewards import ledger
from rewards.models import Account, Kind, PointsEntry, Program, Purchase, Redemption, Reward
from tests.factories import LocationFactory, MemberFactory, MerchantFactory, ProgramFactory, RewardFactory, StaffFactory

from .conftest import assert_ledger_consistent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def race(target, n: int = THREADS) -> list:
    """Run target(i) in n threads released at once; collect what each returned or raised, in order."""
    barrier, results = threading.Barrier(n), [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as error:  # the test inspects what each side got
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a writer is stuck"
    return results


@pytest.fixture
def shop():
    merchant = MerchantFactory()
    LocationFactory(merchant=merchant)
    ProgramFactory(merchant=merchant)
    return merchant


@pytest.fixture
def cashier(shop) -> Actor:
    return Actor.for_staff(StaffFactory(merchant=shop, role=Role.CASHIER))


@pytest.fixture
def manager(shop) -> Actor:
    return Actor.for_staff(StaffFactory(merchant=shop, role=Role.MANAGER))


def fresh(member: Member) -> Member:
    """The member as a thread of its own would load it."""
    return Member.objects.select_related("merchant").get(pk=member.pk)


def test_twenty_redemptions_of_the_last_affordable_reward_let_exactly_one_through(shop, cashier, manager):
    member = MemberFactory(merchant=shop)
    ledger.points_adjust(member=member, points=100, reason="opening points", actor=manager)
    reward = RewardFactory(merchant=shop, points_cost=100)

    results = race(
        lambda i: ledger.reward_redeem(member=fresh(member), reward=reward, actor=cashier, idempotency_key=f"r{i}")
    )

    assert sum(isinstance(r, Redemption) for r in results) == 1
    assert sum(isinstance(r, ledger.LedgerError) for r in results) == THREADS - 1
    account = Account.objects.get(member=member)
    assert account.balance == 0
    assert Redemption.objects.count() == 1
    assert_ledger_consistent(account)
    assert min(PointsEntry.objects.values_list("balance_after", flat=True)) >= 0


def test_twenty_members_racing_for_the_last_reward_in_stock_leave_one_winner(shop, cashier, manager):
    members = [MemberFactory(merchant=shop) for _ in range(THREADS)]
    for member in members:
        ledger.points_adjust(member=member, points=100, reason="opening points", actor=manager)
    reward = RewardFactory(merchant=shop, points_cost=60, stock=1)

    results = race(lambda i: ledger.reward_redeem(member=fresh(members[i]), reward=reward, actor=cashier))

    assert sum(isinstance(r, Redemption) for r in results) == 1
    assert Reward.objects.get(pk=reward.pk).stock == 0
    assert sorted(Account.objects.values_list("balance", flat=True)) == [40] + [100] * (THREADS - 1)


def test_concurrent_purchases_on_one_account_all_count(shop, cashier):
    member = MemberFactory(merchant=shop)

    results = race(lambda i: ledger.purchase_record(member=fresh(member), amount=Decimal(10), actor=cashier))

    assert all(isinstance(r, Purchase) for r in results), results
    account = Account.objects.get(member=member)
    assert (account.balance, account.purchase_count) == (10 * THREADS, THREADS)
    assert_ledger_consistent(account)


def test_the_same_key_sent_twenty_times_at_once_records_one_purchase(shop, cashier):
    member = MemberFactory(merchant=shop)  # no account yet: the first writers also race to open it

    results = race(
        lambda i: ledger.purchase_record(
            member=fresh(member), amount=Decimal("12.50"), actor=cashier, idempotency_key="pos-77"
        )
    )

    assert all(isinstance(r, Purchase) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Purchase.objects.count() == 1
    assert Account.objects.get(member=member).balance == 12
    assert PointsEntry.objects.count() == 1


def test_expiry_running_during_purchases_keeps_the_invariants(shop, cashier):
    Program.objects.filter(merchant=shop).update(expiry_mode="after_earning", expiry_months=1)
    members = [MemberFactory(merchant=shop) for _ in range(4)]
    for member in members:
        ledger.purchase_record(member=member, amount=Decimal(50), actor=cashier)
    far = timezone.now() + timedelta(days=90)

    def work(i: int):
        if i % 5 == 0:
            return ledger.points_expire(merchant=shop, now=far + timedelta(seconds=i))
        return ledger.purchase_record(member=fresh(members[i % 4]), amount=Decimal(10), actor=cashier)

    results = race(work)

    assert not [r for r in results if isinstance(r, Exception)], results
    credited = PointsEntry.objects.filter(points__gt=0).aggregate(s=Sum("points"))["s"]
    expired = -PointsEntry.objects.filter(kind=Kind.EXPIRE).aggregate(s=Sum("points", default=0))["s"]
    assert 200 <= expired <= credited  # the opening 4 x 50 were due for every run
    for account in Account.objects.all():
        assert_ledger_consistent(account)


def test_inactivity_expiry_spares_a_member_who_buys_while_it_waits_for_the_lock(shop, cashier):
    """The job lists idle accounts, then waits on a row lock a purchase holds: once the purchase
    commits, the member is no longer idle, and neither the old nor the new points may expire."""
    Program.objects.filter(merchant=shop).update(expiry_mode="after_inactivity", expiry_months=12)
    member = MemberFactory(merchant=shop)
    ledger.purchase_record(member=member, amount=Decimal(100), actor=cashier)
    long_ago = timezone.now() - timedelta(days=400)
    Account.objects.filter(member=member).update(last_activity_at=long_ago, last_purchase_at=long_ago)
    holding, go = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def buyer() -> None:
        try:
            with transaction.atomic():
                Account.objects.select_for_update().get(member=member)  # the counter is mid-purchase
                holding.set()
                go.wait(timeout=30)
                results["purchase"] = ledger.purchase_record(member=fresh(member), amount=Decimal(10), actor=cashier)
        finally:
            connection.close()

    def job() -> None:
        try:
            holding.wait(timeout=30)
            results["expired"] = ledger.points_expire(merchant=shop)
        except Exception as error:
            results["expired"] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=buyer), threading.Thread(target=job)]
    for thread in threads:
        thread.start()
    waiting_on_lock(timeout=10)
    go.set()
    for thread in threads:
        thread.join(timeout=30)

    assert results["expired"] == 0
    account = Account.objects.get(member=member)
    assert account.balance == 110
    assert_ledger_consistent(account)


def waiting_on_lock(timeout: float) -> None:
    """Return once another session of this database is blocked on a row lock."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    pytest.fail("the expiry job never waited for the account lock")
