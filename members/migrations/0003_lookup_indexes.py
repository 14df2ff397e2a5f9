"""Indexes for finding a member at the counter in a shop of 100,000 (PostgreSQL only).

Django compiles iexact to UPPER(col) = UPPER(%s) and istartswith to UPPER(col) LIKE UPPER(%s) on
PostgreSQL, which no plain index on the column can serve; so, per shop:
  - UPPER(card_number) and UPPER(email), and UPPER(number) of physical cards: exact matches;
  - UPPER(first_name) and UPPER(last_name) with text_pattern_ops: prefix LIKE under any collation;
  - a trigram index on phone (pg_trgm) for a fragment of a number: the last digits a customer
    reads out, or the start of a number being typed. LIKE '%6789%' has no usable btree prefix, and
    a reversed-phone index would serve only the end of the number. Trigrams need three characters;
    the search asks for four digits. A whole number typed in any format is normalised to E.164
    and found through the existing unique (merchant, phone) index.
These are expressions with operator classes, which SQLite cannot create: they are raw SQL, run only
on PostgreSQL, concurrently (non-atomic migration) so a live shop's counter keeps writing meanwhile.
SQLite, the embedded development database, does without.
"""

from django.db import migrations

# No partial indexes (WHERE phone <> ''): the planner cannot prove UPPER(email) = '...' or
# phone LIKE '%...%' implies the column is not empty, so it would never pick them.
INDEXES = [
    ("member_card_upper", "members_member", "(merchant_id, UPPER(card_number))"),
    ("member_email_upper", "members_member", "(merchant_id, UPPER(email))"),
    ("member_first_name_prefix", "members_member", "(merchant_id, UPPER(first_name) text_pattern_ops)"),
    ("member_last_name_prefix", "members_member", "(merchant_id, UPPER(last_name) text_pattern_ops)"),
    ("member_phone_trigram", "members_member", "USING gin (phone gin_trgm_ops)"),
    ("card_number_upper", "members_card", "(merchant_id, UPPER(number))"),
]


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, columns in INDEXES:
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} {columns}")


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _columns in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("members", "0002_cards_consent_portal")]

    operations = [migrations.RunPython(create, drop)]
