"""Writing many rows in one statement: new ones (rows_insert) and saved ones (rows_update)."""
from datetime import datetime

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


def rows_insert(rows: list) -> None:
    """INSERT new model instances in one statement and set their ids: bulk_create for the hot paths.

    Same effect as bulk_create without conflict handling: auto_now(_add) stamps set, ids set from
    RETURNING, the instances marked saved. Values of plain types (and aware datetimes) go to the
    driver as they are; the others through their field's conversion. On SQLite: bulk_create.
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
    plain, params = _plain(fields), []
    for obj in rows:
        obj._prepare_related_fields_for_save(operation_name="rows_insert")  # fk ids of parents saved since (as bulk_create)
        for f in stamped:
            f.pre_save(obj, add=True)
        params += _db_values(obj, fields, plain)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) VALUES {', '.join([row] * len(rows))} "
            f"RETURNING {connection.ops.quote_name(meta.pk.column)}",
            params,
        )
        ids = [r[0] for r in cursor.fetchall()]
    for obj, pk in zip(rows, ids):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
