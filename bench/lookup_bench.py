"""Member lookups at the counter with 100,000 members in one shop: p50 and p99, and the plans.

    DATABASE_URL=postgres://postgres@127.0.0.1/postgres .venv/bin/python bench/lookup_bench.py --compare

DATABASE_URL only says which local PostgreSQL server to use: the bench creates its own scratch
database next to it (createdb/dropdb on 127.0.0.1), migrates it, seeds it with
`seed_demo --members 100000 --months 1`, times member_search and member_by_card the way the counter
calls them, prints EXPLAIN ANALYZE for one lookup of each kind, and drops the database again.
With --compare it measures twice: first with the members app migrated back to before its lookup
indexes, then with them. With --in-place it measures the demo shop of the database DATABASE_URL
names, as it is (bench/run.py seeds one for all its measurements). The reference, measured in the
same run: the same shop's members looked up by primary key through the ORM, the floor of any
lookup. --runs repeats the timed lookups; each figure is the median of the runs'. See bench/README.md.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty.settings")
# The bench serves no requests; settings refuse the development key only to protect deployments.
os.environ.setdefault("SECRET_KEY", f"bench-only-{uuid.uuid4()}")

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
BEFORE_INDEXES = "0002"  # the members migration before 0003_lookup_indexes
RESULTS = 10  # the counter shows the first ten matches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000, help="members in the demo shop (default 100000)")
    parser.add_argument("--months", type=int, default=1, help="months of seeded history (default 1)")
    parser.add_argument("--lookups", type=int, default=300, help="timed lookups of each kind (default 300)")
    parser.add_argument("--database", default="loyalty_lookup_bench", help="scratch database name")
    parser.add_argument("--compare", action="store_true", help="measure without the lookup indexes first")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (and reuse a kept one)")
    parser.add_argument("--in-place", action="store_true", help="measure DATABASE_URL's demo shop as it is")
    parser.add_argument("--runs", type=int, default=1, help="runs of the timed lookups (default 1)")
    parser.add_argument("--json", type=Path, help="write the figures to this file as JSON")
    args = parser.parse_args()

    server = local_postgres_url(os.environ.get("DATABASE_URL", ""))
    if args.in_place:
        figures = bench(args, reuse=True)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2))
        return
    reuse = args.keep and database_exists(server, args.database)
    if not reuse:
        run_pg("dropdb", server, "--if-exists", args.database)
        run_pg("createdb", server, args.database)
    os.environ["DATABASE_URL"] = with_database(server, args.database)
    try:
        bench(args, reuse)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            run_pg("dropdb", server, "--if-exists", args.database)
            print(f"Dropped the scratch database {args.database}.")


# ---------------------------------------------------------------------------------------------
# The scratch database, next to the server DATABASE_URL names


def local_postgres_url(url: str) -> str:
    """DATABASE_URL, if it is a PostgreSQL server on this machine; otherwise a clear refusal."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(
            "lookup_bench measures PostgreSQL's indexes and does not run on SQLite: set "
            "DATABASE_URL=postgres://postgres@127.0.0.1/postgres (any database on a local server; "
            "the bench makes its own scratch database next to it)."
        )
    if parts.hostname not in LOCAL_HOSTS:
        sys.exit(f"lookup_bench only talks to a local server (127.0.0.1), not {parts.hostname!r}.")
    return url


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _pg_args(url: str) -> list[str]:
    parts = urlsplit(url)
    return ["-h", "127.0.0.1", "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]


def _pg_env(url: str) -> dict[str, str]:
    password = urlsplit(url).password
    return os.environ | ({"PGPASSWORD": password} if password else {})


def run_pg(tool: str, url: str, *args: str) -> None:
    subprocess.run([tool, *_pg_args(url), *args], check=True, env=_pg_env(url))


def database_exists(url: str, name: str) -> bool:
    sql = f"SELECT 1 FROM pg_database WHERE datname = '{name.replace("'", "''")}'"  # noqa: S608 (our own argument)
    found = subprocess.run(
        ["psql", *_pg_args(url), "-d", "postgres", "-Atc", sql],
        check=True,
        capture_output=True,
        text=True,
        env=_pg_env(url),
    )
    return found.stdout.strip() == "1"


# ---------------------------------------------------------------------------------------------
# Seeding and measuring


def bench(args: argparse.Namespace, reuse: bool) -> dict:
    """Seed (unless reusing), measure, and return the last measurement's figures by lookup."""
    import django

    django.setup()
    from django.core.management import call_command

    from members.models import Member
    from rewards.management.commands.seed_demo import DEMO_SLUG

    if args.in_place:
        if not Member.objects.filter(merchant__slug=DEMO_SLUG).exists():
            sys.exit("--in-place measures the demo shop: run seed_demo first")
        return measure_all(f"the demo shop, {args.runs} run(s)", args.lookups, args.runs)
    call_command("migrate", verbosity=0)
    if not (reuse and Member.objects.filter(merchant__slug=DEMO_SLUG).exists()):
        started = time.perf_counter()
        call_command("seed_demo", members=args.members, months=args.months, verbosity=0)
        print(
            f"Seeded {args.members:,} members, {args.months} month(s) of history in {time.perf_counter() - started:.0f} s"
        )
    if args.compare:
        call_command("migrate", "members", BEFORE_INDEXES, verbosity=0)
        measure_all("without the lookup indexes (members migrated back to 0002)", args.lookups, args.runs)
        call_command("migrate", verbosity=0)
    return measure_all("with the lookup indexes" if args.compare else "as migrated", args.lookups, args.runs)


@dataclass
class Lookup:
    key: str
    label: str
    samples: list[str]
    run: Callable[[str], int]  # returns how many members it found


def lookups(count: int) -> list[Lookup]:
    import phonenumbers

    from members.models import Member
    from members.selectors import member_search
    from members.services import member_by_card
    from rewards.management.commands.seed_demo import DEMO_SLUG

    shop = Member.objects.filter(merchant__slug=DEMO_SLUG).select_related("merchant").first().merchant
    rng = random.Random(42)
    ids = list(Member.objects.filter(merchant=shop).values_list("pk", flat=True))
    picked = list(Member.objects.filter(pk__in=rng.sample(ids, min(count, len(ids)))))

    def national(e164: str) -> str:  # as a cashier types it: 012-345 6789
        return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL)

    def search(query: str) -> int:
        return len(member_search(merchant=shop, query=query)[:RESULTS])

    def by_card(number: str) -> int:
        return int(member_by_card(merchant=shop, number=number) is not None)

    def by_id(pk: str) -> int:  # the reference: the primary key's index, through the same ORM
        return len(Member.objects.for_merchant(shop).filter(pk=int(pk))[:RESULTS])

    return [
        Lookup("phone", "full phone (012-345 6789)", [national(m.phone) for m in picked], search),
        Lookup("phone_last4", "last 4 digits of a phone", [m.phone[-4:] for m in picked], search),
        Lookup("card", "card number (member_by_card)", [m.card_number for m in picked], by_card),
        Lookup("unknown_card", "unknown card number", [f"ZZ{rng.randrange(10**8):08d}" for _ in picked], by_card),
        Lookup("name_prefix", "name prefix, 2-3 letters", [m.first_name[: rng.choice((2, 3))] for m in picked], search),
        Lookup("id", "primary key (reference)", [str(m.pk) for m in picked], by_id),
    ]


