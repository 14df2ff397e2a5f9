"""Inserting many new rows at once, fast: PostgreSQL's COPY, with ids taken from the table's sequence.

Django's bulk_create builds one big INSERT whose parameters are quoted in Python, which costs more
than the rows' own work for a 100,000-row customer import. COPY streams the rows instead. Ids are
reserved from the sequence in one statement first, so concurrent inserts by the web app simply get
ids after the block, and each instance knows its id before it is written (rows can point at each
other). On other databases (the embedded SQLite) this is bulk_create.
"""

import itertools
from collections.abc import Iterable, Sequence

from django.core.exceptions import EmptyResultSet
from django.db import connection, models
from psycopg.copy import QueuedLibpqWriter


def ids_reserve(model: type[models.Model], count: int) -> int:
    """The first of `count` consecutive ids taken from `model`'s sequence (PostgreSQL)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
            [table, table, count],
        )
        return cursor.fetchone()[0] - count + 1


def insert_many(objs: Sequence[models.Model]) -> None:
    """Insert new instances of one model; each gets its primary key. Run inside the caller's transaction."""
    if not objs:
        return
    model = type(objs[0])
    fields = model._meta.concrete_fields
    relations = {f.cache_name: f for f in fields if f.is_relation}
    for obj in objs:
        # A foreign key set to an instance saved after the assignment (a member created just now).
        for name, related in list(obj._state.__dict__.get("fields_cache", {}).items()):
            field = relations.get(name)
            if field is not None and related is not None and getattr(obj, field.attname) is None:
                setattr(obj, field.attname, related.pk)
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=1000)
        return
    fresh = [obj for obj in objs if obj.pk is None]
    if fresh:
        first = ids_reserve(model, len(fresh))
        for offset, obj in enumerate(fresh):
            obj.pk = first + offset
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for obj in objs:
                field.pre_save(obj, add=True)
    attnames = [f.attname for f in fields]
    _copy(model, fields, ([obj.__dict__[a] for a in attnames] for obj in objs))
    alias = connection.alias  # once: `connection` is a thread-local proxy, slow to ask per object
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias


class Column(list):
    """One value per row, for insert_columns (a plain value there is the same for every row)."""


def insert_columns(model: type[models.Model], count: int, **values: object) -> int:
    """Insert `count` new rows of `model` given by column, not by instance; returns the first id
    (the rows have the next `count` ids). PostgreSQL only: callers keep an instance path for others.

    Each value is a Column of `count` values or one value for every row; a field not given gets its
    default (a default made per row, such as the time or a fresh key, must be given). The rows are
    zipped from the columns straight into a binary COPY: a chunk of new accounts and ledger lines
    costs Python a few lists, not an instance per row (insert_many's way), and no array parameters
    either (psycopg dumps those element by element in Python).
    """
    first = ids_reserve(model, count)
    values[model._meta.pk.attname] = Column(range(first, first + count))
    fields, columns = model._meta.concrete_fields, []
    for field in fields:
        name = field.attname if field.attname in values else field.name
        if name in values:
            value = values.pop(name)
        elif field.has_default() and callable(field.default) and not field.primary_key:
            raise TypeError(f"{model.__name__}.{field.name}: a default made per row, give the values")
        else:
            value = field.get_default()
        if field.is_relation and isinstance(value, models.Model):
            value = value.pk
        if isinstance(value, Column):
            if len(value) != count:
                raise ValueError(f"{field.attname}: {len(value)} values for {count} rows")
            columns.append(value)
        else:
            columns.append(itertools.repeat(value, count))
    if values:
        raise TypeError(f"{model.__name__} has no fields {', '.join(values)}")
    _copy(model, fields, zip(*columns, strict=False))
    return first


def _copy(model: type[models.Model], fields: Sequence[models.Field], rows: Iterable[Sequence]) -> None:
    """COPY rows (one value per field, in order) into the model's table, in the caller's transaction."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    connection.ensure_connection()
    # Binary COPY: the server takes timestamps, numbers and dates as they are stored instead of
    # parsing their text, a good part of what a large COPY costs it.
    with (
        connection.wrap_database_errors,  # psycopg's errors raised as Django's (IntegrityError, ...)
        connection.connection.cursor() as cursor,
        cursor.copy(
            f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN (FORMAT BINARY)",
            writer=QueuedLibpqWriter(cursor),
        ) as copy,
    ):
        copy.set_types([_copy_type(f) for f in fields])
        for row in rows:
            copy.write_row(row)


def _copy_type(field: models.Field) -> str:
    """The column's type as psycopg names it: "varchar(80)" is varchar, "numeric(14, 2)" numeric."""
    return field.db_type(connection).split("(")[0].strip()


_INSERTS: dict[tuple[type[models.Model], bool, str], tuple[str, list[models.Field]]] = {}


def insert_statement(obj: models.Model, *, after: str = "") -> tuple[str, list]:
    """`INSERT INTO table (columns) VALUES (...)` for one new instance, its id included when it has
    one: SQL to run as one of several writes in a single statement (see ledger.purchase_record_quick),
    without the ORM compiling a query per row. The statement's text is built once per model.

    With `after`, the name of an earlier part of the statement (a CTE), the row is written only if
    that part returned a row: `INSERT INTO table (columns) SELECT ... FROM after`."""
    model, with_pk = type(obj), obj.pk is not None
    if (model, with_pk, after) not in _INSERTS:
        fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        values = ", ".join(["%s"] * len(fields))
        source = f"SELECT {values} FROM {quote(after)}" if after else f"VALUES ({values})"  # noqa: S608 - names
        sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) {source}"
        _INSERTS[model, with_pk, after] = sql, fields
    sql, fields = _INSERTS[model, with_pk, after]
    return sql, [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]


