"""The whole product measured at scale in one command, each figure next to a reference from the same run.

    make bench                                    # 100,000 members, about 2M ledger lines: about 40 minutes
    make bench ARGS="--members 20000"
    .venv/bin/python bench/run.py --members 5000 --lots 50000 --runs 1      # a check, about 15 minutes

Starts from nothing: creates a database of its own on the local PostgreSQL server
(loyalty_bench_<random>), migrates it and fills the demo shop with `seed_demo --members --months`
(24 months: about 20 ledger lines a member, 2M at 100,000). Then each measurement runs as its
bench/ script, in a process of its own (with its own settings and environment) and a time limit,
and hands its figures back as JSON:

  lookups    lookup_bench.py --in-place: the counter's search by phone and name prefix in the demo
             shop, p50 and p99; reference: members looked up by primary key;
  dashboard  dashboard_bench.py: each card's server time through Django's request cycle, for 30
             days and 12 months; reference: the card's figures read from the ledger in plain SQL;
  api        api_bench.py --pgbench: POST /api/v1/purchases/ through gunicorn at --clients clients,
             req/s, p50, p99; references: a bare Django view, a raw SQL view, and pgbench running
             the raw view's statements with no HTTP;
  import     import_bench.py: a --rows customer file, upload + check + import in a Celery worker,
             seconds and the worker's peak memory; references: COPY of the file, COPY of the rows
             the import wrote;
  expiry     expiry_bench.py: the nightly expiry over --lots credit lots, first and second run;
             reference: the same lines and updates in one set-based statement;
  campaign   campaign_bench.py: a campaign to the demo shop, writing the outbox and sending it with
             two Celery workers through the file email backend; references: one INSERT ... SELECT,
             and the emails written by the backend alone.

Cheap measurements are repeated --runs times and their medians kept; the import, the expiry and the
campaign run once (--heavy-runs repeats the import). gunicorn, the Celery workers and pgbench are
started by the scripts, on 127.0.0.1, as production runs them. At the end it prints one table
(measurement, median, reference, reference median, ratio, and the issues' target where there is
one, with misses marked), writes it and every figure to bench/results/<date>_<time>_<members>-members.md
and .json, with the machine, versions and git commit, copies the table to bench/results/latest.md,
and drops the database, also when interrupted (Ctrl-C) or when a step fails.

BENCH_PG (default postgres://postgres@127.0.0.1:5432) names the PostgreSQL server and BENCH_REDIS
(default redis://127.0.0.1:6379/13) the Redis database used as broker and cache; both must be on
this machine. That Redis database is the bench's own: it is emptied at the start and the end.
"""

import argparse
import json
import os
import platform
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.lookup_bench import _pg_args, _pg_env, run_pg, with_database  # noqa: E402

