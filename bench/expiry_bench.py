"""The nightly expiry job over a million credit lots: its first run, and a second run right after.

    DATABASE_URL=postgres://postgres@127.0.0.1/loyalty_bench .venv/bin/python bench/expiry_bench.py
    #   --lots 1000000     points-earning ledger lines (credit lots), every one of them past its date
    #   --per-account 10   lots per member: 100,000 members for a million lots
    #   --json FILE        also write the figures to FILE (bench/run.py reads them)

Makes a throwaway shop whose points expire 12 months after they were earned, and writes its members,
their accounts and their ledger in three INSERT ... SELECT statements over generate_series: per
account --per-account earn lines an hour apart, about 13 months ago (so every lot is due), then one
adjustment of -10 points, with each line's balance_after the running total and each account's
balance the sum of its lines (the ledger's first invariant). Then it times what the nightly job
calls, rewards.ledger.points_expire, once (every lot due: one expiry line per account, a batch of
accounts per transaction) and again (nothing is due since the first run: it should take next to
nothing), and checks that every balance is still the sum of its lines and is now zero.

The reference, measured before the job on the same lots: the same expiry lines and balance updates
in one statement (a data-modifying CTE: sum per account, insert, update), rolled back. It sums each
account's due credits and debits, which is right here because every credit is due; the job walks
each account's lines in order instead, so a debit never spends a credit earned after it.
Deletes the shop at the end, also when interrupted.
"""

import argparse
import json
import os
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty.settings")
os.environ.setdefault("SECRET_KEY", f"bench-only-{uuid.uuid4()}")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.import_bench import rows_delete  # noqa: E402
from members.models import Member  # noqa: E402
from merchants.models import Merchant, Staff, User  # noqa: E402
from merchants.services import merchant_create  # noqa: E402
from rewards import ledger  # noqa: E402
from rewards.models import Account, ExpiryMode, Program  # noqa: E402
from rewards.models import PointsEntry as Entry  # noqa: E402

DEBIT = 10  # points each account spent after its lots (every lot is worth at least this)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lots", type=int, default=1_000_000, help="credit lots, all past their date")
    parser.add_argument("--per-account", type=int, default=10, help="lots per member (default 10)")
    parser.add_argument("--json", type=Path, help="write the figures to this file as JSON")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or urlsplit(os.environ.get("DATABASE_URL", "")).hostname not in {
        "127.0.0.1",
        "localhost",
    }:
        sys.exit("Point DATABASE_URL at a PostgreSQL database on this machine.")
    figures = measure(args.lots, args.per_account)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


