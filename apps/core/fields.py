"""Secrets encrypted at rest with Fernet (cryptography); keys rotate via MultiFernet.

FIELD_ENCRYPTION_KEYS lists the keys, newest first: the first encrypts, any of them decrypts.
Rotating: add the new key first, restart, run `manage.py secrets_rotate` (re-encrypts every stored
token with the new key), then drop the old key (docs/deployment.md; tests/core/test_secrets_rotation.py)."""
import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


def _fernet() -> MultiFernet:
    keys = list(settings.FIELD_ENCRYPTION_KEYS)
    if not keys:
        digest = hashlib.sha256(("centralita-fields:" + settings.SECRET_KEY).encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(k) for k in keys])


def secrets_rotate_token(token: str) -> str:
    """The same secret encrypted with the first key (whichever listed key made `token`)."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("Cannot decrypt secrets: FIELD_ENCRYPTION_KEYS does not hold the key") from exc


class EncryptedJSONField(models.TextField):
    """A dict stored as a Fernet token. Never rendered back: serializers exclude it."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return {}
        try:
            return json.loads(_fernet().decrypt(value.encode()))
        except InvalidToken as exc:
            raise ValueError("Cannot decrypt secrets: FIELD_ENCRYPTION_KEYS does not hold the key") from exc

    def to_python(self, value):
        return value if isinstance(value, dict) else {}

    def get_prep_value(self, value):
        if not value:
            return ""
        return _fernet().encrypt(json.dumps(value).encode()).decode()
