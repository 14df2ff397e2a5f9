"""Drop the UPPER() indexes on card numbers and emails (PostgreSQL only).

Card numbers are kept in capitals (generated, or upper-cased when a card is linked or imported), so
lookups compare them exactly, through the unique (merchant, card_number) and (merchant, number)
indexes. Emails are compared with the `ci` lookup (LOWER(email) = LOWER(%s)), which the unique
(merchant, LOWER(email)) index serves. Each dropped index was one more to write for every member a
customer import brings.
"""

from django.db import migrations

INDEXES = [
    ("member_card_upper", "members_member", "(merchant_id, UPPER(card_number))"),
    ("member_email_upper", "members_member", "(merchant_id, UPPER(email))"),
    ("card_number_upper", "members_card", "(merchant_id, UPPER(number))"),
]


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _columns in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, columns in INDEXES:
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} {columns}")


class Migration(migrations.Migration):
    atomic = False  # DROP INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("members", "0006_partial_fk_indexes")]

    operations = [migrations.RunPython(drop, create)]
