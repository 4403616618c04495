"""Writes on users that belong to the accounts app."""
from django.conf import settings
from django.core.exceptions import ValidationError

from .models import User, time_zone_validate


def user_locale_update(*, user: User, language: str, time_zone: str) -> User:
    """Set the user's own language and time zone ("" for each: the browser's / the desk's default)."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": "unknown language"})
    time_zone_validate(time_zone)
    user.language, user.time_zone = language, time_zone
    user.save(update_fields=["language", "time_zone"])
    return user