class Blueprint:
    """New, unsaved instances of one model, many thousands at a time, for insert_many.

    Model.__init__ walks every field, resolves defaults and sends two signals per instance; an
    import that makes 100,000 members, accounts and ledger lines spends seconds there. A blueprint
    resolves the constant defaults once and fills each instance's attributes directly. Callable
    defaults (a fresh key, the time) still run per instance. Values are given by field name; a
    related object may be given for a foreign key, as to the model itself.
    """

    def __init__(self, model: type[models.Model], **fixed: object) -> None:
        self.model = model
        self.defaults: dict[str, object] = {}
        self.callables: dict[str, object] = {}
        self.relations = {f.name: f for f in model._meta.concrete_fields if f.is_relation}
        for field in model._meta.concrete_fields:
            if field.primary_key:
                self.defaults[field.attname] = None
            elif field.has_default() and callable(field.default):
                self.callables[field.attname] = field.default
            else:
                self.defaults[field.attname] = field.get_default()
        self.fixed = self._attributes(fixed)[0]

    def _attributes(self, values: dict[str, object]) -> tuple[dict[str, object], dict]:
        attributes, cached = {}, {}
        for name, value in values.items():
            field = self.relations.get(name)
            if field is None:
                attributes[name] = value
            else:
                attributes[field.attname] = None if value is None else value.pk
                cached[field] = value
        return attributes, cached

    def new(self, **values: object) -> models.Model:
        obj = self.model.__new__(self.model)
        obj._state = models.base.ModelState()
        state = obj.__dict__
        state.update(self.defaults)
        for attname, default in self.callables.items():
            if attname not in values:
                state[attname] = default()
        state.update(self.fixed)
        attributes, cached = self._attributes(values)
        state.update(attributes)
        for field, related in cached.items():
            field.set_cached_value(obj, related)
        return obj


class AnyOf(models.Lookup):
    """`field__any=[...]`: IN, but on PostgreSQL one array parameter (`= ANY(%s)`) for the whole list.

    An import matches a chunk of 5,000 phone numbers at once; as IN that is 5,000 placeholders for
    the driver to parse into the statement, which costs more than the lookup itself.
    """

    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [self.lhs.output_field.get_db_prep_value(v, connection, prepared=False) for v in self.rhs]
        if not values:
            raise EmptyResultSet
        if connection.vendor == "postgresql":
            # Typed as the column: psycopg sends a list of ints as int4[], and a bigint column
            # compared with int4[] is no longer served by its index.
            return f"{lhs} = ANY(%s::{self.lhs.output_field.cast_db_type(connection)}[])", [*lhs_params, values]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


models.Field.register_lookup(AnyOf)
models.ForeignObject.register_lookup(AnyOf)  # related fields keep lookups of their own


# An optional foreign key, indexed only where it is set (see not_null_indexes).
OPTIONAL = {"null": True, "blank": True, "db_index": False}


def not_null_indexes(*fields: str, prefix: str) -> list[models.Index]:
    """Indexes on optional foreign keys, over the rows that have them.

    Django indexes every foreign key; on a column that is empty in most rows (a ledger line's
    refund) that index holds mostly NULLs, costs every insert, and serves only the few lookups by
    that key (deleting a refund or a tier), which a partial index serves as well.
    """
    return [
        models.Index(fields=[name], name=f"{prefix}_{name}_set", condition=models.Q(**{f"{name}__isnull": False}))
        for name in fields
    ]


class CaseInsensitive(models.Lookup):
    """`field__ci=value`: equal whatever the case, as LOWER(field) = LOWER(value), which an index on
    LOWER(field) serves (Django's iexact compiles to UPPER and needs an index of its own). Blank
    fields never match, so a partial index that leaves them out (WHERE field <> '') serves it too.
    """

    lookup_name = "ci"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"(LOWER({lhs}) = LOWER({rhs}) AND {lhs} <> '')", [*lhs_params, *rhs_params, *lhs_params]


models.CharField.register_lookup(CaseInsensitive)


def tenant_foreign_keys(schema_editor, keys: Sequence[tuple[str, str, str]], *, add: bool) -> None:
    """Add (or drop) composite foreign keys (column, merchant_id) -> target (id, merchant_id), on PostgreSQL.

    Each is one check where a foreign key to the member (or account) and another to the merchant
    would be two, for every row a customer import writes, and it says more: the row belongs to
    the same shop as the member it points at. The model's own foreign keys are declared with
    db_constraint=False; the target declares a unique (id, merchant) for the key to refer to.
    keys: (table, column, target table). SQLite, the embedded development database, goes without.
    """
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column, target in keys:
        name = f"{table}_{column}_tenant_fk"
        if add:
            schema_editor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}, merchant_id) "
                f"REFERENCES {target} (id, merchant_id) DEFERRABLE INITIALLY DEFERRED"
            )
        else:
            schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")
