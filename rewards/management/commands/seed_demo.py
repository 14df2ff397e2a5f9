"""The demo shop "Bubbles Laundromat" with an owner and a cashier, and a history of members.

It lives in rewards, the highest app it touches: the shop and logins come from merchants, the
members and their ledger from members and rewards (merchants must not import rewards).
"""

import resource
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from members.models import Member
from merchants.models import Merchant, Role, Staff, User
from merchants.services import location_create, merchant_create
from rewards.demo import Made, demo_history_reset, demo_history_seed
from rewards.kpis.rollups import rollups_rebuild, rollups_refresh
from rewards.ledger import statistics_refresh

DEMO_SLUG = "bubbles-laundromat"
DEMO_PASSWORD = "demo-pass-123"  # noqa: S105 (a published demo login, only ever created by this command)
OWNER_EMAIL = "owner@demo.example"
CASHIER_EMAIL = "cashier@demo.example"


class Command(BaseCommand):
    help = (
        "Create the demo shop Bubbles Laundromat (Malaysia) with demo logins, and a history of members "
        "with their purchases, rewards, refunds and expiries. Adds no history to a shop that has members."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--members", type=int, default=200, help="members to make (default 200; 0 for none)")
        parser.add_argument("--months", type=int, default=12, help="months of history (default 12)")
        parser.add_argument("--seed", type=int, default=1, help="random seed: the same seed makes the same history")
        parser.add_argument(
            "--reset", action="store_true", help="delete the demo shop's members and their ledger first"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        merchant = self.shop()
        self.stdout.write(f"  owner:   {OWNER_EMAIL} / {DEMO_PASSWORD}\n  cashier: {CASHIER_EMAIL} / {DEMO_PASSWORD}")
        if options["reset"]:
            deleted = demo_history_reset(merchant=merchant)
            self.stdout.write(f"Deleted {deleted:,} members and their ledger.")
        if options["members"] <= 0:
            return
        if existing := Member.objects.for_merchant(merchant).count():
            self.stdout.write(
                f"The demo shop already has {existing:,} members: no history added (--reset replaces it)."
            )
            return
        started = time.perf_counter()
        made = demo_history_seed(
            merchant=merchant,
            members=options["members"],
            months=max(options["months"], 1),
            seed=options["seed"],
            progress=self.progress if options["verbosity"] > 1 else None,
        )
        self.report(made, time.perf_counter() - started)
        started = time.perf_counter()
        statistics_refresh()  # the planner must know the shop grew before the dashboard counts it
        rollups_rebuild(merchant=merchant)
        rollups_refresh(merchant_id=merchant.pk)
        self.stdout.write(f"Counted the dashboard's numbers in {time.perf_counter() - started:.1f} s.")

    @transaction.atomic
    def shop(self) -> Merchant:
        """The demo shop and its two logins, created once."""
        if merchant := Merchant.objects.filter(slug=DEMO_SLUG).first():
            self.stdout.write("The demo shop already exists.")
            return merchant
        owner = User.objects.create_user(OWNER_EMAIL, DEMO_PASSWORD, name="Aisyah Rahman")
        merchant = merchant_create(
            owner=owner,
            name="Bubbles Laundromat",
            country="MY",
            currency="MYR",
            timezone="Asia/Kuala_Lumpur",
            language="en",
        )
        assert merchant.slug == DEMO_SLUG, merchant.slug  # noqa: S101 (the demo data relies on it)
        owner_staff = Staff.objects.get(merchant=merchant, user=owner)
        location_create(merchant=merchant, by=owner_staff, name="Bubbles SS2", address="Jalan SS2/24, Petaling Jaya")
        cashier = User.objects.create_user(CASHIER_EMAIL, DEMO_PASSWORD, name="Wei Ling Tan")
        Staff.objects.create(merchant=merchant, user=cashier, role=Role.CASHIER)
        self.stdout.write(self.style.SUCCESS("Created the demo shop Bubbles Laundromat."))
        return merchant

    def progress(self, done: int) -> None:
        self.stdout.write(f"  {done:,} members written")

    def report(self, made: Made, seconds: float) -> None:
        # ru_maxrss is in kilobytes on Linux: the peak of the whole process, generator and driver included.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        tiers = ", ".join(f"{name} {count:,}" for name, count in sorted(made.tiers.items()))
        self.stdout.write(
            self.style.SUCCESS(
                f"Made {made.members:,} members, {made.purchases:,} purchases and {made.entries:,} ledger entries "
                f"in {seconds:.1f} s (peak memory {peak:,.0f} MB)."
            )
        )
        self.stdout.write(
            f"  {made.redemptions:,} redemptions, {made.refunds:,} refunds, {made.expiries:,} expiries, "
            f"{made.referrals:,} referrals, {made.adjustments:,} adjustments, {made.tier_fees:,} club fees\n"
            f"  tiers now: {tiers}"
        )