def measure(lots: int, per_account: int) -> dict:
    shop = shop_create()
    try:
        accounts = max(lots // per_account, 1)
        started = time.perf_counter()
        expected = lots_write(shop, accounts, per_account)
        written = time.perf_counter() - started
        print(
            f"Shop {shop.slug}: {accounts:,} members with {accounts * per_account:,} credit lots, all due "
            f"({expected:,} points to expire), written in {written:.1f} s."
        )
        reference = reference_time(shop)
        print(f"Reference: the expiry in one set-based statement, rolled back: {reference:.1f} s.")
        started = time.perf_counter()
        expired = ledger.points_expire(merchant=shop)
        first = time.perf_counter() - started
        print(f"points_expire, first run: {expired:,} points expired in {first:.1f} s.")
        started = time.perf_counter()
        again = ledger.points_expire(merchant=shop)
        second = time.perf_counter() - started
        print(f"points_expire, second run: {again:,} points expired in {second:.3f} s.")
        consistent = check(shop)
        print("Every balance is the sum of its lines and is zero." if consistent else "THE LEDGER DISAGREES.")
        if expired != expected or again != 0 or not consistent:
            sys.exit(f"expected {expected:,} points expired then none; got {expired:,} then {again:,}")
        return {
            "lots": accounts * per_account,
            "accounts": accounts,
            "points": expected,
            "write_s": written,
            "reference_s": reference,
            "first_s": first,
            "second_s": second,
        }
    finally:
        shop_delete(shop)


def shop_create() -> Merchant:
    tag = uuid.uuid4().hex[:8]
    owner = User.objects.create_user(f"bench-owner-{tag}@example.com", None, name="Bench Owner")
    shop = merchant_create(
        owner=owner, name=f"Bench {tag}", country="MY", currency="MYR", timezone="Asia/Kuala_Lumpur", language="en"
    )
    Program.objects.update_or_create(
        merchant=shop, defaults={"expiry_mode": ExpiryMode.AFTER_EARNING, "expiry_months": 12}
    )
    return shop


def lots_write(shop: Merchant, accounts: int, per_account: int) -> int:
    """Members, accounts and ledger lines in three statements; returns the points that are due."""
    params = {
        "shop": shop.pk,
        "accounts": accounts,
        "per": per_account,
        "first": timezone.now() - timedelta(days=400),  # the last lot expires 12 months on: weeks ago
        "debit": DEBIT,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO members_member (merchant_id, first_name, last_name, phone, email, language, card_number, "
            "referral_code, source, notes, joined_at, email_consent, sms_consent, portal_key) "
            "SELECT %(shop)s, 'Lot', 'Holder ' || g, '', '', '', 'LOT' || g, 'L' || g, 'counter', '', %(first)s, "
            "false, false, md5(g::text) FROM generate_series(1, %(accounts)s) AS g",
            params,
        )
        cursor.execute(
            "INSERT INTO rewards_account (merchant_id, member_id, balance, lifetime_earned, lifetime_spend, "
            "purchase_count, qualifying_total, day_earned, opening_spend, opening_visits, created_at) "
            "SELECT merchant_id, id, 0, 0, 0, 0, 0, 0, 0, 0, joined_at FROM members_member "
            "WHERE merchant_id = %(shop)s ORDER BY id",
            params,
        )
        # Ids are drawn in the order of the sort, so each account's lines run in date order and
        # balance_after is the running total in id order, as the ledger writes it.
        cursor.execute(
            "INSERT INTO rewards_pointsentry (merchant_id, account_id, kind, points, balance_after, expires_at, "
            "reason, actor_kind, actor_label, request_hash, created_at) "
            "SELECT merchant_id, account_id, kind, points, SUM(points) OVER (PARTITION BY account_id ORDER BY n), "
            "expires_at, '', 'system', 'expiry bench', '', created_at FROM ("
            " SELECT a.merchant_id, a.id AS account_id, g AS n, 'earn' AS kind, 10 + (a.id * 7 + g * 13) %% 90 AS points,"
            " %(first)s + g * interval '1 hour' AS created_at,"
            " %(first)s + g * interval '1 hour' + interval '12 months' AS expires_at"
            " FROM rewards_account a CROSS JOIN generate_series(1, %(per)s) AS g WHERE a.merchant_id = %(shop)s"
            " UNION ALL"
            " SELECT a.merchant_id, a.id, %(per)s + 1, 'adjust', -%(debit)s, %(first)s + (%(per)s + 1) * interval '1 hour',"
            " NULL FROM rewards_account a WHERE a.merchant_id = %(shop)s"
            ") AS lots ORDER BY account_id, n",
            params,
        )
        cursor.execute(
            "UPDATE rewards_account a SET balance = s.balance, lifetime_earned = s.earned FROM ("
            " SELECT account_id, SUM(points) AS balance, SUM(points) FILTER (WHERE points > 0) AS earned"
            " FROM rewards_pointsentry WHERE merchant_id = %(shop)s GROUP BY account_id"
            ") AS s WHERE a.id = s.account_id",
            params,
        )
        cursor.execute("SELECT SUM(balance) FROM rewards_account WHERE merchant_id = %(shop)s", params)
        due = cursor.fetchone()[0]
    ledger.statistics_refresh()  # as after an import: the planner must know the shop grew
    return int(due)


def reference_time(shop: Merchant) -> float:
    """Seconds for the same expiry lines and balance updates in one statement, rolled back."""
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(
            "WITH due AS ("
            " SELECT account_id, SUM(points) AS points FROM rewards_pointsentry"
            " WHERE merchant_id = %(shop)s AND (points < 0 OR expires_at <= %(now)s)"
            " GROUP BY account_id HAVING SUM(points) > 0"
            "), lines AS ("
            " INSERT INTO rewards_pointsentry (merchant_id, account_id, kind, points, balance_after, reason,"
            " actor_kind, actor_label, request_hash, created_at)"
            " SELECT %(shop)s, due.account_id, 'expire', -due.points, a.balance - due.points, 'Points expired',"
            " 'job', 'expiry', '', %(now)s FROM due JOIN rewards_account a ON a.id = due.account_id"
            ") UPDATE rewards_account a SET balance = a.balance - due.points FROM due WHERE a.id = due.account_id",
            {"shop": shop.pk, "now": timezone.now()},
        )
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


def check(shop: Merchant) -> bool:
    """Every account's balance is the sum of its lines (the ledger's first invariant), and zero."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM rewards_account a LEFT JOIN ("
            " SELECT account_id, SUM(points) AS total FROM rewards_pointsentry WHERE merchant_id = %s"
            " GROUP BY account_id) AS s ON s.account_id = a.id"
            " WHERE a.merchant_id = %s AND (a.balance <> COALESCE(s.total, 0) OR a.balance <> 0)",
            [shop.pk, shop.pk],
        )
        return cursor.fetchone()[0] == 0


def shop_delete(shop: Merchant) -> None:
    """The shop and its lots, table by table in SQL (Django's deletion collector would load them
    all), each layer vacuumed before the next (see bench/import_bench.rows_delete)."""
    users = list(Staff.objects.filter(merchant=shop).values_list("user_id", flat=True))
    rows_delete(shop, [(Entry,), (Account,), (Member,)])
    shop.delete()
    User.objects.filter(pk__in=users).delete()
    print(f"Deleted shop {shop.slug}.")


if __name__ == "__main__":
    main()
