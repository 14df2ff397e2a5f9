"""A large customer file imported end to end: upload, check (the dry run), import; then the same file again.

    DATABASE_URL=postgres://postgres@127.0.0.1/loyalty .venv/bin/python bench/import_bench.py

Makes a CSV of --rows customers the way a POS export looks (local phone formats, day-first dates,
points, tiers, consents, tags; some rows with mistakes), creates a throwaway shop, and times each
step through the same services the pages and the worker call. Peak memory is the process's
maximum resident set (ru_maxrss), read before and after. The shop is deleted at the end.
"""

import argparse
import csv
import io
import os
import random
import resource
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty.settings")
os.environ.setdefault("SECRET_KEY", f"bench-only-{uuid.uuid4()}")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402

from members.models import Member  # noqa: E402
from merchants.actors import Actor  # noqa: E402
from merchants.models import Merchant, Staff, User  # noqa: E402
from merchants.services import merchant_create  # noqa: E402
from rewards.imports.models import ImportJob  # noqa: E402
from rewards.imports.services import import_apply_start, import_check_start, import_upload  # noqa: E402
from rewards.models import Account, PointsEntry, Tier  # noqa: E402

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
FIRST = ["Siti", "Nur", "Aminah", "Wei Ling", "Mei", "Priya", "Arjun", "Ahmad", "Farah", "Jason", "Kavitha", "Lim"]
LAST = ["Abdullah", "Tan", "Lee", "Wong", "Raj", "Kumar", "Ismail", "Ong", "Chong", "Hassan", "Nair", "Yusof"]
HEADER = [
    "Customer name", "Mobile", "Email", "Date of birth", "Points balance", "VIP tier", "Member since",
    "Last visit", "Total spent", "Total visits", "Accepts email marketing", "SMS opt-in", "Tags", "Note",
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="customers in the file (default 100000)")
    parser.add_argument("--bad", type=float, default=0.01, help="share of rows with a mistake (default 0.01)")
    args = parser.parse_args()
    refuse_unless_local_postgres()
    base_rss = peak_mb()
    data = customer_file(args.rows, args.bad)
    print(f"File: {args.rows:,} rows, {len(data) / 1e6:.1f} MB of CSV; process at {peak_mb():.0f} MB after making it")
    settings.IMPORT_INLINE_ROWS = 10**9  # run each step here, as the worker would, and time it
    shop, actor = shop_create()
    try:
        for attempt in ("first import", "same file again"):
            timings, job = run(shop, actor, data)
            total = sum(timings.values())
            steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
            print(
                f"{attempt}: {steps}; end to end {total:.1f} s ({args.rows / total:,.0f} rows/s). "
                f"new {job.new:,}, updated {job.updated:,}, unchanged {job.unchanged:,}, invalid {job.invalid:,}"
            )
        members = Member.objects.for_merchant(shop).count()
        entries = PointsEntry.objects.filter(merchant=shop).count()
        print(f"Shop now: {members:,} members, {entries:,} ledger entries")
        print(f"Peak memory: {peak_mb():.0f} MB (process), {peak_mb() - base_rss:.0f} MB above the start")
    finally:
        shop_delete(shop)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def refuse_unless_local_postgres() -> None:
    database = settings.DATABASES["default"]
    if connection.vendor != "postgresql":
        sys.exit("import_bench measures PostgreSQL: set DATABASE_URL=postgres://user@127.0.0.1/dbname.")
    if database.get("HOST") not in LOCAL_HOSTS:
        sys.exit(f"import_bench only talks to a local server (127.0.0.1), not {database.get('HOST')!r}.")


def customer_file(rows: int, bad: float) -> bytes:
    rng = random.Random(5)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    today = date(2026, 11, 30)
    for i in range(rows):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        subscriber = f"{3_000_000 + i:07d}"
        phone = f"01{rng.choice('2346789')}-{subscriber[:3]} {subscriber[3:]}"
        joined = today - timedelta(days=rng.randrange(30, 2000))
        visit = joined + timedelta(days=rng.randrange(0, (today - joined).days))
        birthday = date(rng.randrange(1950, 2006), rng.randrange(1, 13), rng.randrange(1, 29))
        row = [
            f"{first} {last}",
            phone,
            f"{first.lower().replace(' ', '')}.{i}@example.com" if rng.random() < 0.7 else "",
            birthday.strftime("%d/%m/%Y"),
            str(rng.randrange(0, 3000)),
            rng.choice(["", "", "", "Silver", "Gold"]),
            joined.strftime("%d/%m/%Y"),
            visit.strftime("%d/%m/%Y"),
            f"{rng.randrange(10, 500000) / 100:,.2f}",
            str(rng.randrange(1, 200)),
            rng.choice(["yes", "no"]),
            rng.choice(["yes", "no", ""]),
            rng.choice(["", "", "vip", "wholesale, regular", "regular"]),
            "",
        ]
        if row[2] == "" and row[10] == "yes":
            row[10] = "no"  # no email, no email offers (the check would rightly refuse the row)
        if rng.random() < bad:
            row[rng.choice([1, 3, 4])] = rng.choice(["n/a", "31/02/1990", "-5", "abc"])
        writer.writerow(row)
    return buffer.getvalue().encode()


def shop_create() -> tuple[Merchant, Actor]:
    tag = uuid.uuid4().hex[:8]
    owner = User.objects.create_user(f"bench-owner-{tag}@example.com", None, name="Bench Owner")
    shop = merchant_create(
        owner=owner, name=f"Bench {tag}", country="MY", currency="MYR", timezone="Asia/Kuala_Lumpur", language="en"
    )
    for name, threshold in (("Silver", 500), ("Gold", 2000)):
        Tier.objects.create(merchant=shop, name=name, threshold=threshold)
    return shop, Actor.for_staff(Staff.objects.get(merchant=shop, user=owner))


def run(shop: Merchant, actor: Actor, data: bytes) -> tuple[dict[str, float], ImportJob]:
    timings = {}
    started = time.perf_counter()
    job = import_upload(merchant=shop, actor=actor, upload=SimpleUploadedFile("customers.csv", data))
    timings["upload"] = time.perf_counter() - started
    started = time.perf_counter()
    job = import_check_start(job=job, mapping=job.mapping, actor=actor)
    timings["check"] = time.perf_counter() - started
    if job.status != "checked":
        sys.exit(f"the check ended {job.status}: {job.error}")
    started = time.perf_counter()
    job = import_apply_start(job=job, actor=actor)
    timings["import"] = time.perf_counter() - started
    job.refresh_from_db()
    if job.status != "done":
        sys.exit(f"the import ended {job.status}: {job.error}")
    return timings, job


def shop_delete(shop: Merchant) -> None:
    users = list(Staff.objects.filter(merchant=shop).values_list("user_id", flat=True))
    PointsEntry.objects.filter(merchant=shop).delete()
    Account.objects.filter(merchant=shop).delete()
    shop.delete()
    User.objects.filter(pk__in=users).delete()
    print(f"Deleted shop {shop.slug}.")


if __name__ == "__main__":
    main()
