"""A large customer file imported end to end, as a shop owner does it: upload, check, import; then again.

    DATABASE_URL=postgres://postgres@127.0.0.1/loyalty_bench CELERY_BROKER_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/import_bench.py --rows 100000 --runs 3

Makes a CSV of --rows customers the way a POS export looks (local phone formats, day-first dates,
points, tiers, consents, tags; one row in a hundred with a mistake) and a throwaway shop. The
upload runs here, through the service the upload page calls. The check and the import run where
they run in production: in a real Celery worker, started for each run (one worker process, solo
pool), fed through the broker. Each step is timed from the moment the page would queue it to the
moment the job's status moves on (what the owner sees on the progress bar); memory is the worker
process's peak resident set during the step (VmHWM, reset before each step). Then the same file
goes through again, which must change nothing. Prints each run and the median; deletes the shop.

Two references, measured in each run: PostgreSQL's COPY of the same file into a table of text
columns (reading the file, nothing checked), and COPY of the rows the import wrote (members,
accounts, ledger lines, consents, tags, tier changes) into empty copies of their tables, with their
indexes and checks but no foreign keys: the floor of writing what the import writes. --json writes
every figure to a file (bench/run.py reads it).
"""

import argparse
import csv
import io
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty.settings")
os.environ.setdefault("SECRET_KEY", f"bench-only-{uuid.uuid4()}")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402

