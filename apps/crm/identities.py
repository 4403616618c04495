"""Normalization: the same person reaches us as the same (kind, value) on every system."""
import functools

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from .models import IdentityKind


class InvalidIdentity(ValueError):
    pass


def normalize(kind: str, value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidIdentity(f"empty {kind} identity")
    if kind == IdentityKind.EMAIL:
        return normalize_email(value)
    if kind == IdentityKind.PHONE:
        return normalize_phone(value)
    if kind in IdentityKind.values:
        return value[:255]
    raise InvalidIdentity(f"unknown identity kind {kind!r}")


# Memoized: a batch names the same senders again and again, and parsing a number or validating an
# address was a few per cent of the ingest (bench/README.md). Refusals are not cached (they raise).
_MEMO = 8192


def normalize_email(value: str) -> str:
    return _email(value.strip().strip("<>").lower(), value)


@functools.lru_cache(maxsize=_MEMO)
def _email(address: str, value: str) -> str:
    try:
        validate_email(address)
    except ValidationError as exc:
        raise InvalidIdentity(f"not an email address: {value!r}") from exc
    return address


def normalize_phone(value: str, region: str | None = None) -> str:
    """E.164, so +34 600 11 22 33, 0034600112233 and 600112233 (region ES) are one caller."""
    return _e164(value.strip(), region or settings.PHONE_DEFAULT_REGION, value)


@functools.lru_cache(maxsize=_MEMO)
def _e164(raw: str, region: str, value: str) -> str:
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentity(f"not a phone number: {value!r}") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentity(f"not a possible phone number: {value!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
