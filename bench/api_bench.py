"""The purchase API under load, next to a bare Django view doing the same work, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1/loyalty_bench .venv/bin/python bench/api_bench.py
    #   --clients 8      concurrent clients (tills), each with a keep-alive connection
    #   --seconds 15     length of each measurement
    #   --rounds 2       rounds: each contestant runs once per round, in turn
    #   --workers 4      gunicorn worker processes
    #   --members 2000   members in the throwaway shop
    #   --pgbench        also run the raw view's statements through pgbench (no HTTP, no Python)
    #   --json FILE      also write the figures to FILE (bench/run.py reads them)

Starts gunicorn on 127.0.0.1 (production settings, plain http) with two extra URLs (bench/bare.py):
a bare Django view that locks the account, inserts the purchase and its ledger line and updates the
account through the ORM (no DRF, key, idempotency or loyalty rules), and the same rows in raw SQL
(the floor). Each client posts purchases for members of its own (tills do not share customers at
the same instant): to POST /api/v1/purchases/ with a key and an Idempotency-Key, and to the two
references; they take turns, round after round, so none gets a warmer machine. With --pgbench,
pgbench takes its turn too, with the raw view's four statements in a script file and the same
clients and members: what PostgreSQL alone does at that concurrency. Prints requests per second
(median of the rounds), p50 and p99 over all rounds, errors, and the API's throughput against the
bare Django view. Deletes the shop after.
"""

import argparse
import http.client
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty.settings")
os.environ.setdefault("SECRET_KEY", f"bench-only-{uuid.uuid4()}")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.purchase_bench import RawWork, shop_create, shop_delete  # noqa: E402
from members.models import Member  # noqa: E402
from merchants.models import ApiScope, Merchant  # noqa: E402
from merchants.services import api_key_create  # noqa: E402
from rewards import ledger  # noqa: E402

