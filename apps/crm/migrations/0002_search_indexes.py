"""Search indexes, PostgreSQL only (a no-op elsewhere).

Django's icontains / iexact compare UPPER(column::text) on PostgreSQL, so the indexes are
on that expression: a pg_trgm GIN index for `display_name ILIKE '%…%'`-style search and
a btree for exact handle look-ups. They live outside the model state (raw SQL), so
makemigrations does not try to create them on SQLite.
"""
from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    'CREATE INDEX IF NOT EXISTS crm_customer_name_trgm ON crm_customer USING gin ((UPPER("display_name"::text)) gin_trgm_ops)',
    'CREATE INDEX IF NOT EXISTS crm_identity_handle_upper ON crm_identity ((UPPER("handle"::text)))',
]
BACKWARD = [
    "DROP INDEX IF EXISTS crm_identity_handle_upper",
    "DROP INDEX IF EXISTS crm_customer_name_trgm",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
