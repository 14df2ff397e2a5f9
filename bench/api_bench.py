"""The purchase API under load, next to a bare Django view doing the same work, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1/loyalty_bench .venv/bin/python bench/api_bench.py
    #   --clients 8      concurrent clients (tills), each with a keep-alive connection
    #   --seconds 15     length of each measurement
    #   --workers 4      gunicorn worker processes
    #   --members 2000   members in the throwaway shop

Starts gunicorn on 127.0.0.1 (production settings, plain http) with two extra URLs (bench/bare.py):
a bare Django view that locks the account, inserts the purchase and its ledger line and updates the
account through the ORM (no DRF, key, idempotency or loyalty rules), and the same rows in raw SQL
(the floor). Each client posts purchases for members of its own (tills do not share customers at
the same instant): to POST /api/v1/purchases/ with a key and an Idempotency-Key, and to the two
references; they take turns, twice, so none gets a warmer machine. Prints requests per second,
p50 and p99 of each, and the API's throughput against the bare Django view. Deletes the shop after.
"""

import argparse
import http.client
import json
import os
import random
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

from bench.purchase_bench import shop_create, shop_delete  # noqa: E402
from members.models import Member  # noqa: E402
from merchants.models import ApiScope  # noqa: E402
from merchants.services import api_key_create  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--members", type=int, default=2000)
    args = parser.parse_args()
    if connection.vendor != "postgresql" or urlsplit(os.environ.get("DATABASE_URL", "")).hostname not in {
        "127.0.0.1",
        "localhost",
    }:
        sys.exit("Point DATABASE_URL at a PostgreSQL database on this machine.")
    shop = shop_create(args.members, 1)
    try:
        _key, raw = api_key_create(merchant=shop, name="Bench", scope=ApiScope.FULL, by=None)
        members = list(Member.objects.filter(merchant=shop).values_list("pk", flat=True))
        port = free_port()
        server = gunicorn(port, args.workers, shop.slug)
        try:
            results = {"api": [], "bare": [], "raw": []}
            for name in results:  # every worker warm (imports, connections, caches) before the clock runs
                load(name, port, raw, members, args.clients, 3)
            for _round in range(2):
                for name in results:
                    results[name].append(load(name, port, raw, members, args.clients, args.seconds))
        finally:
            server.terminate()
            server.wait(timeout=30)
        print(f"\n{args.clients} clients, {args.workers} gunicorn workers, {args.seconds:.0f} s per run, two runs each")
        print(f"{'':28s}{'req/s':>10s}{'p50 ms':>10s}{'p99 ms':>10s}{'errors':>8s}")
        summary = {}
        labels = (("api", "POST /api/v1/purchases/"), ("bare", "bare Django view (ORM)"), ("raw", "raw SQL view"))
        for name, label in labels:
            rate = statistics.median(run["rate"] for run in results[name])
            latencies = sorted(x for run in results[name] for x in run["latencies"])
            p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
            errors = sum(run["errors"] for run in results[name])
            summary[name] = rate
            print(f"{label:28s}{rate:10.0f}{p50:10.1f}{p99:10.1f}{errors:8d}")
        print(f"API / bare throughput: {summary['api'] / summary['bare']:.2f}")
    finally:
        shop_delete(shop)


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
    """`clients` threads posting purchases for `seconds`; each posts for its own share of members."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    path = {"api": "/api/v1/purchases/", "bare": "/bench/bare-purchase/", "raw": "/bench/raw-purchase/"}[name]

    def client(n: int) -> None:
        rng = random.Random(n)
        mine = members[n::clients]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        seen, failed = [], 0
        while time.monotonic() < stop:
            body = json.dumps({"member": rng.choice(mine), "amount": f"{rng.randrange(500, 6000, 50) / 100:.2f}"})
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
            headers["Idempotency-Key"] = uuid.uuid4().hex
            started = time.perf_counter()
            conn.request("POST", path, body, headers)
            response = conn.getresponse()
            response.read()
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
        thread.join(timeout=seconds + 30)
    elapsed = time.perf_counter() - started
    return {"rate": len(latencies) / elapsed, "latencies": latencies, "errors": errors[0]}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * p / 100))]


if __name__ == "__main__":
    main()