def measure_all(title: str, count: int, runs: int = 1) -> dict[str, dict[str, float]]:
    """Time `count` lookups of each kind, `runs` times; print and return the medians of the runs'
    p50, p99 and slowest, by lookup."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE members_member; ANALYZE members_card")
    print(f"\n== {title} ==")
    print(f"{'lookup':<32} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'found':>7}")
    figures = {}
    for lookup in lookups(count):
        for sample in lookup.samples[:20]:  # warm up: connection, caches, plans
            lookup.run(sample)
        measured = []
        for _run in range(runs):
            times, found = [], 0
            for sample in lookup.samples:
                started = time.perf_counter()
                found += lookup.run(sample)
                times.append((time.perf_counter() - started) * 1000)
            measured.append((statistics.median(times), statistics.quantiles(times, n=100)[98], max(times)))
        p50, p99, slowest = (statistics.median(column) for column in zip(*measured, strict=True))
        figures[lookup.key] = {"p50": p50, "p99": p99, "max": slowest, "found": found / len(times)}
        print(f"{lookup.label:<32} {p50:8.2f} {p99:8.2f} {slowest:8.2f} {found / len(times):7.1f}")
    for lookup in lookups(count):
        explain(lookup)
    return figures


def explain(lookup: Lookup) -> None:
    """EXPLAIN ANALYZE of each statement the first sample runs, trimmed to the plan's scan lines."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        lookup.run(lookup.samples[0])
    print(f"\n-- {lookup.label}: {lookup.samples[0]!r}")
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) " + query["sql"])
            lines = [row[0] for row in cursor.fetchall()]
            shown = [line for line in lines if any(word in line for word in ("Scan", "Cond", "Execution Time"))]
            print("\n".join(f"   {line.rstrip()}" for line in shown))


if __name__ == "__main__":
    main()