from loyalty.celery import app as celery_app  # noqa: E402
from members.models import ConsentEvent, Member, MemberTag, Tag  # noqa: E402
from merchants.actors import Actor  # noqa: E402
from merchants.models import Merchant, Staff, User  # noqa: E402
from merchants.services import merchant_create  # noqa: E402
from rewards.imports.models import ImportChunk, ImportJob, ImportRow, ImportStatus  # noqa: E402
from rewards.imports.services import import_apply_start, import_check_start, import_upload  # noqa: E402
from rewards.models import Account, PointsEntry, Tier, TierChange  # noqa: E402

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# What an import writes, children first.
IMPORTED = (PointsEntry, TierChange, Account, ConsentEvent, MemberTag, Tag, Member)
STEP_TIMEOUT = 600  # seconds: a step that takes longer has failed
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
    parser.add_argument("--runs", type=int, default=3, help="runs, each with a shop and a worker of its own")
    parser.add_argument("--json", type=Path, help="write the figures to this file as JSON")
    args = parser.parse_args()
    refuse_unless_local()
    figures = measure(args.rows, args.bad, args.runs)
    print("\nMedian of", args.runs, "runs:")
    for name, value in figures["median"].items():
        print(f"  {name:34} {value:8.1f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


def measure(rows: int, bad: float, runs: int) -> dict:
    """`runs` runs on a file of `rows` customers: each run's figures and their medians."""
    data = customer_file(rows, bad)
    print(
        f"File: {rows:,} rows, {len(data) / 1e6:.1f} MB of CSV. Broker {urlsplit(settings.CELERY_BROKER_URL).scheme}, "
        f"{settings.IMPORT_WRITERS} writers, chunks of {settings.IMPORT_CHUNK_ROWS:,} rows, {os.cpu_count()} CPUs."
    )
    settings.IMPORT_INLINE_ROWS = 0  # every check and import goes to the worker, as a big file's do
    queue = f"import-bench-{uuid.uuid4().hex[:8]}"
    celery_app.conf.task_default_queue = queue
    results = [run(data, queue, rows) for _ in range(runs)]
    median = {name: statistics.median(r[name] for r in results) for name in results[0]}
    return {"rows": rows, "csv_mb": len(data) / 1e6, "runs": runs, "median": median, "per_run": results}


def run(data: bytes, queue: str, rows: int) -> dict[str, float]:
    shop, actor = shop_create()
    worker = Worker(queue)
    figures: dict[str, float] = {}
    try:
        for attempt in ("first", "again"):
            started = time.perf_counter()
            job = import_upload(merchant=shop, actor=actor, upload=SimpleUploadedFile("customers.csv", data))
            upload = time.perf_counter() - started
            check, check_mb = worker.step(lambda job=job: import_check_start(job=job, mapping=job.mapping, actor=actor))
            imported, import_mb = worker.step(
                lambda job=job: import_apply_start(job=ImportJob.objects.get(pk=job.pk), actor=actor)
            )
            job.refresh_from_db()
            print(
                f"{attempt:>5}: upload {upload:.1f} s, check {check:.1f} s ({check_mb:.0f} MB), "
                f"import {imported:.1f} s ({import_mb:.0f} MB); end to end {upload + check + imported:.1f} s. "
                f"new {job.new:,}, updated {job.updated:,}, unchanged {job.unchanged:,}, invalid {job.invalid:,}"
            )
            figures |= {
                f"{attempt}: check, s": check,
                f"{attempt}: import, s": imported,
                f"{attempt}: import, rows/s": rows / imported,
                f"{attempt}: end to end, s": upload + check + imported,
                f"{attempt}: worker peak, MB": max(check_mb, import_mb),
            }
        members = Member.objects.for_merchant(shop).count()
        entries = PointsEntry.objects.filter(merchant=shop).count()
        print(f"       shop now: {members:,} members, {entries:,} ledger entries")
        figures["COPY of the file, s"] = copy_file(data)
        figures["COPY of the rows written, s"], written = copy_written(shop)
        print(
            f"  references: COPY of the file {figures['COPY of the file, s']:.1f} s, COPY of the "
            f"{written:,} rows the import wrote {figures['COPY of the rows written, s']:.1f} s"
        )
    finally:
        worker.stop()
        shop_delete(shop)
    return figures


def copy_file(data: bytes) -> float:
    """Seconds for PostgreSQL's COPY of the customer file into a table of text columns."""
    columns = ", ".join(f"c{n} text" for n in range(len(HEADER)))
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE bench_copy_file ({columns})")
        try:
            started = time.perf_counter()
            with cursor.copy("COPY bench_copy_file FROM STDIN (FORMAT csv, HEADER true)") as copy:
                copy.write(data)
            return time.perf_counter() - started
        finally:
            cursor.execute("DROP TABLE bench_copy_file")


def copy_written(shop: Merchant) -> tuple[float, int]:
    """Seconds for COPY of the rows the import wrote into empty copies of their tables (indexes and
    checks, no foreign keys), and how many rows. The rows are read out first, untimed."""
    tables = [model._meta.db_table for model in IMPORTED]
    seconds, rows = 0.0, 0
    with connection.cursor() as cursor:
        for table in tables:
            out = f"COPY (SELECT * FROM {table} WHERE merchant_id = {int(shop.pk)}) TO STDOUT (FORMAT binary)"  # noqa: S608 - our own names
            with cursor.copy(out) as copy:
                data = b"".join(bytes(block) for block in copy)
            cursor.execute(f"SELECT count(*) FROM {table} WHERE merchant_id = %s", [shop.pk])  # noqa: S608
            rows += cursor.fetchone()[0]
            cursor.execute(f"CREATE TABLE bench_copy_{table} (LIKE {table} INCLUDING ALL)")
            try:
                started = time.perf_counter()
                with cursor.copy(f"COPY bench_copy_{table} FROM STDIN (FORMAT binary)") as copy:
                    copy.write(data)
                seconds += time.perf_counter() - started
            finally:
                cursor.execute(f"DROP TABLE bench_copy_{table}")
    return seconds, rows


class Worker:
    """A real Celery worker process on the bench's own queue."""

    def __init__(self, queue: str) -> None:
        command = [sys.executable, "-m", "celery", "-A", "loyalty", "worker", "-P", "solo", "-Q", queue]
        command += ["--without-mingle", "--without-gossip", "--without-heartbeat", "-l", "INFO"]
        root = Path(__file__).resolve().parent.parent
        env = {"MALLOC_ARENA_MAX": "2", **os.environ}  # as the Procfile runs workers
        self.process = subprocess.Popen(
            command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        deadline = time.monotonic() + 60
        for line in self.process.stdout:  # wait for "celery@host ready."
            if " ready." in line:
                break
            if time.monotonic() > deadline:
                sys.exit("the Celery worker did not start")
        else:
            sys.exit(f"the Celery worker stopped: exit code {self.process.wait()}")

    def step(self, start) -> tuple[float, float]:
        """Start a check or an import as the page does, wait for the job to move on: seconds, peak MB."""
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")  # reset the peak resident set
        started = time.perf_counter()
        job = start()
        status = ImportJob.objects.filter(pk=job.pk).values_list("status", flat=True)  # not the file: 11 MB a poll
        while status.get() in (ImportStatus.CHECKING, ImportStatus.APPLYING):
            if time.perf_counter() - started > STEP_TIMEOUT:
                sys.exit(f"job {job.pk} is still {job.status} after {STEP_TIMEOUT} s")
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        job.refresh_from_db()
        if job.status not in (ImportStatus.CHECKED, ImportStatus.DONE):
            sys.exit(f"job {job.pk} ended {job.status}: {job.error}")
        return seconds, self.peak_mb()

    def peak_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def refuse_unless_local() -> None:
    if connection.vendor != "postgresql":
        sys.exit("import_bench measures PostgreSQL: set DATABASE_URL=postgres://user@127.0.0.1/dbname.")
    if settings.DATABASES["default"].get("HOST") not in LOCAL_HOSTS:
        sys.exit(
            f"import_bench only talks to a local server (127.0.0.1), not {settings.DATABASES['default'].get('HOST')!r}."
        )
    broker = urlsplit(settings.CELERY_BROKER_URL)
    if broker.scheme != "redis" or broker.hostname not in LOCAL_HOSTS:
        sys.exit("import_bench needs a local Redis broker: set CELERY_BROKER_URL=redis://127.0.0.1:6379/14.")


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


def shop_delete(shop: Merchant) -> None:
    """The throwaway shop and everything the import made, table by table in SQL: Django's deletion
    collector would load all 100,000 members to cascade from them one batch at a time."""
    users = list(Staff.objects.filter(merchant=shop).values_list("user_id", flat=True))
    rows_delete(
        shop,
        [
            (PointsEntry, TierChange, ConsentEvent, MemberTag, ImportChunk, ImportRow),
            (Account, Tag),
            (Member, ImportJob),
        ],
    )
    shop.delete()
    User.objects.filter(pk__in=users).delete()


def rows_delete(shop: Merchant, layers: list[tuple[type, ...]]) -> None:
    """Delete the shop's rows table by table in SQL, a layer of tables at a time, children first.

    Each layer is vacuumed before the next one goes: PostgreSQL checks a foreign key once per
    deleted parent row with a plan made for any shop, which may read the shop's whole part of a
    child's merchant index, dead rows included. Without the vacuum, deleting 100,000 members reads
    the 100,000 dead rows of their consents and tags once per member (minutes, not seconds)."""
    with connection.cursor() as cursor:
        for layer in layers:
            tables = [model._meta.db_table for model in layer]
            for table in tables:
                cursor.execute(f"DELETE FROM {table} WHERE merchant_id = %s", [shop.pk])  # noqa: S608 - our own table names
            cursor.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")


if __name__ == "__main__":
    main()
