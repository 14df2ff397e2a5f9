"""The owner's dashboard at scale: each KPI card's server time, next to the same figures read from the ledger.

    DATABASE_URL=postgres://postgres@127.0.0.1/loyalty_bench \\
        .venv/bin/python bench/dashboard_bench.py --members 100000 --runs 20

Seeds the demo shop with --members members and --months of history (24: about 20 ledger lines a member)
unless it has them already, recounts the rollups from scratch (timed), then requests each card
through Django's full request cycle (middleware, session, template) as the owner would, --runs
times per period, and prints the median and the 95th percentile of the server time per card.
Before that, the job's two kinds of run: every ten minutes (yesterday's and today's sums) and hourly
(with the rolling counts and the points about to expire).

The reference, per card and period: the card's figures computed straight from the source rows
(members, purchases, the ledger, vouchers, tier changes) with plain aggregate SQL for the same
two periods (LEDGER below), timed --ledger-runs times after one run to warm the caches: what the
card would cost without its rollups. --json writes every figure to a file (bench/run.py reads it).
"""

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
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
from django.http import QueryDict  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from members.models import Member  # noqa: E402
from merchants.models import Merchant, User  # noqa: E402
from merchants.periods import day_start, window_from  # noqa: E402
from rewards.kpis.rollups import _expiring, rollups_rebuild, rollups_refresh  # noqa: E402
from rewards.ledger import add_months  # noqa: E402
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


def _active(at: str) -> str:
    """Members who bought in the 30 and 90 days before `at`, twice within those 90, and their visits."""
    return (
        f"SELECT count(*) FILTER (WHERE last >= %({at})s - interval '30 days'), count(*), "  # noqa: S608 - our own names
        f"count(*) FILTER (WHERE visits >= 2), sum(visits) FROM (SELECT account_id, max(created_at) AS last, "
        f"count(*) AS visits FROM rewards_purchase WHERE merchant_id = %(shop)s "
        f"AND created_at >= %({at})s - interval '90 days' AND created_at < %({at})s GROUP BY account_id) AS buyers"
    )


def _retained(at: str) -> str:
    """Members who bought in the 90 days before the last 90 days before `at`: again since (retained), or not (lapsed)."""
    return (
        "SELECT count(*) FILTER (WHERE earlier AND later), count(*) FILTER (WHERE earlier AND NOT later) FROM ("  # noqa: S608
        f"SELECT account_id, bool_or(created_at < %({at})s - interval '90 days') AS earlier, "
        f"bool_or(created_at >= %({at})s - interval '90 days') AS later FROM rewards_purchase "
        f"WHERE merchant_id = %(shop)s AND created_at >= %({at})s - interval '180 days' AND created_at < %({at})s "
        "GROUP BY account_id) AS buyers"
    )


