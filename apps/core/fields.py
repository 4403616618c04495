"""Secrets encrypted at rest with Fernet (cryptography); keys rotate via MultiFernet."""
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
