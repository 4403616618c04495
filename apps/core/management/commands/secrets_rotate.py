"""Re-encrypt every secret at rest with the newest key of FIELD_ENCRYPTION_KEYS.

Rotation, as docs/deployment.md says: put a new key FIRST in FIELD_ENCRYPTION_KEYS (keep the old
ones after it) and restart; everything still reads, new writes use the new key. Then run
`manage.py secrets_rotate`: each stored token is decrypted with whichever key made it and
encrypted again with the first (MultiFernet.rotate). Then the old key can leave the list.

Finds the encrypted columns itself (every EncryptedJSONField of every installed model), so it
imports no app. Rows in batches, each batch its own transaction with its rows locked.
"""
from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from apps.core.fields import EncryptedJSONField, secrets_rotate_token

BATCH = 500


def encrypted_columns() -> list[tuple]:
    """(model, field) for every EncryptedJSONField of every installed, concrete model."""
    return [
        (model, field)
        for model in apps.get_models()
        if not model._meta.proxy and model._meta.managed
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedJSONField)
    ]


def secrets_rotate() -> dict[str, int]:
    """Re-encrypt with the first key; returns {"app_label.Model.field": rows re-encrypted}."""
    done = {}
    for model, field in encrypted_columns():
        table, column, pk = model._meta.db_table, field.column, model._meta.pk.column
        key = f"{model._meta.label}.{field.name}"
        done[key] = 0
        last = None
        while True:
            with transaction.atomic():
                qs = model._default_manager.order_by("pk").exclude(**{field.attname: ""})
                if last is not None:
                    qs = qs.filter(pk__gt=last)
                ids = list(qs.select_for_update().values_list("pk", flat=True)[:BATCH])
                if not ids:
                    break
                with connection.cursor() as cursor:
                    cursor.execute(f'SELECT "{pk}", "{column}" FROM "{table}" WHERE "{pk}" IN %s', [tuple(ids)])
                    rows = cursor.fetchall()
                    for row_pk, token in rows:
                        cursor.execute(f'UPDATE "{table}" SET "{column}" = %s WHERE "{pk}" = %s',
                                       [secrets_rotate_token(token), row_pk])
                done[key] += len(rows)
                last = ids[-1]
    return done


class Command(BaseCommand):
    help = "Re-encrypt every secret at rest with the first key of FIELD_ENCRYPTION_KEYS (key rotation)."

    def handle(self, *args, **options):
        for column, count in secrets_rotate().items():
            self.stdout.write(f"{column}: {count} re-encrypted")
