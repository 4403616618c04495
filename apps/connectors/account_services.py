"""Writes for channel accounts made by admins (the REST API and Django admin).

Kept apart from services.py, which the ingestion side owns; the token rotation
lives there (channel_account_rotate_token).
"""
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from apps.core.errors import ApplicationError

from .models import ChannelAccount, ChannelKind

_validate_url = URLValidator(schemes=["http", "https"])


def channel_account_create(
    *, kind: str, name: str, team=None, settings: dict | None = None, secrets: dict | None = None, enabled: bool = True
) -> ChannelAccount:
    if kind not in ChannelKind.values:
        raise ApplicationError(_("Unknown channel kind"), extra={"allowed": ChannelKind.values})
    settings = settings or {}
    _check_settings(settings)
    return ChannelAccount.objects.create(
        kind=kind, name=name, team=team, settings=settings, secrets=secrets_merge({}, secrets or {}), enabled=enabled
    )


def channel_account_update(*, account: ChannelAccount, **changes) -> ChannelAccount:
    """Change name, team, settings, enabled; `secrets` merges key by key (a null value removes a key)."""
    allowed = {"name", "team", "settings", "enabled", "secrets"}
    if set(changes) - allowed:
        raise ApplicationError(_("These fields cannot be changed"), extra={"fields": sorted(set(changes) - allowed)})
    with transaction.atomic():
        locked = ChannelAccount.objects.select_for_update().get(pk=account.pk)
        if "settings" in changes:
            _check_settings(changes["settings"])
        if "secrets" in changes:
            changes["secrets"] = secrets_merge(locked.secrets, changes["secrets"])
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*changes])
    return locked


def secrets_merge(current: dict, changes: dict) -> dict:
    merged = dict(current or {})
    for key, value in changes.items():
        if value is None or value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _check_settings(settings: dict) -> None:
    url = settings.get("outbound_url")
    if url:
        try:
            _validate_url(url)
        except ValidationError:
            raise ApplicationError(_("outbound_url must be an http(s) URL"), extra={"outbound_url": url}) from None
