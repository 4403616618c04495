"""Untrusted text (query parameters, cursors, payload fields, socket frames) to ids, date-times
and JSON.

One definition each, so no caller trips on the classic traps: `"²".isdigit()` is True
while `int("²")` raises; `parse_datetime("2026-02-30T10:00")` raises instead of
answering None for a date no calendar has; `json.loads("[" * 1000)` raises RecursionError,
which no `except ValueError` catches.
"""
import json
import re
from datetime import datetime

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from .errors import ApplicationError

# ASCII digits only (int() also takes "١٢" or "1_000"), short enough for a bigint.
_ID = re.compile(r"[0-9]{1,18}")
_DIGITS = re.compile(r"[0-9]{1,19}")  # X ids run to 19 digits; int() refuses past 4,300


def digits_parse(raw) -> int | None:
    """ASCII digits (a str or an int from JSON) to an int, else None. For parsers that raise
    their own error: `str.isdigit()` would pass "²" and let `int()` raise."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw if raw >= 0 else None
    return int(raw) if isinstance(raw, str) and _DIGITS.fullmatch(raw) else None


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


NESTED_TOO_DEEPLY = "nested too deeply"


def json_parse(raw: str | bytes | bytearray):
    """json.loads for untrusted input: nesting too deep for the decoder is a JSONDecodeError
    (a ValueError, msg NESTED_TOO_DEEPLY) like any other malformed document, never a RecursionError."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise json.JSONDecodeError(NESTED_TOO_DEEPLY, raw if isinstance(raw, str) else "", 0) from None


def json_documents(text: str):
    """The one JSON-lines loader: a file or body of payloads holds one JSON document (returned as
    it is: an object, a list...) or JSON lines (a list of each line's value; blank lines skipped).
    Neither: the JSONDecodeError of reading the whole text as one document."""
    try:
        return json_parse(text)
    except json.JSONDecodeError as first_error:
        try:
            return [json_parse(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError:
            raise first_error from None
