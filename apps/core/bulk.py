"""Writing many rows in one statement: new ones (rows_insert) and saved ones (rows_update)."""
import csv
import io
import time
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from django.db import connection


# Values psycopg2 sends as they are: for these Python types a field's conversion (get_db_prep_save)
# returns the value unchanged, and it was most of the cost of Django's bulk INSERT (half a million
# calls per 10,000 ingested messages: bench/README.md, ingest_throughput).
_AS_IS = (str, int, bool, float, type(None))
_CONVERTED = ("JSONField", "UUIDField", "DecimalField", "BinaryField")


def _db_values(obj, fields, plain: list[bool]) -> list:
    """The driver's values of `fields` of obj: as they are where the field would return them
    unchanged (plain[i]: the field's type converts nothing), else through the field's conversion."""
    values = []
    for field, may_pass in zip(fields, plain):
        value = getattr(obj, field.attname)
        if not (may_pass and (isinstance(value, _AS_IS) or (isinstance(value, datetime) and value.tzinfo is not None))):
            value = field.get_db_prep_save(value, connection)
        values.append(value)
    return values


def _plain(fields) -> list[bool]:
    return [f.get_internal_type() not in _CONVERTED for f in fields]


def rows_update(rows: list, fields: list[str]) -> None:
    """Save `fields` of model instances already in the database, one statement for all of them.

    Django's bulk_update builds a CASE per row and field in Python: it was 40% of the drain's time
    under the profiler for conversations, and again for SLA clocks (bench/README.md). On PostgreSQL
    one UPDATE … FROM (VALUES …) does the same; elsewhere (SQLite: the embedded desk) bulk_update.
    All rows are of one model.
    """
    if not rows:
        return
    model = type(rows[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_update(rows, fields)
        return
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{f.column} = v.{f.column}::{f.db_type(connection)}" for f in columns)
    row = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    plain, params = _plain(columns), []
    for obj in rows:
        params += [obj.pk, *_db_values(obj, columns, plain)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {meta.db_table} AS t SET {assignments} "
            f"FROM (VALUES {', '.join([row] * len(rows))}) AS v(id, {', '.join(f.column for f in columns)}) "
            f"WHERE t.{meta.pk.column} = v.id",
            params,
        )


# From this many rows on, rows_insert COPYs them: quoting a multi-row INSERT's values in the driver
# (psycopg2's mogrify) cost more than all the rest of the ingest's Python per message, and the
# server parses CSV faster than VALUES (bench/README.md, ingest_throughput). Below it, one INSERT:
# one round trip, where COPY needs two (the ids first).
COPY_FROM_ROWS = 100


def rows_insert(rows: list) -> None:
    """INSERT new model instances in one statement and set their ids: bulk_create for the hot paths.

    Same effect as bulk_create without conflict handling: auto_now(_add) stamps set, ids set (from
    RETURNING, or taken from the table's sequence before a COPY of COPY_FROM_ROWS rows or more),
    the instances marked saved. Values of plain types (and aware datetimes) go to the driver as they
    are; the others through their field's conversion. On SQLite: bulk_create.
    All rows are of one model, which holds no file field (a file is saved by its field's pre_save).
    """
    if not rows:
        return
    model = type(rows[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(rows)
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    stamped = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    plain, values = _plain(fields), []
    for obj in rows:
        obj._prepare_related_fields_for_save(operation_name="rows_insert")  # fk ids of parents saved since (as bulk_create)
        for f in stamped:
            f.pre_save(obj, add=True)
        values.append(_db_values(obj, fields, plain))
    if len(rows) >= COPY_FROM_ROWS and not any(f.get_internal_type() == "BinaryField" for f in fields):
        ids = _copy(meta, fields, values)
    else:
        ids = _insert(meta, fields, values)
    for obj, pk in zip(rows, ids):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def _insert(meta, fields, values: list[list]) -> list[int]:
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) VALUES {', '.join([row] * len(values))} "
            f"RETURNING {connection.ops.quote_name(meta.pk.column)}",
            [v for row_values in values for v in row_values],
        )
        return [r[0] for r in cursor.fetchall()]


def _copy(meta, fields, values: list[list]) -> list[int]:
    """COPY the rows in CSV with ids taken from the table's sequence first (a COPY returns nothing).
    QUOTE_NONNUMERIC quotes every text, so the NULL marker (unquoted \\N) never meets a text."""
    table, pk = connection.ops.quote_name(meta.db_table), connection.ops.quote_name(meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [meta.db_table, meta.pk.column, len(values)])
        ids = [r[0] for r in cursor.fetchall()]
        data = io.StringIO()
        writer = csv.writer(data, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        writer.writerows([pk_value, *map(_csv_value, row_values)] for pk_value, row_values in zip(ids, values))
        data.seek(0)
        sql = f"COPY {table} ({pk}, {', '.join(connection.ops.quote_name(f.column) for f in fields)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
        started = time.monotonic()
        with connection.wrap_database_errors:  # Django's errors (IntegrityError…), as execute raises them
            cursor.cursor.copy_expert(sql, data)
        if connection.queries_logged:  # counted like any statement (query-count tests, debug logs)
            connection.queries_log.append({"sql": f"{sql} -- {len(values)} rows", "time": f"{time.monotonic() - started:.3f}"})
    return ids


class _Null(float):
    """None in the COPY: csv writes a number unquoted, as its repr."""
    __slots__ = ()

    def __repr__(self):
        return "\\N"

    __str__ = __repr__


_NULL = _Null()


def _csv_value(value):
    """A driver value as CSV writes it for COPY: numbers as they are, None as the NULL marker, the
    rest as text."""
    if value is None:
        return _NULL
    if isinstance(value, (str, int, float)):
        return value
    if isinstance(value, (datetime, date, Decimal, UUID)):
        return str(value)
    dumps = getattr(value, "dumps", None)  # psycopg2's Json adapter of a JSONField
    if dumps is not None and hasattr(value, "adapted"):
        return dumps(value.adapted)
    raise TypeError(f"rows_insert cannot COPY a {type(value).__name__}")
