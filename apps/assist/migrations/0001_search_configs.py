"""Full-text search for the agents' suggestions (docs/suggestions.md), PostgreSQL only.

- two text search configurations, assist_es and assist_en: the spanish / english snowball
  stemmers behind `unaccent`, so "contraseña", "contrasena" and "CONTRASEÑAS" are one lexeme.
  A configuration (not unaccent() in the expression) keeps to_tsvector(config, text) immutable,
  which an index expression must be.
- two partial GIN indexes on the customers' messages (direction 'in', kind 'message'), one per
  configuration: apps/assist/selectors.py filters with the very same expressions and predicate.
  The inbox's own index (to_tsvector('simple', text), inbox 0006) serves the desk's search.
Raw SQL outside the model state (a no-op on SQLite, which falls back to word matching).
"""
from django.db import migrations

CONFIGS = {"assist_es": "spanish_stem", "assist_en": "english_stem"}

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    *(
        f"""DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '{name}') THEN
                CREATE TEXT SEARCH CONFIGURATION {name} (COPY = {stem.split('_')[0]});
                ALTER TEXT SEARCH CONFIGURATION {name}
                    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {stem};
            END IF;
        END $$"""
        for name, stem in CONFIGS.items()
    ),
    *(
        f"CREATE INDEX IF NOT EXISTS inbox_message_{name}_fts ON inbox_message "
        f"USING gin (to_tsvector('{name}'::regconfig, text)) WHERE direction = 'in' AND kind = 'message'"
        for name in CONFIGS
    ),
]
BACKWARD = [
    *(f"DROP INDEX IF EXISTS inbox_message_{name}_fts" for name in CONFIGS),
    *(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {name}" for name in CONFIGS),
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("inbox", "0011_merge_20261205_1340")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
