"""A web-form submission (the JSON the public page stages) -> InboundMessage. Pure: no DB.

The payload carries everything needed to render it later (labels and title as they were at
submit time), so a replay (`manage.py ingest webform FILE`) reads the same whatever the form
looks like today:

    {"id": "3f1c…", "form": "contact", "title": "Contact us",
     "fields": [{"name": "name", "label": "Your name", "type": "text", "value": "Ana García"},
                {"name": "email", "label": "Email", "type": "email", "value": "ana@example.com"}, …],
     "submitted_at": "2026-11-20T10:00:00+00:00", "ip": "203.0.113.7", "user_agent": "Mozilla/5.0 …"}

A file for the import holds one object, a list of them, or JSON lines.
"""
import hashlib
import json
import re
from datetime import datetime, timezone

from django.utils.dateparse import parse_datetime

from apps.connectors.push.parse import json_items
from apps.inbox.inbound import InboundMessage, ParseError, SenderIdentity

FIELD_TYPES = {"text", "email", "tel", "textarea", "select"}
NAME_FIELDS = ("name", "full_name", "fullname", "your_name", "nombre_completo", "nombre")
FIRST_LAST = (("first_name", "last_name"), ("nombre", "apellidos"))
SUMMARY_FIELDS = ("subject", "topic", "asunto", "motivo")
SUMMARY_CHARS = 80
MAX_FIELDS = 50
MAX_VALUE_CHARS = 10_000


def parse(raw: bytes, *, account_id: int) -> list[InboundMessage]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(f"web-form payload is not UTF-8: {exc}") from exc
    return [_message(item, account_id) for item in json_items(text)]


def _message(item, account_id: int) -> InboundMessage:
    if not isinstance(item, dict):
        raise ParseError("a submission must be a JSON object")
    slug = _string(item, "form")
    if not slug:
        raise ParseError("submission has no form slug")
    title = _string(item, "title") or slug
    fields = _fields(item.get("fields"))
    submitted_at = _time(item.get("submitted_at"))
    # A stable id: the one the page gave it, else the content's hash (a replayed file is not doubled).
    external_id = _string(item, "id") or "sha256:" + hashlib.sha256(
        json.dumps(item, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    name = person_name(fields)
    senders = [SenderIdentity("email", f["value"], display_name=name) for f in fields if f["type"] == "email" and f["value"]]
    senders += [SenderIdentity("phone", f["value"], display_name=name) for f in fields if f["type"] == "tel" and f["value"]]
    if not senders:  # nobody to link: a visitor identity of its own, so the name still shows
        senders = [SenderIdentity("web", f"webform:{external_id}"[:255], display_name=name or "Web visitor")]
    summary = _summary(fields)
    return InboundMessage(
        account_id=account_id,
        external_id=external_id[:255],
        senders=senders,
        sent_at=submitted_at,
        subject=f"{title}: {summary}" if summary else title,
        text=_text(fields),
        # Each submission is a request of its own: its own conversation.
        thread_key=f"webform:{external_id}"[:255],
        kind="form",
        metadata={
            "form": {
                "slug": slug,
                "title": title,
                "fields": [{"name": f["name"], "label": f["label"], "value": f["value"], "type": f["type"]} for f in fields],
                # The visitor's language (the page's, from Accept-Language): the desk answers in it.
                **({"language": language} if (language := _language(item)) else {}),
            },
            "webform_client": {"ip": _string(item, "ip")[:64], "user_agent": _string(item, "user_agent")[:500]},
        },
    )


def _language(item: dict) -> str:
    value = _string(item, "language").lower()[:16]
    return value if re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})?", value) else ""


def _string(item: dict, key: str) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)):
        raise ParseError(f"{key} must be a string")
    return str(value).strip()


def _fields(fields) -> list[dict]:
    if not isinstance(fields, list) or not fields:
        raise ParseError("submission needs a non-empty list of fields")
    if len(fields) > MAX_FIELDS:
        raise ParseError(f"submission has {len(fields)} fields; at most {MAX_FIELDS}")
    out = []
    for i, f in enumerate(fields):
        if not isinstance(f, dict) or not isinstance(f.get("name"), str) or not f["name"]:
            raise ParseError(f"field {i} needs a name")
        value = f.get("value", "")
        if value is None:
            value = ""
        if not isinstance(value, (str, int, float)):
            raise ParseError(f"field {f['name']!r}: value must be a string")
        field_type = f.get("type") or "text"
        if field_type not in FIELD_TYPES:
            raise ParseError(f"field {f['name']!r}: type must be one of {', '.join(sorted(FIELD_TYPES))}")
        out.append({
            "name": f["name"][:40],
            "label": str(f.get("label") or f["name"])[:120],
            "type": field_type,
            "value": str(value).strip()[:MAX_VALUE_CHARS],
        })
    return out


def _time(value) -> datetime:
    if value in (None, ""):
        raise ParseError("submission has no submitted_at")
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise ParseError(f"submitted_at is not an ISO 8601 date-time: {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def person_name(fields: list[dict]) -> str:
    by_name = {f["name"]: f["value"] for f in fields if f["value"]}
    for key in NAME_FIELDS:
        if by_name.get(key):
            return by_name[key][:200]
    for first, last in FIRST_LAST:
        if by_name.get(first):
            return " ".join(v for v in (by_name[first], by_name.get(last, "")) if v)[:200]
    return ""


def _summary(fields: list[dict]) -> str:
    """A few words that tell submissions of one form apart in the inbox list."""
    filled = [f for f in fields if f["value"]]
    chosen = next((f for f in filled if f["name"] in SUMMARY_FIELDS), None)
    chosen = chosen or next((f for f in filled if f["type"] == "select"), None)
    chosen = chosen or next((f for f in filled if f["type"] == "textarea"), None)
    if chosen is None:
        return ""
    line = " ".join(chosen["value"].split())
    return line if len(line) <= SUMMARY_CHARS else line[: SUMMARY_CHARS - 1].rstrip() + "…"


def _text(fields: list[dict]) -> str:
    lines = []
    for f in fields:
        value = f["value"] or "—"
        if "\n" in value:  # long answers start on their own line, so they read as written
            lines.append(f"{f['label']}:\n{value}")
        else:
            lines.append(f"{f['label']}: {value}")
    return "\n".join(lines)
