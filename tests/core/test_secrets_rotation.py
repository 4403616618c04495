"""The rotation the README and docs/deployment.md promise for secrets at rest
(FIELD_ENCRYPTION_KEYS, newest first; apps/core/fields.py): after a new key is put first, secrets
written with the old key still read; `manage.py secrets_rotate` re-encrypts them with the new key;
after the old key is removed they still read, and the stored tokens open with the new key only."""
import io

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.db import connection

from apps.connectors.models import ChannelAccount, ChannelKind
from apps.integrations.models import WebhookEndpoint

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def stored_token(model, pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "secrets" FROM "{model._meta.db_table}" WHERE id = %s', [pk])
        return cursor.fetchone()[0]


def opens_with(key: str, token: str) -> bool:
    try:
        Fernet(key.encode()).decrypt(token.encode())
        return True
    except InvalidToken:
        return False


def test_old_secrets_read_after_a_new_key_and_are_reencrypted_by_secrets_rotate(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    account = ChannelAccount.objects.create(kind=ChannelKind.EMAIL, name="Support", secrets={"password": "hunter2"})
    empty = ChannelAccount.objects.create(kind=ChannelKind.PHONE, name="Phone")  # no secrets: nothing to rotate
    hook = WebhookEndpoint.objects.create(name="CRM", url="https://crm.example/hook", secrets={"signing": "s3cret"})
    assert opens_with(OLD, stored_token(ChannelAccount, account.pk))

    # 1. The new key first, the old one kept: old tokens still read, new writes use the new key.
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    assert ChannelAccount.objects.get(pk=account.pk).secrets == {"password": "hunter2"}
    assert WebhookEndpoint.objects.get(pk=hook.pk).secrets == {"signing": "s3cret"}
    assert opens_with(OLD, stored_token(ChannelAccount, account.pk))
    assert not opens_with(NEW, stored_token(ChannelAccount, account.pk))

    # 2. The documented command re-encrypts every stored secret with the new key.
    out = io.StringIO()
    call_command("secrets_rotate", stdout=out)
    assert "connectors.ChannelAccount.secrets: 1 re-encrypted" in out.getvalue()
    assert "integrations.WebhookEndpoint.secrets: 1 re-encrypted" in out.getvalue()
    for model, pk in ((ChannelAccount, account.pk), (WebhookEndpoint, hook.pk)):
        token = stored_token(model, pk)
        assert opens_with(NEW, token) and not opens_with(OLD, token)
    assert stored_token(ChannelAccount, empty.pk) == ""

    # 3. The old key removed: everything still reads.
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    assert ChannelAccount.objects.get(pk=account.pk).secrets == {"password": "hunter2"}
    assert WebhookEndpoint.objects.get(pk=hook.pk).secrets == {"signing": "s3cret"}
    assert ChannelAccount.objects.get(pk=empty.pk).secrets == {}


def test_without_the_key_that_wrote_them_secrets_do_not_read(settings):
    """Removing the old key BEFORE running secrets_rotate loses the secrets: the order matters."""
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    account = ChannelAccount.objects.create(kind=ChannelKind.EMAIL, name="Support", secrets={"password": "hunter2"})
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    with pytest.raises(ValueError, match="FIELD_ENCRYPTION_KEYS does not hold the key"):
        ChannelAccount.objects.get(pk=account.pk)
    with pytest.raises(ValueError, match="FIELD_ENCRYPTION_KEYS does not hold the key"):
        call_command("secrets_rotate", stdout=io.StringIO())