RESULTS = ROOT / "bench" / "results"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
STEPS = ("lookups", "dashboard", "api", "import", "expiry", "campaign")
CARD_REQUESTS = 5  # requests per card and period in each run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000, help="members in the demo shop (default 100000)")
    parser.add_argument("--months", type=int, default=24, help="months of history (default 24: about 2M lines)")
    parser.add_argument("--runs", type=int, default=3, help="runs of the cheap measurements (default 3)")
    parser.add_argument("--heavy-runs", type=int, default=1, help="runs of the customer import (default 1)")
    parser.add_argument("--lots", type=int, default=1_000_000, help="credit lots for the expiry job (default 1M)")
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the imported file (default 100000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent API clients (default 8)")
    parser.add_argument("--seconds", type=float, default=15, help="length of each API run (default 15)")
    parser.add_argument("--only", help=f"comma-separated steps to run, of {', '.join(STEPS)} (default all)")
    args = parser.parse_args()
    steps = [s.strip() for s in args.only.split(",")] if args.only else list(STEPS)
    if unknown := set(steps) - set(STEPS):
        sys.exit(f"unknown steps: {', '.join(sorted(unknown))}; pick from {', '.join(STEPS)}")

    server = local_postgres_server(os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    redis_url = local_redis_url(os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/13"))
    name = f"loyalty_bench_{secrets.token_hex(4)}"
    # A SIGTERM (a CI timeout, kill) unwinds like Ctrl-C, so the finally below drops the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logs = Path(tempfile.mkdtemp(prefix="loyalty-bench-"))
    started = time.monotonic()
    info = machine(server, redis_url)
    print(f"Database {name} on {urlsplit(server).hostname}, Redis {redis_url}; logs in {logs}")
    redis_flush(redis_url)
    run_pg("createdb", server, name)
    env = {
        **os.environ,
        "DATABASE_URL": with_database(server, name),
        "REDIS_URL": redis_url,  # the cache shared by every process, as in production
        "CELERY_BROKER_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "loyalty.settings",
        "SECRET_KEY": f"bench-only-{uuid.uuid4()}",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    results: dict[str, dict] = {}
    failures: dict[str, str] = {}
    try:
        manage = [sys.executable, "manage.py"]
        if not step("migrate", [*manage, "migrate", "-v", "0"], env, 900, logs, failures, json_out=False):
            raise SystemExit(f"migrate failed: {failures['migrate']}")
        seeding = time.monotonic()
        seed = [*manage, "seed_demo", "--members", str(args.members), "--months", str(args.months)]
        if not step("seed", seed, env, 600 + args.members * 0.03, logs, failures, json_out=False):
            raise SystemExit(f"seed_demo failed: {failures['seed']}")
        info["seed_s"] = time.monotonic() - seeding
        n, runs = args.members, args.runs
        # Each step: its script with its options, and its time limit in seconds.
        commands = {
            "lookups": (f"lookup_bench.py --in-place --runs {runs} --lookups 300", 900),
            "dashboard": (
                f"dashboard_bench.py --members {n} --months {args.months} --runs {CARD_REQUESTS * runs} "
                f"--ledger-runs {runs}",
                1800,
            ),
            "api": (
                f"api_bench.py --pgbench --clients {args.clients} --seconds {args.seconds:g} --rounds {runs}",
                600 + runs * 4 * (args.seconds + 60),
            ),
            "import": (
                f"import_bench.py --rows {args.rows} --runs {args.heavy_runs}",
                300 + args.heavy_runs * (600 + args.rows * 0.01),
            ),
            "expiry": (f"expiry_bench.py --lots {args.lots}", 600 + args.lots * 0.004),
            "campaign": ("campaign_bench.py --workers 2", 600 + n * 0.04),
        }
        for name_ in steps:
            script, timeout = commands[name_]
            command = [sys.executable, f"bench/{script.split()[0]}", *script.split()[1:]]
            if figures := step(name_, command, env, timeout, logs, failures):
                results[name_] = figures
    finally:
        run_pg("dropdb", server, "--if-exists", "--force", name)
        redis_flush(redis_url)
        print(f"\nDropped the database {name}; emptied {redis_url}.")
    info |= {"minutes": (time.monotonic() - started) / 60, "load_end": os.getloadavg()[0], "logs": str(logs)}
    rows = table(results, failures, args)
    text = markdown(rows, info, args, results, failures)
    print("\n" + text)
    RESULTS.mkdir(exist_ok=True)
    stem = f"{info['started']:%Y-%m-%d_%H%M}_{args.members}-members"
    (RESULTS / f"{stem}.md").write_text(text)
    (RESULTS / "latest.md").write_text(text)
    record = {
        "machine": {**info, "started": info["started"].isoformat()},
        "arguments": vars(args),
        "figures": results,
        "failures": failures,
        "table": [asdict(row) for row in rows],
    }
    (RESULTS / f"{stem}.json").write_text(json.dumps(record, indent=2, default=str))
    print(f"Wrote bench/results/{stem}.md, .json and latest.md.")
    if failures:
        sys.exit(f"{len(failures)} step(s) failed: {', '.join(failures)}; logs in {logs}")


# ---------------------------------------------------------------------------------------------
# Running the steps


def step(
    name: str, command: list[str], env: dict, timeout: float, logs: Path, failures: dict, json_out: bool = True
) -> dict | bool:
    """Run one script in a process group of its own, its output shown and kept in logs/<name>.log.

    Returns its figures (the JSON it wrote), or True for a step without figures; on a failure or
    a timeout, records why in `failures` and returns {} (the other steps still run). The whole
    group is stopped at the time limit or on Ctrl-C, so no gunicorn or Celery worker outlives it."""
    out = logs / f"{name}.json"
    if json_out:
        command = [*command, "--json", str(out)]
    print(f"\n== {name} (at most {timeout / 60:.0f} min): {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    with (logs / f"{name}.log").open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        shown = threading.Thread(target=_show, args=(process.stdout, log), daemon=True)
        shown.start()
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            _stop(process)
        shown.join(timeout=10)
    seconds = time.monotonic() - started
    if code != 0:
        failures[name] = f"timed out after {timeout:.0f} s" if code is None else f"exit code {code}"
        print(f"== {name} FAILED ({failures[name]}) after {seconds:.0f} s; see {logs / name}.log")
        return {}
    print(f"== {name} done in {seconds:.0f} s")
    if not json_out:
        return True
    return json.loads(out.read_text())


def _show(stream, log) -> None:
    for line in stream:
        log.write(line)
        log.flush()
        print(f"   {line}", end="", flush=True)


def _stop(process: subprocess.Popen) -> None:
    """Stop the step's whole process group (the script, its gunicorn, workers, pgbench): TERM, then KILL."""
    for sig, grace in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            process.poll()  # reap the script itself, or its zombie would count as left
            try:
                os.killpg(process.pid, 0)  # anyone left in the group?
            except ProcessLookupError:
                return
            time.sleep(0.2)


# ---------------------------------------------------------------------------------------------
# The machine, PostgreSQL and Redis


def local_postgres_server(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql") or parts.hostname not in LOCAL_HOSTS:
        sys.exit(
            f"BENCH_PG must name a PostgreSQL server on this machine (postgres://postgres@127.0.0.1:5432), not {url!r}"
        )
    return url


def local_redis_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "redis" or parts.hostname not in LOCAL_HOSTS:
        sys.exit(f"BENCH_REDIS must name a Redis database on this machine (redis://127.0.0.1:6379/13), not {url!r}")
    if parts.path in ("", "/"):
        return urlunsplit(parts._replace(path="/13"))
    return url


def redis_flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def machine(server: str, redis_url: str) -> dict:
    import django
    import redis

    meminfo = Path("/proc/meminfo").read_text()
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    postgres = subprocess.run(
        ["psql", *_pg_args(server), "-d", "postgres", "-Atc", "SHOW server_version"],
        capture_output=True,
        text=True,
        check=True,
        env=_pg_env(server),
    ).stdout.split()[0]  # "15.20 (Debian 15.20-0+deb12u1)"
    pgbench = subprocess.run(["pgbench", "--version"], capture_output=True, text=True, check=False).stdout.split()
    # Read-only git: no optional locks, so it never rewrites the index another process may be using.
    git = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, env=git)
    changes = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True, env=git
    )
    return {
        "started": datetime.now(UTC),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "cpu": model.group(1).strip() if model else platform.processor(),
        "memory_gb": int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1)) / 1024**2,
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": version("gunicorn"),
        "celery": version("celery"),
        "postgresql": postgres,
        "pgbench": pgbench[2] if len(pgbench) > 2 else "?",  # "pgbench (PostgreSQL) 15.20 ..."
        "redis": redis.Redis.from_url(redis_url).info("server")["redis_version"],
        "commit": commit.stdout.strip(),
        "uncommitted_changes": bool(changes.stdout.strip()),
        "load_start": os.getloadavg()[0],
    }


# ---------------------------------------------------------------------------------------------
# The table


@dataclass
class Row:
    measurement: str
    runs: str
    value: float | None
    unit: str
    reference: str = ""
    reference_value: float | None = None
    target: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.reference_value:
            return None
        return self.value / self.reference_value


def table(results: dict[str, dict], failures: dict[str, str], args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    runs = args.runs
    if api := results.get("api"):
        label, rounds = f"Purchase API, {api['clients']} clients", f"{api['rounds']} x {api['seconds']:.0f} s"
        a, bare, raw, pg = api["api"], api["bare"], api["raw"], api["pgbench"]
        rows += [
            Row(f"{label}: req/s", rounds, a["rate"], "req/s", "bare Django view", bare["rate"], "≥ bare view", None),
            Row(f"{label}: req/s", rounds, a["rate"], "req/s", "raw SQL view", raw["rate"]),
            Row(f"{label}: req/s", rounds, a["rate"], "req/s", "pgbench, same SQL, no HTTP", pg["rate"]),
            Row(f"{label}: p50", rounds, a["p50"], "ms", "bare Django view", bare["p50"]),
            Row(f"{label}: p99", rounds, a["p99"], "ms", "bare Django view", bare["p99"], "< 30 ms", a["p99"] < 30),
            Row(f"{label}: p99", rounds, a["p99"], "ms", "pgbench, same SQL, no HTTP", pg["p99"]),
        ]
        rows[0].met = a["rate"] >= bare["rate"]
        if errors := a["errors"] + bare["errors"] + raw["errors"] + pg["errors"]:
            rows.append(Row("Purchase API and references: failed requests", rounds, errors, "requests"))
    elif "api" in failures:
        rows.append(Row("Purchase API", "—", None, f"failed: {failures['api']}"))

    if lookups := results.get("lookups"):
        ref = lookups["id"]
        for key, label in (
            ("phone", "whole phone number"),
            ("phone_last4", "last 4 digits"),
            ("name_prefix", "name prefix"),
        ):
            for p in ("p50", "p99"):
                rows.append(
                    Row(
                        f"Counter lookup by {label}: {p}",
                        f"{runs} x 300",
                        lookups[key][p],
                        "ms",
                        "member by primary key",
                        ref[p],
                    )
                )
    elif "lookups" in failures:
        rows.append(Row("Counter lookups", "—", None, f"failed: {failures['lookups']}"))

    if dashboard := results.get("dashboard"):
        requests = f"{dashboard['requests']} requests, SQL {dashboard['ledger_runs']}x"
        for card, periods in dashboard["cards"].items():
            for period, figures in periods.items():
                ms = figures["median_ms"]
                days = "12 months" if period == "365" else f"{period} days"
                rows.append(
                    Row(
                        f"Dashboard card {card}, {days}",
                        requests,
                        ms,
                        "ms",
                        f"same figures from the ledger ({figures['ledger_queries']} queries)",
                        figures["ledger_ms"],
                        "< 100 ms",
                        ms < 100,
                    )
                )
        rollups = dashboard["rollups"]
        rows += [
            Row("Dashboard rollups: recount from scratch", "1", rollups["rebuild_s"], "s"),
            Row("Dashboard rollups: 10-minute refresh", "1", rollups["refresh_10min_s"], "s"),
            Row("Dashboard rollups: hourly refresh", "1", rollups["refresh_hourly_s"], "s"),
        ]
    elif "dashboard" in failures:
        rows.append(Row("Dashboard cards", "—", None, f"failed: {failures['dashboard']}"))

    if imported := results.get("import"):
        median, n = imported["median"], imported["runs"]
        how = f"{n}" + (" (heavy)" if n == 1 else "")
        label = f"Import of {imported['rows']:,} customers"
        end_to_end, peak = median["first: end to end, s"], median["first: worker peak, MB"]
        rows += [
            Row(
                f"{label}: upload + check + import",
                how,
                end_to_end,
                "s",
                "COPY of the rows it wrote",
                median["COPY of the rows written, s"],
                "< 15 s",
                end_to_end < 15,
            ),
            Row(
                f"{label}: upload + check + import",
                how,
                end_to_end,
                "s",
                "COPY of the file",
                median["COPY of the file, s"],
            ),
            Row(f"{label}: worker's peak memory", how, peak, "MB", target="< 300 MB", met=peak < 300),
            Row(f"{label} again (changes nothing)", how, median["again: end to end, s"], "s"),
        ]
    elif "import" in failures:
        rows.append(Row("Customer import", "—", None, f"failed: {failures['import']}"))

    if expiry := results.get("expiry"):
        label = f"Expiry job, {expiry['lots']:,} due lots"
        rows += [
            Row(
                f"{label}: first run",
                "1 (heavy)",
                expiry["first_s"],
                "s",
                "one set-based statement (rolled back)",
                expiry["reference_s"],
            ),
            Row(
                f"{label}: second run", "1 (heavy)", expiry["second_s"], "s", target="≈ 0 s", met=expiry["second_s"] < 1
            ),
        ]
    elif "expiry" in failures:
        rows.append(Row("Expiry job", "—", None, f"failed: {failures['expiry']}"))

    if campaign := results.get("campaign"):
        outbox = campaign["outbox_s"]
        rows += [
            Row(
                f"Campaign outbox, {campaign['outbox_rows']:,} members",
                "1 (heavy)",
                outbox,
                "s",
                "one INSERT … SELECT (rolled back)",
                campaign["outbox_reference_s"],
                "< 30 s",
                outbox < 30,
            ),
            Row(
                f"Campaign send, {campaign['sent']:,} emails, {campaign['workers']} workers",
                "1 (heavy)",
                campaign["send_s"],
                "s",
                f"file backend alone, 1 process ({campaign['mail_sample']:,} timed, scaled)",
                campaign["send_reference_s"],
            ),
        ]
    elif "campaign" in failures:
        rows.append(Row("Campaign", "—", None, f"failed: {failures['campaign']}"))
    return rows


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit in ("req/s", "MB", "requests"):
        return f"{value:,.0f} {unit}"
    if unit == "ms":
        return f"{value:,.1f} ms" if value >= 10 else f"{value:,.2f} ms"
    return f"{value:,.1f} s" if value >= 10 else f"{value:,.2f} s" if value >= 0.1 else f"{value:,.3f} s"


def _ratio(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    if ratio >= 10:
        return f"{ratio:,.0f}x"
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.2g}x"


def markdown(rows: list[Row], info: dict, args: argparse.Namespace, results: dict, failures: dict) -> str:
    size = ""
    if dashboard := results.get("dashboard"):
        size = f", {dashboard['members']:,} members and {dashboard['entries']:,} ledger lines in the demo shop"
    targets = [row for row in rows if row.met is not None]
    missed = [row for row in targets if not row.met]
    lines = [
        f"# Benchmarks, {info['started']:%Y-%m-%d %H:%M} UTC{size}",
        "",
        f"- Machine: {info['cpus']} CPUs ({info['cpu']}), {info['memory_gb']:.1f} GB of memory; load average "
        f"{info['load_start']:.1f} at the start, {info['load_end']:.1f} at the end",
        f"- Python {info['python']}, Django {info['django']}, gunicorn {info['gunicorn']}, Celery {info['celery']}, "
        f"PostgreSQL {info['postgresql']} (pgbench {info['pgbench']}), Redis {info['redis']}",
        f"- Commit {info['commit']}{' with uncommitted changes' if info['uncommitted_changes'] else ''}",
        f"- `bench/run.py --members {args.members} --months {args.months} --runs {args.runs} "
        f"--heavy-runs {args.heavy_runs} --lots {args.lots} --rows {args.rows} --clients {args.clients} "
        f"--seconds {args.seconds:g}`: {info['minutes']:.0f} minutes in all, of which seed_demo {info.get('seed_s', 0) / 60:.1f} min",
        "",
        "| measurement | runs | median | reference | reference median | ratio | target |",
        "|---|---|--:|---|--:|--:|---|",
    ]
    for row in rows:
        ratio = _ratio(row.ratio)
        target = row.target
        if row.met is not None:
            target += " ✓" if row.met else " **✗ miss**"
        value = _number(row.value, row.unit) if row.value is not None else row.unit
        lines.append(
            f"| {row.measurement} | {row.runs} | {value} | {row.reference or '—'} | "
            f"{_number(row.reference_value, row.unit) if row.reference else '—'} | {ratio} | {target or '—'} |"
        )
    lines += [
        "",
        f"Targets met: {len(targets) - len(missed)} of {len(targets)}."
        + (f" Failed steps: {', '.join(f'{k} ({v})' for k, v in failures.items())}." if failures else ""),
        "",
        "Runs: the cheap measurements were repeated and their medians kept (the lookups' p50 and p99 are medians of "
        "the runs'; the API's req/s is the median of its rounds, its p50 and p99 over every round's requests; a "
        "card's time is the median of its requests); heavy ones ran once. Ratio: median / reference median. "
        "Each reference is measured in the same run, on the same data: see bench/README.md.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
