"""Bulk writing for the demo history: reserved primary keys, COPY on PostgreSQL, executemany on SQLite.

The seeder computes every row itself (ids included), so it can write straight into the tables:
rows are plain tuples in the column order below, timestamps are epoch seconds until written.
"""

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, models
from psycopg.copy import QueuedLibpqWriter

from members.models import Member
from merchants.models import AuditLog, Merchant
from rewards.models import Account, PointsEntry, Purchase, Redemption, Refund, TierChange, TierFee

# The order of each table's values in the rows the seeder builds. check_columns() keeps these in
# step with the models: a new NOT NULL column must be given a value here, not discovered in production.
COLUMNS: dict[type[models.Model], tuple[str, ...]] = {
    Member: (
        "id", "merchant_id", "first_name", "last_name", "phone", "email", "birthday", "language", "card_number",
        "referral_code", "referred_by_id", "source", "enrolled_by_id", "location_id", "notes", "joined_at",
        "email_consent", "sms_consent", "portal_key", "deletion_requested_at", "erased_at",
    ),
    Account: (
        "id", "merchant_id", "member_id", "balance", "lifetime_earned", "lifetime_spend", "purchase_count",
        "qualifying_total", "tier_id", "tier_until", "paid_tier_id", "paid_until", "paid_reminded_for", "day",
        "day_earned", "last_activity_at", "last_purchase_at", "opening_spend", "opening_visits", "boost_until",
        "created_at",
    ),
    Purchase: (
        "id", "merchant_id", "account_id", "amount", "refunded_amount", "points", "points_reversed", "receipt",
        "location_id", "actor_kind", "actor_user_id", "actor_label", "idempotency_key", "request_hash", "created_at",
    ),
    Refund: (
        "id", "merchant_id", "purchase_id", "amount", "points", "shortfall", "reason", "actor_kind", "actor_user_id",
        "actor_label", "idempotency_key", "request_hash", "created_at",
    ),
    Redemption: (
        "id", "merchant_id", "account_id", "reward_id", "code", "points", "discount", "status", "expires_at",
        "location_id", "actor_kind", "actor_user_id", "actor_label", "used_at", "used_by_id", "used_key",
        "voided_at", "voided_by_id", "idempotency_key", "request_hash", "created_at",
    ),
    PointsEntry: (
        "id", "merchant_id", "account_id", "kind", "points", "balance_after", "expires_at", "reason", "purchase_id",
        "refund_id", "redemption_id", "location_id", "actor_kind", "actor_user_id", "actor_label",
        "idempotency_key", "request_hash", "created_at",
    ),
    TierChange: ("id", "merchant_id", "account_id", "from_tier_id", "to_tier_id", "reason", "created_at"),
    TierFee: (
        "id", "merchant_id", "account_id", "tier_id", "amount", "starts_on", "ends_on", "location_id",
        "actor_user_id", "idempotency_key", "request_hash", "created_at",
    ),
}  # fmt: skip

# Children first: what a reset deletes, in an order no foreign key objects to.
RESET_ORDER = (PointsEntry, Refund, TierChange, TierFee, Redemption, Purchase, Account, Member)


def check_columns() -> None:
    for model, columns in COLUMNS.items():
        fields = {f.attname for f in model._meta.concrete_fields}
        if set(columns) != fields:
            raise RuntimeError(f"seed columns of {model.__name__} are out of date: {sorted(fields ^ set(columns))}")


class Ids:
    """Primary keys handed out in blocks, so rows can reference each other before they are written.

    PostgreSQL: a block is taken from the table's sequence in one statement, so the web app or a
    worker inserting at the same time simply gets ids after the block. SQLite has one writer at a
    time (the seeder holds the write lock), so counting on from MAX(id) is safe there.
    """

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.next: dict[type[models.Model], int] = {}

    def reserve(self, model: type[models.Model], count: int) -> int:
        """The first of `count` consecutive free ids of `model`'s table."""
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if self.postgres:
                if count == 0:
                    return 0
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
                    [table, table, count],
                )
                return cursor.fetchone()[0] - count + 1
            if model not in self.next:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {connection.ops.quote_name(table)}")  # noqa: S608 (a table name from the models)
                self.next[model] = cursor.fetchone()[0]
        first = self.next[model]
        self.next[model] += count
        return first


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Formats:
    """Values as the database's text input wants them, fast: this runs for millions of rows."""

    def __init__(self) -> None:
        # PostgreSQL's timestamptz reads an explicit offset; Django stores SQLite datetimes as naive
        # UTC text in this exact shape and compares them as text, so no suffix there.
        self.suffix = "+00" if connection.vendor == "postgresql" else ""
        self.days: dict[int, str] = {}

    def timestamp(self, t: int | None) -> str | None:
        if t is None:
            return None
        day, seconds = divmod(t, 86400)
        prefix = self.days.get(day)
        if prefix is None:
            prefix = self.days[day] = f"{(EPOCH + timedelta(days=day)).date().isoformat()} "
        hours, seconds = divmod(seconds, 3600)
        minutes, seconds = divmod(seconds, 60)
        return f"{prefix}{hours:02d}:{minutes:02d}:{seconds:02d}{self.suffix}"

    @staticmethod
    def money(cents: int) -> str:
        return f"{cents // 100}.{cents % 100:02d}"  # the seeder's amounts are never negative


def write(model: type[models.Model], rows: Iterable[Sequence[Any]]) -> None:
    """Insert rows (tuples in COLUMNS order) in one statement per table and batch."""
    columns = COLUMNS[model]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    column_of = {f.attname: f.column for f in model._meta.concrete_fields}
    names = ", ".join(quote(column_of[c]) for c in columns)
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        # The queued writer sends to the server from a thread while Python formats the next rows.
        with (
            connection.connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({names}) FROM STDIN", writer=QueuedLibpqWriter(cursor)) as copy,
        ):
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join(["%s"] * len(columns))
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(rows))  # noqa: S608 (names from the models, values as parameters)


def reset(merchant: Merchant) -> int:
    """Delete the shop's members and everything of theirs in the ledger; returns the members deleted.

    Plain DELETEs by merchant_id: Django's cascade collector would load millions of rows first.
    """
    members = Member.objects.filter(merchant=merchant).count()
    # Adjustments write an audit line that names the member; it goes with the member.
    AuditLog.objects.filter(merchant=merchant, action="points.adjust", object_type="members.member").delete()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Checked now rather than at commit: deferred checks of a million deleted rows queue up in memory.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for model in RESET_ORDER:
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"DELETE FROM {table} WHERE merchant_id = %s", [merchant.pk])  # noqa: S608 (a table name from the models)
    return members