# Each card's figures for the period and the one before it, from the source rows. Parameters: the
# shop, its time zone, and the shop's midnights: %(before)s starts the previous period, %(start)s
# this one, %(end)s is the midnight after its last day; %(cohorts)s starts the first of 12 cohort months.
LEDGER: dict[str, list[str | Callable[[Merchant, datetime], object]]] = {
    "enrolment": [
        # New members per day, channel and staff member; members who joined before both periods.
        "SELECT (joined_at AT TIME ZONE %(tz)s)::date, source, enrolled_by_id, count(*) FROM members_member "
        "WHERE merchant_id = %(shop)s AND joined_at >= %(before)s AND joined_at < %(end)s GROUP BY 1, 2, 3",
        "SELECT count(*) FROM members_member WHERE merchant_id = %(shop)s AND joined_at < %(before)s",
    ],
    "activity": [
        # Visits and revenue per day; active, repeat buyers and visits at the end of each period.
        "SELECT (created_at AT TIME ZONE %(tz)s)::date, count(*), sum(amount) FROM rewards_purchase "
        "WHERE merchant_id = %(shop)s AND created_at >= %(before)s AND created_at < %(end)s GROUP BY 1",
        _active("end"),
        _active("start"),
    ],
    "redemption": [
        # Points by kind per day (earned, redeemed...); vouchers issued and used per day; top rewards.
        "SELECT (created_at AT TIME ZONE %(tz)s)::date, kind, sum(points) FROM rewards_pointsentry "
        "WHERE merchant_id = %(shop)s AND created_at >= %(before)s AND created_at < %(end)s GROUP BY 1, 2",
        "SELECT (created_at AT TIME ZONE %(tz)s)::date, count(*) FROM rewards_redemption "
        "WHERE merchant_id = %(shop)s AND created_at >= %(before)s AND created_at < %(end)s GROUP BY 1",
        "SELECT (used_at AT TIME ZONE %(tz)s)::date, count(*) FROM rewards_redemption "
        "WHERE merchant_id = %(shop)s AND used_at >= %(before)s AND used_at < %(end)s GROUP BY 1",
        "SELECT reward_id, count(*) FILTER (WHERE created_at >= %(start)s AND created_at < %(end)s), "
        "count(*) FILTER (WHERE used_at >= %(start)s AND used_at < %(end)s), "
        "sum(points) FILTER (WHERE created_at >= %(start)s AND created_at < %(end)s) FROM rewards_redemption "
        "WHERE merchant_id = %(shop)s AND (created_at >= %(start)s AND created_at < %(end)s "
        "OR used_at >= %(start)s AND used_at < %(end)s) GROUP BY 1 ORDER BY 2 DESC LIMIT 5",
    ],
    "retention": [
        # Of each month's new members (12 months), how many bought in each month since; the months'
        # sizes; retained and lapsed members at the end of each period.
        "SELECT date_trunc('month', m.joined_at AT TIME ZONE %(tz)s), date_trunc('month', p.created_at AT TIME ZONE %(tz)s), "
        "count(DISTINCT p.account_id) FROM rewards_purchase p JOIN rewards_account a ON a.id = p.account_id "
        "JOIN members_member m ON m.id = a.member_id WHERE p.merchant_id = %(shop)s AND m.merchant_id = %(shop)s "
        "AND m.joined_at >= %(cohorts)s AND p.created_at >= %(cohorts)s AND p.created_at < %(end)s GROUP BY 1, 2",
        "SELECT date_trunc('month', joined_at AT TIME ZONE %(tz)s), count(*) FROM members_member "
        "WHERE merchant_id = %(shop)s AND joined_at >= %(cohorts)s AND joined_at < %(end)s GROUP BY 1",
        _retained("end"),
        _retained("start"),
    ],
    "liability": [
        # Points held when the period starts, what each of its days added, its revenue (for the cost
        # share), and the points expiring within 30 and 90 days: the expiry job's own walk of the ledger.
        "SELECT sum(points) FROM rewards_pointsentry WHERE merchant_id = %(shop)s AND created_at < %(start)s",
        "SELECT (created_at AT TIME ZONE %(tz)s)::date, kind, sum(points) FROM rewards_pointsentry "
        "WHERE merchant_id = %(shop)s AND created_at >= %(start)s AND created_at < %(end)s GROUP BY 1, 2",
        "SELECT sum(amount) FROM rewards_purchase "
        "WHERE merchant_id = %(shop)s AND created_at >= %(start)s AND created_at < %(end)s",
        _expiring,
    ],
    "tiers": [
        # Members per tier now; promotions and demotions per day in both periods.
        "SELECT tier_id, count(*) FROM rewards_account WHERE merchant_id = %(shop)s GROUP BY 1",
        "SELECT (created_at AT TIME ZONE %(tz)s)::date, reason, count(*) FROM rewards_tierchange "
        "WHERE merchant_id = %(shop)s AND created_at >= %(before)s AND created_at < %(end)s GROUP BY 1, 2",
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20, help="requests per card and period")
    parser.add_argument("--ledger-runs", type=int, default=3, help="timed runs of each card's ledger SQL")
    parser.add_argument("--months", type=int, default=24, help="months of seeded history (24: about 2M ledger lines)")
    parser.add_argument("--reseed", action="store_true", help="seed again even if the demo shop has its members")
    parser.add_argument("--json", type=Path, help="write the figures to this file as JSON")
    args = parser.parse_args()
    host = urlsplit(os.environ.get("DATABASE_URL", "")).hostname
    if connection.vendor != "postgresql" or host not in {"127.0.0.1", "localhost"}:
        sys.exit("Point DATABASE_URL at a PostgreSQL database on this machine (it seeds a demo shop there).")
    figures = measure(args.members, args.months, args.runs, args.ledger_runs, args.reseed)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


def measure(members: int, months: int, runs: int, ledger_runs: int, reseed: bool = False) -> dict:
    """Seed if needed, time the rollups' runs, then each card and its ledger SQL; print and return the figures."""
    merchant = Merchant.objects.filter(slug=DEMO_SLUG).first()
    found = Member.objects.filter(merchant=merchant).count() if merchant else 0
    if found < members * 0.9 or reseed:
        started = time.perf_counter()
        call_command("seed_demo", members=members, months=months, reset=True, verbosity=0)
        print(f"Seeded {members:,} members in {time.perf_counter() - started:.0f} s.")
        merchant = Merchant.objects.get(slug=DEMO_SLUG)
    figures: dict = {
        "members": Member.objects.filter(merchant=merchant).count(),
        "entries": PointsEntry.objects.filter(merchant=merchant).count(),
        "requests": runs,
        "ledger_runs": ledger_runs,
    }
    print(
        f"Shop: {figures['members']:,} members, {figures['entries']:,} ledger entries. PostgreSQL, {os.cpu_count()} CPUs."
    )

    started = time.perf_counter()
    rollups_rebuild(merchant=merchant)
    rollups_refresh(merchant_id=merchant.pk)
    rebuild = time.perf_counter() - started
    print(f"Rollups recounted from scratch in {rebuild:.1f} s.")
    started = time.perf_counter()
    rollups_refresh(merchant_id=merchant.pk, now=timezone.now() + timedelta(minutes=10))
    every_10 = time.perf_counter() - started
    print(f"Refresh every 10 minutes (yesterday's and today's sums) in {every_10:.2f} s.")
    started = time.perf_counter()
    rollups_refresh(merchant_id=merchant.pk, now=timezone.now() + timedelta(minutes=70))
    hourly = time.perf_counter() - started
    print(f"Hourly refresh (with rolling counts and expiring points) in {hourly:.2f} s.")
    figures["rollups"] = {"rebuild_s": rebuild, "refresh_10min_s": every_10, "refresh_hourly_s": hourly}

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(email=OWNER_EMAIL))
    figures["cards"] = {}
    print(f"\n{'card':<12}{'period':>8}{'median ms':>12}{'p95 ms':>10}{'queries':>9}{'ledger ms':>12}{'queries':>9}")
    for name, url in CARDS.items():
        for period in PERIODS:
            times = []
            client.get(f"{url}?period={period}", secure=True)  # warm the caches a page view would have warm
            for _ in range(runs):
                started = time.perf_counter()
                response = client.get(f"{url}?period={period}", secure=True)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.status_code
            queries = _queries(client, f"{url}?period={period}")
            p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
            ledger_ms = ledger_time(merchant, name, period, ledger_runs)
            figures["cards"].setdefault(name, {})[period] = {
                "median_ms": statistics.median(times),
                "p95_ms": p95,
                "queries": queries,
                "ledger_ms": ledger_ms,
                "ledger_queries": len(LEDGER[name]),
            }
            print(
                f"{name:<12}{period + ' d':>8}{statistics.median(times):>12.1f}{p95:>10.1f}{queries:>9}"
                f"{ledger_ms:>12.1f}{len(LEDGER[name]):>9}"
            )
    return figures


def ledger_time(merchant: Merchant, card: str, period: str, runs: int) -> float:
    """Median milliseconds of the card's figures read from the source rows for the same two periods."""
    window = window_from(QueryDict(f"period={period}"), merchant)
    cohorts = add_months(window.end.replace(day=1), -11)
    params = {
        "shop": merchant.pk,
        "tz": merchant.timezone,
        "before": day_start(merchant, window.previous.start),
        "start": day_start(merchant, window.start),
        "end": day_start(merchant, window.end + timedelta(days=1)),
        "cohorts": day_start(merchant, cohorts),
    }
    now = timezone.now()
    times = []
    for run in range(runs + 1):  # the first run warms the caches, as the card's first request does
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for step in LEDGER[card]:
                if callable(step):
                    step(merchant, now)
                else:
                    cursor.execute(step, params)
                    cursor.fetchall()
        if run:
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _queries(client: Client, url: str) -> int:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url, secure=True)
    return len(captured)


if __name__ == "__main__":
    main()
