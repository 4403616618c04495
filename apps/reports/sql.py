"""Small SQL building blocks the reports share: seconds between two timestamps, percentiles.

PostgreSQL computes medians and p90 with percentile_cont (an ordered-set aggregate). SQLite
(the embedded quick start) has no such aggregate: there the percentile columns are NULL and
every count, bucket and share is still exact (docs/supervisors.md says so).
"""
from django.db import connection
from django.db.models import Aggregate, FloatField, Func, Value


class Seconds(Func):
    """end - start in seconds, as a float."""

    output_field = FloatField()

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, conn, **extra):
        return self.as_sqlite(compiler, conn, **extra)

    def as_postgresql(self, compiler, conn, **extra):
        return super().as_sql(compiler, conn, template="EXTRACT(EPOCH FROM (%(expressions)s))", arg_joiner=" - ", **extra)

    def as_sqlite(self, compiler, conn, **extra):
        return super().as_sql(compiler, conn, template="((julianday(%(expressions)s)) * 86400.0)", arg_joiner=") - julianday(", **extra)


class Percentile(Aggregate):
    """percentile_cont(fraction) WITHIN GROUP (ORDER BY expr): PostgreSQL only (NULL elsewhere)."""

    function = "percentile_cont"
    name = "Percentile"
    output_field = FloatField()
    allow_distinct = False

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError(fraction)
        self.fraction = fraction
        super().__init__(expression, **extra)

    def as_postgresql(self, compiler, conn, **extra):
        # Through the attribute, not extra: Aggregate.as_sql builds its FILTER template from it.
        clone = self.copy()
        clone.template = f"%(function)s({float(self.fraction)!r}) WITHIN GROUP (ORDER BY %(expressions)s)"
        return Aggregate.as_sql(clone, compiler, conn, **extra)

    def as_sql(self, compiler, conn, **extra):
        # No ordered-set aggregates: a typed NULL keeps the column (and the query) valid.
        return compiler.compile(Value(None, output_field=FloatField()))


def has_percentiles() -> bool:
    return connection.vendor == "postgresql"
