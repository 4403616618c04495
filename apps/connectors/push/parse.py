"""The generic API channel: any system pushes JSON messages (POST /api/inbound/<account>/).

One message:
    {"external_id": "crm-981", "sent_at": "2026-11-20T10:00:00Z",
     "sender": {"name": "Ana", "email": "ana@example.com", "phone": "+34600112233"},
     "subject": "...", "text": "...", "html": "...", "thread_key": "order-77",
     "references": ["crm-980"], "public": false, "kind": "message",
     "attachments": [{"filename": "x.pdf", "content_type": "application/pdf",
                      "url": "https://..." | "content_base64": "..."}],
     "metadata": {...}}
A file or body may hold one object, a list of them, or JSON lines.
"""
import base64
import binascii
import json
from datetime import datetime, timezone

from django.utils.translation import gettext as _

from apps.core.parsing import NESTED_TOO_DEEPLY, datetime_parse, json_documents
from apps.inbox.inbound import InboundAttachment, InboundMessage, ParseError, SenderIdentity

SENDER_KINDS = {"email": "email", "phone": "phone", "twitter": "twitter", "facebook": "facebook", "external_id": "external"}
MESSAGE_KINDS = {"message", "call", "form"}


def parse(raw: bytes, *, account_id: int, received_at: datetime | None = None) -> list[InboundMessage]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(f"body is not UTF-8: {exc}") from exc
    items = json_items(text)
    return [_message(item, i, account_id, received_at) for i, item in enumerate(items)]


def split(name: str, raw: bytes):
    """For imports: one payload per message of a JSON array / JSON-lines file, so failures count per message."""
    try:
        items = json_items(raw.decode("utf-8"))
    except (ParseError, UnicodeDecodeError):
        yield name, raw  # parse() will say what is wrong, and it becomes a dead letter
        return
    for i, item in enumerate(items):
        yield f"{name}[{i}]", json.dumps(item).encode()


def json_items(text: str) -> list:
    """The messages of a body or file (the push channel's and the web form's): one JSON object, a
    list of them, or JSON lines (core's json_documents); ParseError says what is wrong."""
    try:
        data = json_documents(text)
    except json.JSONDecodeError as exc:
        if exc.msg == NESTED_TOO_DEEPLY:  # the decoder recurses once per level: [[[[...]]]] 50,000 deep
            raise ParseError(_("not JSON: nested too deeply")) from None
        raise ParseError(f"not JSON: {exc}") from exc
    items = data if isinstance(data, list) else [data]
    if not items:
        raise ParseError("no messages in payload")
    return items


def _message(item, index: int, account_id: int, received_at: datetime | None) -> InboundMessage:
    where = f"message {index}: "
    if not isinstance(item, dict):
        raise ParseError(where + "expected a JSON object")
    external_id = str(item.get("external_id") or "").strip()
    if not external_id:
        raise ParseError(where + "external_id is required")
    if len(external_id) > 255:
        raise ParseError(where + "external_id is longer than 255 characters")
    text, html = item.get("text") or "", item.get("html") or ""
    if not isinstance(text, str) or not isinstance(html, str):
        raise ParseError(where + "text and html must be strings")
    if not (text.strip() or html.strip() or item.get("attachments")):
        raise ParseError(where + "a message needs text, html or attachments")
    kind = item.get("kind", "message")
    if kind not in MESSAGE_KINDS:
        raise ParseError(where + f"kind must be one of {sorted(MESSAGE_KINDS)}")
    references = item.get("references") or []
    if not isinstance(references, list):
        raise ParseError(where + "references must be a list of external ids")
    return InboundMessage(
        account_id=account_id,
        external_id=external_id,
        senders=_senders(item.get("sender"), where),
        sent_at=_time(item.get("sent_at"), where) or received_at or datetime.now(timezone.utc),
        text=text,
        html=html,
        subject=str(item.get("subject") or ""),
        thread_key=str(item.get("thread_key") or "")[:255],
        references=[str(r) for r in references],
        kind=kind,
        is_public=bool(item.get("public", False)),
        attachments=[_attachment(a, where) for a in item.get("attachments") or []],
        metadata={"api": item["metadata"]} if isinstance(item.get("metadata"), dict) else {},
    )


def _senders(sender, where: str) -> list[SenderIdentity]:
    if not isinstance(sender, dict):
        raise ParseError(where + "sender must be an object with at least one of " + ", ".join(SENDER_KINDS))
    name = str(sender.get("name") or "")
    senders = [
        SenderIdentity(kind=kind, value=str(sender[field]), display_name=name, handle=str(sender[field]))
        for field, kind in SENDER_KINDS.items()
        if sender.get(field)
    ]
    if not senders:
        raise ParseError(where + "sender needs at least one of " + ", ".join(SENDER_KINDS))
    return senders


def _time(value, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    parsed = datetime_parse(str(value))
    if parsed is None:  # malformed, or a date no calendar has (2026-02-30)
        raise ParseError(where + f"sent_at is not an ISO 8601 date-time: {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def _attachment(a, where: str) -> InboundAttachment:
    if not isinstance(a, dict) or not a.get("filename"):
        raise ParseError(where + "each attachment needs a filename")
    content = None
    if a.get("content_base64"):
        try:
            content = base64.b64decode(a["content_base64"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ParseError(where + f"attachment {a['filename']!r}: content_base64 is not base64") from exc
    elif not a.get("url"):
        raise ParseError(where + f"attachment {a['filename']!r} needs url or content_base64")
    return InboundAttachment(
        filename=str(a["filename"]),
        content_type=str(a.get("content_type") or "application/octet-stream"),
        content=content,
        url=str(a.get("url") or ""),
    )
