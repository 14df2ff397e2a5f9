"""The owner's dashboard at scale: each KPI card's server time, and what keeping its rollups costs.

    DATABASE_URL=postgres://postgres@127.0.0.1/loyalty_bench \\
        .venv/bin/python bench/dashboard_bench.py --members 100000 --runs 20

Seeds the demo shop with --members members and --months of history (24: about 20 ledger lines a member)
unless it has them already, recounts the rollups from scratch (timed), then requests each card
through Django's full request cycle (middleware, session, template) as the owner would, --runs
times per period, and prints the median and the 95th percentile of the server time per card.
Before that, the job's two kinds of run: every ten minutes (yesterday's and today's sums) and hourly
(with the rolling counts and the points about to expire).
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty.settings")
os.environ.setdefault("SECRET_KEY", f"bench-only-{uuid.uuid4()}")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from members.models import Member  # noqa: E402
from merchants.models import Merchant, User  # noqa: E402
from rewards.kpis.rollups import rollups_rebuild, rollups_refresh  # noqa: E402
from rewards.management.commands.seed_demo import DEMO_SLUG, OWNER_EMAIL  # noqa: E402
from rewards.models import PointsEntry  # noqa: E402

CARDS = {
    "enrolment": "/members/dashboard/enrolment/",
    "activity": "/dashboard/activity/",
    "redemption": "/dashboard/redemption/",
    "retention": "/dashboard/retention/",
    "liability": "/dashboard/liability/",
    "tiers": "/dashboard/tiers/",
}
PERIODS = ("30", "365")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--months", type=int, default=24, help="months of seeded history (24: about 2M ledger lines)")
    parser.add_argument("--reseed", action="store_true", help="seed again even if the demo shop has its members")
    args = parser.parse_args()
    host = urlsplit(os.environ.get("DATABASE_URL", "")).hostname
    if connection.vendor != "postgresql" or host not in {"127.0.0.1", "localhost"}:
        sys.exit("Point DATABASE_URL at a PostgreSQL database on this machine (it seeds a demo shop there).")
    merchant = Merchant.objects.filter(slug=DEMO_SLUG).first()
    members = Member.objects.filter(merchant=merchant).count() if merchant else 0
    if members < args.members * 0.9 or args.reseed:
        started = time.perf_counter()
        call_command("seed_demo", members=args.members, months=args.months, reset=True, verbosity=0)
        print(f"Seeded {args.members:,} members in {time.perf_counter() - started:.0f} s.")
        merchant = Merchant.objects.get(slug=DEMO_SLUG)
    members = Member.objects.filter(merchant=merchant).count()
    entries = PointsEntry.objects.filter(merchant=merchant).count()
    print(f"Shop: {members:,} members, {entries:,} ledger entries. PostgreSQL, {os.cpu_count()} CPUs.")

    started = time.perf_counter()
    rollups_rebuild(merchant=merchant)
    rollups_refresh(merchant_id=merchant.pk)
    print(f"Rollups recounted from scratch in {time.perf_counter() - started:.1f} s.")
    started = time.perf_counter()
    rollups_refresh(merchant_id=merchant.pk, now=timezone.now() + timedelta(minutes=10))
    print(f"Refresh every 10 minutes (yesterday's and today's sums) in {time.perf_counter() - started:.2f} s.")
    started = time.perf_counter()
    rollups_refresh(merchant_id=merchant.pk, now=timezone.now() + timedelta(minutes=70))
    print(f"Hourly refresh (with rolling counts and expiring points) in {time.perf_counter() - started:.2f} s.")

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(email=OWNER_EMAIL))
    print(f"\n{'card':<12}{'period':>8}{'median ms':>12}{'p95 ms':>10}{'queries':>9}")
    for name, url in CARDS.items():
        for period in PERIODS:
            times = []
            client.get(f"{url}?period={period}", secure=True)  # warm the caches a page view would have warm
            for _ in range(args.runs):
                started = time.perf_counter()
                response = client.get(f"{url}?period={period}", secure=True)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.status_code
            queries = _queries(client, f"{url}?period={period}")
            p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
            print(f"{name:<12}{period + ' d':>8}{statistics.median(times):>12.1f}{p95:>10.1f}{queries:>9}")


def _queries(client: Client, url: str) -> int:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url, secure=True)
    return len(captured)


if __name__ == "__main__":
    main()
