"""Purchases per second through rewards.ledger.purchase_record, next to the same work in raw SQL.

    DATABASE_URL=postgres://postgres@127.0.0.1/loyalty .venv/bin/python bench/purchase_bench.py

Creates a throwaway shop with every rule on (tiers with multipliers, a paid tier, a daily cap,
expiry, welcome/birthday/referral bonuses) and a seeded history of members, measures, and deletes
the shop again. See bench/README.md.
"""

import argparse
import os
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty.settings")
# The bench serves no requests; settings refuse the development key only to protect deployments.
os.environ.setdefault("SECRET_KEY", f"bench-only-{uuid.uuid4()}")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from members.models import Member  # noqa: E402
from merchants.actors import Actor  # noqa: E402
from merchants.models import Location, Merchant, Role, Staff, User  # noqa: E402
from merchants.services import merchant_create  # noqa: E402
from rewards import ledger  # noqa: E402
from rewards.demo import demo_history_reset, demo_history_seed  # noqa: E402
from rewards.models import Account, Program, Tier  # noqa: E402

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=5000, help="members in the throwaway shop (default 5000)")
    parser.add_argument("--months", type=int, default=3, help="months of seeded history behind them (default 3)")
    parser.add_argument("--seconds", type=float, default=10, help="length of each measurement (default 10)")
    parser.add_argument("--threads", type=int, default=4, help="threads for the concurrent runs (default 4)")
    args = parser.parse_args()
    refuse_unless_local_postgres()
    shop = shop_create(args.members, args.months)
    try:
        report_queries(shop)
        for threads in (1, args.threads):
            service = measure(lambda: ServiceWork(shop), args.seconds, threads)
            raw = measure(lambda: RawWork(shop), args.seconds, threads)
            print(
                f"{threads} thread{'s' if threads > 1 else ''}: service {service:,.0f}/s, raw SQL {raw:,.0f}/s, "
                f"service/raw {service / raw:.2f}"
            )
    finally:
        shop_delete(shop)


def refuse_unless_local_postgres() -> None:
    database = settings.DATABASES["default"]
    if connection.vendor != "postgresql":
        sys.exit(
            "purchase_bench measures PostgreSQL (row locks are its guarantee): set "
            "DATABASE_URL=postgres://user@127.0.0.1/dbname. It does not run on SQLite."
        )
    if database.get("HOST") not in LOCAL_HOSTS:
        sys.exit(f"purchase_bench only talks to a local server (127.0.0.1), not {database.get('HOST')!r}.")


# ---------------------------------------------------------------------------------------------
# The throwaway shop


def shop_create(members: int, months: int) -> Merchant:
    tag = uuid.uuid4().hex[:8]
    owner = User.objects.create_user(f"bench-owner-{tag}@example.com", None, name="Bench Owner")
    shop = merchant_create(
        owner=owner, name=f"Bench {tag}", country="MY", currency="MYR", timezone="Asia/Kuala_Lumpur", language="en"
    )
    cashier = User.objects.create_user(f"bench-cashier-{tag}@example.com", None, name="Bench Cashier")
    Staff.objects.create(merchant=shop, user=cashier, role=Role.CASHIER)
    started = time.perf_counter()
    made = demo_history_seed(merchant=shop, members=members, months=months, seed=7)
    # All rules on: the seeded program has tiers with multipliers, a paid tier, expiry and the
    # bonuses; add the two rules it leaves off.
    Program.objects.filter(merchant=shop).update(daily_cap=500, min_purchase=Decimal(1))
    print(
        f"Shop {shop.slug}: {made.members:,} members, {made.entries:,} ledger entries of history "
        f"(seeded in {time.perf_counter() - started:.1f} s); tiers {Tier.objects.filter(merchant=shop).count()}"
    )
    return shop


def shop_delete(shop: Merchant) -> None:
    users = list(Staff.objects.filter(merchant=shop).values_list("user_id", flat=True))
    demo_history_reset(merchant=shop)
    shop.delete()
    User.objects.filter(pk__in=users).delete()
    print(f"Deleted shop {shop.slug}.")


# ---------------------------------------------------------------------------------------------
# The two ways of recording a purchase


@dataclass
class Counter:
    """What a cashier at the shop's counter records with."""

    shop: Merchant
    actor: Actor
    location: Location

    @classmethod
    def of(cls, shop: Merchant) -> "Counter":
        staff = Staff.objects.select_related("user").get(merchant=shop, role=Role.CASHIER)
        location = Location.objects.filter(merchant=shop).first()
        return cls(shop, Actor.for_staff(staff, location=location), location)


def amount(rng: random.Random) -> Decimal:
    return Decimal(rng.randrange(500, 6000, 50)) / 100


class ServiceWork:
    """Through the service, as the counter page and the API do."""

    def __init__(self, shop: Merchant) -> None:
        self.counter = Counter.of(shop)
        # Each thread loads its own instances: model objects are not shared between threads.
        self.members = list(Member.objects.filter(merchant=shop).select_related("merchant", "referred_by"))

    def __call__(self, rng: random.Random) -> None:
        ledger.purchase_record(member=rng.choice(self.members), amount=amount(rng), actor=self.counter.actor)


