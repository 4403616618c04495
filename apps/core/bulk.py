"""Writing back fields of many saved rows in one statement."""
from django.db import connection


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
    params = [value for obj in rows for value in (obj.pk, *(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in columns))]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {meta.db_table} AS t SET {assignments} "
            f"FROM (VALUES {', '.join([row] * len(rows))}) AS v(id, {', '.join(f.column for f in columns)}) "
            f"WHERE t.{meta.pk.column} = v.id",
            params,
        )
