"""Search extensions and indexes, PostgreSQL only (no-ops on SQLite, which searches with LIKE).

- unaccent and pg_trgm: CreateExtension operations skip other databases themselves.
- a GIN index on search_vector (the full-text vector the service writes after each save);
- a pg_trgm GIN index on search_text (title + text, lower case, accents stripped in Python):
  the typo-tolerant half of selectors.articles_search.
Raw SQL outside the model state, so makemigrations does not try to create them on SQLite.
"""
from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations

FORWARD = [
    "CREATE INDEX IF NOT EXISTS helpcenter_article_fts ON helpcenter_article USING gin (search_vector)",
    "CREATE INDEX IF NOT EXISTS helpcenter_article_trgm ON helpcenter_article USING gin (search_text gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS helpcenter_article_trgm",
    "DROP INDEX IF EXISTS helpcenter_article_fts",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("helpcenter", "0001_initial")]

    operations = [
        UnaccentExtension(),
        TrigramExtension(),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
    ]
