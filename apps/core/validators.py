"""Validators shared by serializers and forms."""
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

NUL_IN_JSON = _("JSON here may not hold a NUL character (\\u0000), in a key or in a value.")


def validate_json_without_nul(value) -> None:
    """PostgreSQL's jsonb refuses \\u0000 anywhere (a 500 at save time): refuse it before."""
    if _holds_nul(value):
        raise ValidationError(NUL_IN_JSON, code="nul_character")


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(item) for item in value)
    return False
