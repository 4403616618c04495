"""Untrusted text (query parameters, cursors, payload fields) to ids and date-times.

One definition each, so no view trips on the two classic traps: `"²".isdigit()` is True
while `int("²")` raises, and `parse_datetime("2026-02-30T10:00")` raises instead of
answering None for a date no calendar has.
"""
import re
from datetime import datetime

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from .errors import ApplicationError

# ASCII digits only (int() also takes "١٢" or "1_000"), short enough for a bigint.
_ID = re.compile(r"[0-9]{1,18}")


def id_parse(raw: str, *, name: str) -> int:
    """An id given as text, or ApplicationError (a 400) naming the parameter."""
    if not _ID.fullmatch(raw):
        raise ApplicationError(_("%(name)s must be an id (digits 0-9)") % {"name": name}, extra={name: raw})
    return int(raw)


def id_list_parse(raw: str, *, name: str, limit: int) -> list[int]:
    """'1,2, 3' -> [1, 2, 3] (empty parts skipped, at most `limit`); any other part is a 400."""
    return [id_parse(part.strip(), name=name) for part in raw.split(",") if part.strip()][:limit]


def datetime_parse(value: str) -> datetime | None:
    """An ISO 8601 date-time, or None when it is malformed or impossible (30 February, hour 25)."""
    try:
        return parse_datetime(value)
    except ValueError:
        return None