LABELS = {
    "api": "POST /api/v1/purchases/",
    "bare": "bare Django view (ORM)",
    "raw": "raw SQL view",
    "pgbench": "pgbench, raw view's SQL",
}
WARM_UP = 3  # seconds per contestant before the clock runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--pgbench", action="store_true", help="also run the raw view's SQL through pgbench")
    parser.add_argument("--json", type=Path, help="write the figures to this file as JSON")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or urlsplit(os.environ.get("DATABASE_URL", "")).hostname not in {
        "127.0.0.1",
        "localhost",
    }:
        sys.exit("Point DATABASE_URL at a PostgreSQL database on this machine.")
    if args.pgbench and not shutil.which("pgbench"):
        sys.exit("--pgbench needs pgbench on PATH (Debian: apt-get install postgresql-client).")
    figures = measure(args.clients, args.seconds, args.rounds, args.workers, args.members, args.pgbench)
    print(
        f"\n{args.clients} clients, {args.workers} gunicorn workers, {args.seconds:.0f} s per run, "
        f"{args.rounds} rounds; req/s: median of the rounds, p50 and p99 over all of them"
    )
    print(f"{'':28s}{'req/s':>10s}{'p50 ms':>10s}{'p99 ms':>10s}{'errors':>8s}")
    for name, label in LABELS.items():
        if name in figures:
            row = figures[name]
            print(f"{label:28s}{row['rate']:10.0f}{row['p50']:10.1f}{row['p99']:10.1f}{row['errors']:8d}")
    print(f"API / bare throughput: {figures['api']['rate'] / figures['bare']['rate']:.2f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


def measure(clients: int, seconds: float, rounds: int, workers: int, members: int, pgbench: bool) -> dict:
    """Each contestant `rounds` times for `seconds`, in turn: req/s (median of the rounds), p50 and p99
    (over every round's requests), errors."""
    shop = shop_create(members, 1)
    try:
        _key, raw = api_key_create(merchant=shop, name="Bench", scope=ApiScope.FULL, by=None)
        member_ids = list(Member.objects.filter(merchant=shop).order_by("pk").values_list("pk", flat=True))
        names = ["api", "bare", "raw"]
        if pgbench:
            names.append("pgbench")
            script = pgbench_script(shop, member_ids, Path(tempfile.mkdtemp(prefix="api-bench-pgbench-")))
        port = free_port()
        server = gunicorn(port, workers, shop.slug)
        runs: dict[str, list[dict]] = {name: [] for name in names}
        try:
            for name in names:  # every worker warm (imports, connections, caches) before the clock runs
                if name != "pgbench":
                    load(name, port, raw, member_ids, clients, WARM_UP)
            for _round in range(rounds):
                for name in names:
                    if name == "pgbench":
                        runs[name].append(pgbench_load(script, member_ids, clients, seconds))
                    else:
                        runs[name].append(load(name, port, raw, member_ids, clients, seconds))
        finally:
            server.terminate()
            server.wait(timeout=30)
            if pgbench:
                shutil.rmtree(script.parent, ignore_errors=True)
    finally:
        shop_delete(shop)
    figures: dict = {"clients": clients, "workers": workers, "seconds": seconds, "rounds": rounds}
    for name, results in runs.items():
        latencies = sorted(x for run in results for x in run["latencies"])
        figures[name] = {
            "rate": statistics.median(run["rate"] for run in results),
            "p50": percentile(latencies, 50),
            "p99": percentile(latencies, 99),
            "errors": sum(run["errors"] for run in results),
            "rates": [run["rate"] for run in results],
            "requests": len(latencies),
        }
    return figures


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn(port: int, workers: int, slug: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings_bench",
        "BENCH_SHOP": slug,
        "DEBUG": "0",
        "HTTPS": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "API_RATE": "1000000/min",  # the bench measures speed, not the per-key limit
    }
    log = open(Path(tempfile.gettempdir()) / f"api-bench-gunicorn-{port}.log", "w")  # noqa: SIM115 - lives as long as the server
    command = [sys.executable, "-m", "gunicorn", "loyalty.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit(f"gunicorn did not start; see {log.name}")


def load(name: str, port: int, key: str, members: list[int], clients: int, seconds: float) -> dict:
    """`clients` threads posting purchases for `seconds`; each posts for its own share of members.

    A request that fails (an answer other than 201, a dropped connection, no answer in 30 s) counts
    as an error and its client carries on with a new connection."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    path = {"api": "/api/v1/purchases/", "bare": "/bench/bare-purchase/", "raw": "/bench/raw-purchase/"}[name]

    def client(n: int) -> None:
        rng = random.Random(n)
        mine = members[n::clients]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        seen, failed = [], 0
        while time.monotonic() < stop:
            body = json.dumps({"member": rng.choice(mine), "amount": f"{rng.randrange(500, 6000, 50) / 100:.2f}"})
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
            headers["Idempotency-Key"] = uuid.uuid4().hex
            started = time.perf_counter()
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                failed += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            seen.append((time.perf_counter() - started) * 1000)
            failed += response.status != 201
        conn.close()
        with lock:
            latencies.extend(seen)
            errors[0] += failed

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    elapsed = time.perf_counter() - started
    return {"rate": len(latencies) / elapsed, "latencies": latencies, "errors": errors[0]}


# ---------------------------------------------------------------------------------------------
# pgbench: the raw view's statements with no HTTP and no Python in between


def _literal(value: object) -> str:
    """A value written into the script as an SQL literal (the shop's own ids and labels)."""
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def pgbench_script(shop: Merchant, members: list[int], folder: Path) -> Path:
    """The raw view's transaction (RawWork.record) as a pgbench script: lock the account, insert the
    purchase, insert its ledger line, update the account, with the rules read once here.

    Each client takes members of its own, as the HTTP clients do: member `lo + client_id + clients * n`
    is members[client_id::clients] when the shop's member ids run without a gap, which this checks.
    The points are the amount times the program's rate, within the daily cap; the tier multiplier,
    a number the view works out in Python between the statements, is left out (it changes the
    points, not the work)."""
    if members[-1] - members[0] + 1 != len(members):
        sys.exit(f"pgbench picks members by id: the shop's {len(members)} member ids are not one run without gaps")
    work = RawWork(shop)
    program, actor, location = work.program, work.counter.actor, work.counter.location
    rate_milli = int(program.points_per_unit * 1000)
    today = f"(now() AT TIME ZONE {_literal(shop.timezone)})::date"
    expires = ledger.credit_expiry(program, timezone.now())
    who = ", ".join(_literal(v) for v in (location.pk, actor.kind, actor.user.pk, actor.label))
    capped = (
        f"\\set points least(:points, greatest({program.daily_cap} - :earned_today, 0))\n" if program.daily_cap else ""
    )
    # The shop's own ids and labels, quoted by _literal.
    script = (
        "\\set n random(0, :per_client - 1)\n"  # noqa: S608
        "\\set member :lo + :client_id + :clients * :n\n"
        "\\set cents 50 * random(10, 119)\n"
        "BEGIN;\n"
        f"SELECT id AS account_id, balance, CASE WHEN day = {today} THEN day_earned ELSE 0 END AS earned_today "
        "FROM rewards_account WHERE member_id = :member FOR UPDATE \\gset\n"
        f"\\set points (:cents * {rate_milli}) / 100000\n"
        f"{capped}"
        "INSERT INTO rewards_purchase (merchant_id, account_id, amount, refunded_amount, points, points_reversed, "
        "receipt, location_id, actor_kind, actor_user_id, actor_label, request_hash, created_at) "
        f"VALUES ({shop.pk}, :account_id, :cents / 100.0, 0, :points, 0, '', {who}, '', now()) "
        "RETURNING id AS purchase_id \\gset\n"
        "\\if :points > 0\n"
        "INSERT INTO rewards_pointsentry (merchant_id, account_id, kind, points, balance_after, expires_at, reason, "
        "purchase_id, location_id, actor_kind, actor_user_id, actor_label, request_hash, created_at) "
        f"VALUES ({shop.pk}, :account_id, 'earn', :points, :balance + :points, {_literal(expires)}, '', "
        f":purchase_id, {who}, '', now());\n"
        "\\endif\n"
        "UPDATE rewards_account SET balance = balance + :points, lifetime_earned = lifetime_earned + :points, "
        "lifetime_spend = lifetime_spend + :cents / 100.0, purchase_count = purchase_count + 1, "
        f"qualifying_total = qualifying_total + :cents / 100.0, day = {today}, day_earned = :earned_today + :points, "
        "last_activity_at = now(), last_purchase_at = now() WHERE id = :account_id;\n"
        "END;\n"
    )
    path = folder / "purchase.sql"
    path.write_text(script)
    return path


def pgbench_load(script: Path, members: list[int], clients: int, seconds: float) -> dict:
    """pgbench -c clients -j 2 -T seconds on the script, against the bench's database on 127.0.0.1.

    Latencies come from pgbench's log of every transaction (-l), the rate from its own tps figure."""
    url = urlsplit(os.environ["DATABASE_URL"])
    logs = script.parent / f"log-{uuid.uuid4().hex[:6]}"
    logs.mkdir()
    per_client = len(members) // clients
    command = ["pgbench", "-n", "-c", str(clients), "-j", "2", "-T", str(round(seconds)), "-f", str(script)]
    command += ["-h", "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    command += ["-D", f"lo={members[0]}", "-D", f"clients={clients}", "-D", f"per_client={per_client}"]
    command += ["-l", f"--log-prefix={logs / 'tx'}", url.path.lstrip("/")]
    env = os.environ | ({"PGPASSWORD": url.password} if url.password else {})
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=seconds + 120, check=False)
    if done.returncode != 0:
        sys.exit(f"pgbench failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    # Each log line: client_id transaction_no time_us script_no epoch epoch_us (pgbench's -l format).
    latencies = [int(line.split()[2]) / 1000 for log in logs.iterdir() for line in log.read_text().splitlines()]
    tps = re.search(r"^tps = ([\d.]+)", done.stdout, re.MULTILINE)
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    shutil.rmtree(logs, ignore_errors=True)
    return {
        "rate": float(tps.group(1)) if tps else len(latencies) / seconds,
        "latencies": latencies,
        "errors": int(failed.group(1)) if failed else 0,
    }


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * p / 100))]


if __name__ == "__main__":
    main()
