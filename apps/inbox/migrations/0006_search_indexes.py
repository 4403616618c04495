"""Full-text search indexes, PostgreSQL only (a no-op elsewhere; SQLite searches with LIKE).

- messages: a GIN index on to_tsvector('simple', text). 'simple' (no stemming, no stop
  words) because customers write in several languages; selectors.message_search_sql uses
  the very same expression, or the planner could not use the index.
- canned responses: pg_trgm GIN indexes on UPPER(shortcut) / UPPER(title), the expression
  Django's icontains compares (see crm 0002, which created the extension).
Raw SQL outside the model state, so makemigrations does not try to create them on SQLite.
"""
from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS inbox_message_text_fts ON inbox_message USING gin (to_tsvector('simple'::regconfig, text))",
    'CREATE INDEX IF NOT EXISTS inbox_canned_title_trgm ON inbox_cannedresponse USING gin ((UPPER("title"::text)) gin_trgm_ops)',
    'CREATE INDEX IF NOT EXISTS inbox_canned_shortcut_trgm ON inbox_cannedresponse USING gin ((UPPER("shortcut"::text)) gin_trgm_ops)',
]
BACKWARD = [
    "DROP INDEX IF EXISTS inbox_canned_shortcut_trgm",
    "DROP INDEX IF EXISTS inbox_canned_title_trgm",
    "DROP INDEX IF EXISTS inbox_message_text_fts",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("inbox", "0005_inbox_work"), ("crm", "0002_search_indexes")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