class RawWork:
    """The floor: the same rows written by hand, with the rules read once up front.

    One transaction: lock the account, insert the purchase, insert its entry, update the account.
    """

    def __init__(self, shop: Merchant) -> None:
        self.counter = Counter.of(shop)
        self.program = ledger.program_for(shop)
        self.multipliers = {t.pk: t.multiplier for t in Tier.objects.for_merchant(shop)}
        self.member_ids = list(Member.objects.filter(merchant=shop).values_list("pk", flat=True))
        self.tz = shop.tzinfo

    def __call__(self, rng: random.Random) -> None:
        self.record(rng.choice(self.member_ids), amount(rng))

    def record(self, member_id: int, money: Decimal) -> None:
        program, actor = self.program, self.counter.actor
        now = timezone.now()
        today = timezone.localtime(now, self.tz).date()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, balance, lifetime_earned, tier_id, paid_tier_id, paid_until, day, day_earned "
                "FROM rewards_account WHERE member_id = %s FOR UPDATE",
                [member_id],
            )
            account_id, balance, earned, tier_id, paid_id, paid_until, day, day_earned = cursor.fetchone()
            multiplier = max(
                self.multipliers.get(tier_id, Decimal(1)),
                self.multipliers.get(paid_id, Decimal(1)) if paid_until and paid_until >= today else Decimal(1),
            )
            earned_today = day_earned if day == today else 0
            points = int(money * program.points_per_unit * multiplier)
            points = max(min(points, program.daily_cap - earned_today), 0) if program.daily_cap else points
            cursor.execute(
                "INSERT INTO rewards_purchase (merchant_id, account_id, amount, refunded_amount, points, "
                "points_reversed, receipt, location_id, actor_kind, actor_user_id, actor_label, request_hash, "
                "created_at) VALUES (%s, %s, %s, 0, %s, 0, '', %s, %s, %s, %s, '', %s) RETURNING id",
                [program.merchant_id, account_id, money, points, self.counter.location.pk, actor.kind, actor.user.pk,
                 actor.label, now],
            )  # fmt: skip
            purchase_id = cursor.fetchone()[0]
            if points:
                cursor.execute(
                    "INSERT INTO rewards_pointsentry (merchant_id, account_id, kind, points, balance_after, "
                    "expires_at, reason, purchase_id, location_id, actor_kind, actor_user_id, actor_label, "
                    "request_hash, created_at) VALUES (%s, %s, 'earn', %s, %s, %s, '', %s, %s, %s, %s, %s, '', %s)",
                    [program.merchant_id, account_id, points, balance + points, ledger.credit_expiry(program, now),
                     purchase_id, self.counter.location.pk, actor.kind, actor.user.pk, actor.label, now],
                )  # fmt: skip
            cursor.execute(
                "UPDATE rewards_account SET balance = %s, lifetime_earned = %s, lifetime_spend = lifetime_spend + %s, "
                "purchase_count = purchase_count + 1, qualifying_total = qualifying_total + %s, day = %s, "
                "day_earned = %s, last_activity_at = %s, last_purchase_at = %s WHERE id = %s",
                [balance + points, earned + points, money, money, today, earned_today + points, now, now, account_id],
            )


# ---------------------------------------------------------------------------------------------
# Measuring


def measure(make_work: Callable[[], Callable[[random.Random], None]], seconds: float, threads: int) -> float:
    """Purchases per second over `seconds`, each thread with its own connection and its own work."""
    counts: list[int] = []
    deadline: list[float] = []
    # The clock starts when every thread has warmed up (the barrier's action runs once, before release).
    ready = threading.Barrier(threads + 1, action=lambda: deadline.append(time.perf_counter() + seconds))

    def run(number: int) -> None:
        try:
            work, rng = make_work(), random.Random(number)
            work(rng)  # warm up: connection, caches, prepared plans
            ready.wait()
            done = 0
            while time.perf_counter() < deadline[0]:
                work(rng)
                done += 1
            counts.append(done)
        finally:
            connection.close()  # Django keeps one connection per thread

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    ready.wait()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.perf_counter() - (deadline[0] - seconds))


def report_queries(shop: Merchant) -> None:
    """Statements for one purchase through the service (a returning member, all rules on)."""
    counter = Counter.of(shop)
    account = Account.objects.filter(merchant=shop, purchase_count__gt=0, member__referred_by__isnull=True).first()
    referred = Account.objects.filter(merchant=shop, purchase_count__gt=0, member__referred_by__isnull=False).first()
    ledger.rules_for(shop)  # a running server has the rules cached: count the steady state
    for label, account_, key in (
        ("returning member", account, None),
        ("returning member, with an idempotency key", account, f"bench-{uuid.uuid4()}"),
        ("returning referred member", referred, None),
    ):
        member = Member.objects.select_related("merchant", "referred_by").get(pk=account_.member_id)
        with CaptureQueriesContext(connection) as queries:
            ledger.purchase_record(member=member, amount=Decimal("23.50"), actor=counter.actor, idempotency_key=key)
        statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
        print(f"Queries per purchase ({label}): {len(statements)}")
        if label == "returning member":
            for sql in statements:
                print(f"    {sql[:110]}")


if __name__ == "__main__":
    main()
