"""Backup and restore as the README says: pg_dump -Fc, then pg_restore into a new database. The restored
database has every row, and every account's balance equals its ledger sum (PostgreSQL only)."""

import os
import subprocess
from decimal import Decimal

import psycopg
import pytest
from django.apps import apps
from django.db import connection

from merchants.actors import Actor
from merchants.models import Role
from rewards import ledger
from tests.factories import LocationFactory, MemberFactory, MerchantFactory, ProgramFactory, RewardFactory, StaffFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def shop_with_history() -> None:
    """Purchases, a refund, redemptions and adjustments written through the ledger, in two shops."""
    for name in ("Bubbles", "Charlie"):
        merchant = MerchantFactory(name=name)
        cashier = Actor.for_staff(
            StaffFactory(merchant=merchant, role=Role.MANAGER), location=LocationFactory(merchant=merchant)
        )
        ProgramFactory(merchant=merchant)
        reward = RewardFactory(merchant=merchant, points_cost=50)
        for i in range(8):
            member = MemberFactory(merchant=merchant)
            purchase = ledger.purchase_record(member=member, amount=Decimal(60 + 10 * i), actor=cashier)
            if i % 2:
                ledger.reward_redeem(member=member, reward=reward, actor=cashier)
            if i % 3 == 0:
                ledger.purchase_refund(purchase=purchase, amount=Decimal(10), actor=cashier)
            ledger.points_adjust(member=member, points=5, reason="sorry", actor=cashier, idempotency_key=f"{name}:{i}")


def row_counts(cursor) -> dict[str, int]:
    tables = sorted(model._meta.db_table for model in apps.get_models())
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 (our own table names)
        counts[table] = cursor.fetchone()[0]
    return counts


BALANCES_OFF_LEDGER = """
    SELECT a.id, a.balance, COALESCE(SUM(e.points), 0) FROM rewards_account a
    LEFT JOIN rewards_pointsentry e ON e.account_id = a.id
    GROUP BY a.id HAVING a.balance <> COALESCE(SUM(e.points), 0)
"""


@pytest.fixture
def restored_name():
    name = f"{connection.settings_dict['NAME']}_restored"
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_dump_restored_into_a_new_database_has_every_row_and_balances_equal_ledger_sums(tmp_path, restored_name):
    shop_with_history()
    db = connection.settings_dict
    env = {**os.environ, "PGHOST": db["HOST"] or "localhost", "PGPORT": str(db["PORT"] or 5432), "PGUSER": db["USER"]}
    if db["PASSWORD"]:
        env["PGPASSWORD"] = db["PASSWORD"]
    dump = tmp_path / "loyalty.dump"
    subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), db["NAME"]], env=env, check=True)
    subprocess.run(["createdb", restored_name], env=env, check=True)
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "-d", restored_name, str(dump)], env=env, check=True)

    with connection.cursor() as cursor:
        original = row_counts(cursor)
        cursor.execute("SELECT count(*), sum(balance) FROM rewards_account")
        accounts = cursor.fetchone()
    with psycopg.connect(dbname=restored_name, host=env["PGHOST"], port=env["PGPORT"], user=db["USER"],
                         password=db["PASSWORD"] or None) as restored:  # fmt: skip
        cursor = restored.cursor()
        assert row_counts(cursor) == original
        cursor.execute(BALANCES_OFF_LEDGER)
        assert cursor.fetchall() == []
        cursor.execute("SELECT count(*), sum(balance) FROM rewards_account")
        assert cursor.fetchone() == accounts == (16, accounts[1])
