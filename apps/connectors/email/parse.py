"""Email: raw RFC 5322 bytes -> InboundMessage (pure: no database, no network).

- external_id: the Message-ID without <>; a mail without one gets "sha256:<hash of the bytes>",
  so the same bytes imported twice still land once.
- references: In-Reply-To ids, the desk's token from a plus address we are written to
  (see tokens.py), the original of a bounce, then References newest first: ingest threads by
  the first one it knows.
- Auto-replies, bounces, read receipts and list or bulk mail are kept with opens_conversation=False
  and metadata["automated"] saying which and why (no SLA clock, no reopening, no mail loops).
  statuses() turns a bounce into "our reply failed" and a read receipt into "our reply was read".
- HTML: sanitized, remote images blocked (metadata["remote_images"]); text comes from the
  text/plain part, else from the HTML.
- TNEF (Outlook's winmail.dat, see winmail.py): replaced by the files inside; its text (plain, RTF
  or HTML) is the message's when the mail has no body of its own (metadata["tnef"]). One that
  cannot be read stays an ordinary attachment (metadata["tnef_unreadable"]). metadata["quoted_start"] / ["html_quoted_start"] mark
  where the quoted history starts, for display; the full text is kept.
- Broken headers: raw 8-bit bytes are decoded with a fallback chain, an unreadable Date falls
  back to the first Received: time, a From: with no usable address leaves senders empty
  (ingest flags the message unknown_sender).
"""
import base64
import binascii
import email
import functools
import hashlib
import mimetypes
import quopri
import re
import threading
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from email import policy
from email.header import decode_header, make_header
from email.policy import EmailPolicy
from email.utils import parsedate_to_datetime

import icalendar

from apps.crm.identities import InvalidIdentity, normalize_email
from apps.inbox.inbound import InboundAttachment, InboundMessage, InboundStatus, ParseError, SenderIdentity

from .content import (
    clean_html_with_quote,
    decode_bytes,
    decode_words_loosely,
    detect_charset,
    fix_8bit_header,
    has_raw_8bit,
    html_to_text,
    quoted_start,
    unmangle,
)
from .tokens import SUBJECT_TAG, reference_from_address
from .winmail import Winmail, WinmailError, is_winmail, unpack


# The header objects of the mail being parsed, by (name, value). The stdlib parses a header again
# at every fetch, and a part's Content-Type alone is fetched a dozen times per mail: that was three
# quarters of the parse time. Header objects are immutable, so one serves every fetch. Kept for
# one mail only (parse() sets and drops it) and bounded: a parsed header takes ~400 times the
# memory of its text.
_mail_headers = threading.local()
MAX_CACHED_HEADERS = 256
MAX_CACHED_HEADER_CHARS = 300


def _header(name: str, value: str):
    """policy.default's header object for a raw value (name as written, line breaks removed)."""
    cache = getattr(_mail_headers, "cache", None)
    if cache is None or len(value) > MAX_CACHED_HEADER_CHARS:
        return _header_class(name.lower())(name, value)
    header = cache.get((name, value))
    if header is None:
        header = _header_class(name.lower())(name, value)
        if len(cache) < MAX_CACHED_HEADERS:
            cache[(name, value)] = header
    return header


@functools.lru_cache(maxsize=256)
def _header_class(lowered_name: str):
    """The class policy.default's registry makes for a header name, made once per name (the
    registry builds a new one with type() at every header it parses)."""
    return policy.default.header_factory[lowered_name]


class _ParsedOncePolicy(EmailPolicy):
    """policy.default, with each header value parsed once per mail (see _header)."""

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):  # already a header object (set by code, not read from the mail)
            return value
        return _header(name, re.sub(r"[\r\n]", "", value))


POLICY = _ParsedOncePolicy()

MAX_ATTACHMENT_BYTES = 15 * 1024 * 1024  # per file; ingest's own ceiling is higher
MAX_ATTACHMENTS_BYTES = 30 * 1024 * 1024  # per mail
MAX_ATTACHMENTS = 50
MAX_REFERENCES = 50
MAX_FORWARDED = 5
MAX_FORWARDED_TEXT = 20_000
MAX_LISTED_ADDRESSES = 50
FUTURE_TOLERANCE = timedelta(days=1)
MAIL_HEADERS = {"from", "to", "date", "subject", "message-id", "received", "mime-version", "content-type",
                "return-path", "sender", "reply-to", "delivered-to"}
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
AUTO_REPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponse")
SYSTEM_SENDERS = {"mailer-daemon", "postmaster"}
NAMES_BY_TYPE = {"message/rfc822": "message-{n}.eml", "message/delivery-status": "delivery-status-{n}.txt",
                 "text/rfc822-headers": "original-headers-{n}.txt", "text/calendar": "invite-{n}.ics"}


def parse(raw: bytes, *, account_id: int, received_at: datetime | None = None) -> list[InboundMessage]:
    """One mail -> [InboundMessage]; ParseError when the bytes are not a mail at all."""
    raw = _strip_mbox_from_line(raw)
    if not raw.strip():
        raise ParseError("empty mail")
    _mail_headers.cache = {}
    try:
        msg = email.message_from_bytes(raw, policy=POLICY)
        if not MAIL_HEADERS & {k.lower() for k in msg.keys()}:
            raise ParseError("not a mail: none of From, To, Date, Subject, Message-ID, Received or MIME headers")
        return [_message(msg, raw, account_id, received_at)]
    except ParseError:
        raise
    except Exception as exc:  # the stdlib parser has corners that raise on hostile input
        raise ParseError(f"cannot read mail: {exc.__class__.__name__}: {exc}") from exc
    finally:
        _mail_headers.cache = None


def split(name: str, raw: bytes):
    """For imports: an mbox archive yields one payload per mail; anything else is one mail."""
    if not raw.startswith(b"From "):
        yield name, raw
        return
    mails, current, previous_blank = [], None, True
    for line in raw.splitlines(keepends=True):
        if line.startswith(b"From ") and previous_blank:
            current = []
            mails.append(current)
        elif current is not None:
            # mboxrd: ">From " lines in a body were escaped with one more ">".
            current.append(line[1:] if re.match(rb">+From ", line) else line)
        previous_blank = not line.strip()
    for i, lines in enumerate(mails):
        if lines and not lines[-1].strip():
            lines = lines[:-1]  # the blank line that separates mails in the archive
        yield f"{name}[{i}]", b"".join(lines)


def _strip_mbox_from_line(raw: bytes) -> bytes:
    if raw.startswith(b"From "):
        return raw.split(b"\n", 1)[1] if b"\n" in raw else b""
    return raw


# --- the message -------------------------------------------------------------------------------


def _message(msg, raw: bytes, account_id: int, received_at: datetime | None) -> InboundMessage:
    detected = _undeclared_charset(msg)
    headers = _Headers(msg, detected)
    metadata: dict = {}

    message_id = next(iter(_ids(headers.raw_all("Message-ID"), bare_ok=True)), None)
    senders, sender_address = _senders(headers, metadata)
    subject = re.sub(r"\s+", " ", headers.text("Subject")).strip()
    sent_at = _sent_at(headers, received_at, metadata)

    automated = _automated(msg, headers, sender_address)
    bounce_refs = []
    if automated:
        metadata["automated"], metadata["automated_reason"] = automated
        if automated[0] == "bounce":
            metadata["bounce"], bounce_refs = _bounce_details(msg)
            metadata["bounce_of"] = bounce_refs[:MAX_REFERENCES]
        elif automated[0] == "receipt":
            metadata["receipt"], bounce_refs = _receipt_details(msg)
            metadata["receipt_of"] = bounce_refs[:MAX_REFERENCES]

    text, html, body_parts = _bodies(msg, metadata, detected)
    winmails = _winmails(msg, body_parts, metadata)
    if not text.strip() and not html.strip() and winmails:
        text, html = _winmail_body(winmails.values(), metadata)
    attachments = _attachments(msg, body_parts, metadata, winmails)
    forwarded = _forwarded(msg)
    smime = _smime(msg)
    if smime:
        metadata["smime"] = smime
    invite = _invite(msg)
    if invite:
        metadata["invite"] = invite

    in_reply_to = _ids(headers.raw_all("In-Reply-To"))
    references = _ids(headers.raw_all("References"))
    token_refs = [r for address in _recipient_addresses(headers) if (r := reference_from_address(address))]
    ordered = _unique([*in_reply_to, *token_refs, *bounce_refs, *reversed(references)])
    ordered = [r for r in ordered if r != message_id][:MAX_REFERENCES]

    tag = SUBJECT_TAG.search(subject)
    if tag:
        metadata["conversation_tag"] = int(tag.group(1))  # shown, not trusted (see tokens.py)
    metadata["email"] = {
        "message_id": message_id,
        "from": headers.text("From")[:300],
        "to": headers.address_list("To"),
        "cc": headers.address_list("Cc"),
        "reply_to": headers.address_list("Reply-To"),
        "in_reply_to": in_reply_to,
        "references": references[-MAX_REFERENCES:],
    }
    if forwarded:
        metadata["forwarded"] = forwarded
    defects = sorted({type(d).__name__ for part in msg.walk() for d in part.defects})
    if defects:
        metadata["defects"] = defects[:10]

    return InboundMessage(
        account_id=account_id,
        external_id=message_id or "sha256:" + hashlib.sha256(raw).hexdigest(),
        senders=senders,
        sent_at=sent_at,
        text=text,
        html=html,
        subject=subject,
        references=ordered,
        opens_conversation=automated is None,
        attachments=attachments,
        metadata=metadata,
    )


class _Headers:
    """Header values decoded by the modern API, after fixing raw 8-bit bytes ourselves."""

    def __init__(self, msg, detected: str | None):
        self.charset = next((p.get_content_charset() for p in msg.walk() if p.get_content_charset()), None) or detected
        self.raw_values = defaultdict(list)  # lowered name -> the values as the parser gave them, in order
        for key, value in msg.raw_items():
            self.raw_values[key.lower()].append(value)

    def raw_all(self, name: str) -> list[str]:
        return [re.sub(r"[\r\n\x00]", "", fix_8bit_header(value, self.charset)) for value in self.raw_values.get(name.lower(), ())]

    def parsed(self, name: str, value: str):
        try:
            return _header(name, value)
        except Exception:  # hostile input can trip the header parser: treat the header as absent
            return None

    def text(self, name: str) -> str:
        values = self.raw_all(name)
        if not values:
            return ""
        header = self.parsed(name, values[0])
        text = str(header) if header is not None else values[0]
        if "=?" in text:  # words the standard decoder refused (raw 8-bit inside, cut off)
            text = re.sub(r"[\r\n\x00]", "", decode_words_loosely(self.raw_values[name.lower()][0]))
        return unmangle(text)

    def addresses(self, name: str) -> list[tuple[str, str]]:
        found = []
        for value in self.raw_all(name):
            header = self.parsed(name, value)
            for address in getattr(header, "addresses", ()) or ():
                found.append((unmangle(_decode_words(address.display_name)), address.addr_spec))
        return found

    def address_list(self, name: str) -> list[str]:
        return [f"{n} <{a}>" if n else a for n, a in self.addresses(name)][:MAX_LISTED_ADDRESSES]


def _decode_words(text: str) -> str:
    """Encoded words that the parser leaves alone (inside quotes: non-standard but common)."""
    if "=?" not in text:
        return text
    try:
        return str(make_header(decode_header(text)))
    except Exception:
        return text


_ID_IN_BRACKETS = re.compile(r"<([^<>]+)>")
_LOOSE_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


def _ids(values: list[str], *, bare_ok: bool = False) -> list[str]:
    found = []
    for value in values:
        ids = _ID_IN_BRACKETS.findall(value) or [t for t in value.split() if "@" in t]
        if not ids and bare_ok and value.strip() and " " not in value.strip():
            ids = [value.strip()]
        found += [normalize_message_id(i) for i in ids]
    return _unique([i for i in found if i])


def normalize_message_id(value: str) -> str:
    """The form stored as external_id: no <>, no whitespace, hashed when over the column size."""
    value = re.sub(r"\s+", "", value).strip("<>")
    if len(value) > 255:
        return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()
    return value


def _unique(items):
    return list(dict.fromkeys(items))


# --- people and time ------------------------------------------------------------------------------


def _senders(headers: _Headers, metadata: dict) -> tuple[list[SenderIdentity], str]:
    for name in ("From", "Reply-To", "Sender"):
        for display_name, address in headers.addresses(name):
            usable = _usable_address(address)
            if usable:
                if name != "From":
                    metadata["sender_from_header"] = name  # From: was unusable
                return [SenderIdentity(kind="email", value=usable, display_name=display_name[:200])], usable
        if name == "From":
            # "Ana <ana@example.com" and the like: the parser gives up, a plain search does not.
            for candidate in _LOOSE_ADDRESS.findall(" ".join(headers.raw_all("From"))):
                usable = _usable_address(candidate)
                if usable:
                    return [SenderIdentity(kind="email", value=usable)], usable
    metadata["from_raw"] = " ".join(headers.raw_all("From"))[:300]
    return [], ""


def _usable_address(address: str) -> str:
    try:
        return normalize_email(address)
    except InvalidIdentity:
        return ""


def _recipient_addresses(headers: _Headers) -> list[str]:
    found = []
    for name in RECIPIENT_HEADERS:
        found += [a for _, a in headers.addresses(name)]
        found += _LOOSE_ADDRESS.findall(" ".join(headers.raw_all(name)))
    return _unique(found)


def _sent_at(headers: _Headers, received_at: datetime | None, metadata: dict) -> datetime:
    received = _first_received_time(headers) or received_at
    values = headers.raw_all("Date")
    sent = _date_value(values[0]) if values else None
    if sent is None:
        metadata["date_invalid"] = values[0][:100] if values else "missing"
        return received or datetime.now(timezone.utc)
    if received and sent > received + FUTURE_TOLERANCE:
        metadata["date_invalid"] = f"in the future: {values[0][:100]}"
        return received
    return sent


def _date_value(value: str) -> datetime | None:
    value = value.strip()
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        try:
            parsed = datetime.fromisoformat(value)  # seen from scripts: "2026-11-20 09:00:00"
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    if parsed.year < 1980:
        return None
    return parsed


def _first_received_time(headers: _Headers) -> datetime | None:
    """The topmost Received: is our own server's: its time is when the mail reached us."""
    for value in headers.raw_all("Received"):
        if ";" in value:
            parsed = _date_value(value.rsplit(";", 1)[1])
            if parsed:
                return parsed
    return None


# --- loops: auto-replies, bounces, lists ---------------------------------------------------------------


def _automated(msg, headers: _Headers, sender_address: str) -> tuple[str, str] | None:
    """(kind, reason) for mail no person wrote, else None. Kinds: bounce, auto-reply, list, bulk."""
    content_type = msg.get_content_type()
    if content_type == "multipart/report" or content_type == "message/delivery-status":
        report_type = msg.get_param("report-type") or ""
        if str(report_type).lower() == "disposition-notification":
            return "receipt", f"Content-Type: {content_type}; report-type={report_type}"
        return "bounce", f"Content-Type: {content_type}; report-type={report_type}"
    if sender_address.split("@")[0] in SYSTEM_SENDERS:
        return "bounce", f"From: {sender_address}"
    auto_submitted = headers.text("Auto-Submitted").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return "auto-reply", f"Auto-Submitted: {auto_submitted}"
    for name in AUTO_REPLY_HEADERS:
        if headers.raw_all(name):
            return "auto-reply", f"{name}: {headers.text(name)[:100]}"
    precedence = headers.text("Precedence").strip().lower()
    if precedence in ("bulk", "junk", "list"):
        return ("list" if precedence == "list" else "bulk"), f"Precedence: {precedence}"
    if precedence == "auto_reply":
        return "auto-reply", "Precedence: auto_reply"
    if headers.raw_all("List-Id"):
        return "list", f"List-Id: {headers.text('List-Id')[:100]}"
    if headers.raw_all("List-Unsubscribe"):
        return "bulk", "List-Unsubscribe"
    if any(v.strip() == "<>" for v in headers.raw_all("Return-Path")):
        return "auto-reply", "Return-Path: <> (null sender)"
    return None


def _bounce_details(msg) -> tuple[dict, list[str]]:
    """What failed (RFC 3464 fields) and the Message-ID of the mail that bounced."""
    details: dict = {}
    original_ids: list[str] = []
    for part in msg.walk():
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            blocks = part.get_payload()
            for block in blocks[1:] if isinstance(blocks, list) else []:
                for field in ("Final-Recipient", "Action", "Status", "Diagnostic-Code"):
                    if block.get(field) and field.lower() not in details:
                        details[field.lower()] = str(block.get(field))[:300]
        elif content_type in ("message/rfc822", "text/rfc822-headers"):
            original = _enclosed(part) if content_type == "message/rfc822" else _headers_part(part)
            if original is not None:
                original_ids += _ids([str(original.get("Message-ID", ""))])
    return details, original_ids


def _receipt_details(msg) -> tuple[dict, list[str]]:
    """A read receipt (RFC 8098 MDN): its disposition and the Message-ID of the mail it is about."""
    for part in msg.walk():
        if part.get_content_type() == "message/disposition-notification":
            payload = part.get_payload()
            # The parser reads message/* parts as enclosed header blocks; a lone text body otherwise.
            fields = payload[0] if isinstance(payload, list) and payload else _headers_part(part)
            if fields is not None:
                disposition = str(fields.get("Disposition", ""))[:200]
                return {"disposition": disposition}, _ids([str(fields.get("Original-Message-ID", ""))])
    return {}, []


def statuses(raw: bytes, messages: list[InboundMessage], *, account_id: int) -> list[InboundStatus]:
    """What a mail reports about our own replies: a bounce fails the reply it returns, a read
    receipt ("displayed") marks it read. Read from what parse() found; nothing parsed twice."""
    found = []
    for m in messages:
        if m.metadata.get("bounce_of"):
            bounce = m.metadata.get("bounce") or {}
            reason = bounce.get("diagnostic-code") or bounce.get("status") or m.metadata.get("automated_reason") or ""
            found.append(InboundStatus(account_id=account_id, kind="failed", external_ids=m.metadata["bounce_of"],
                                       at=m.sent_at, data={"reason": f"Returned by the mail server: {reason}".strip()}))
        elif m.metadata.get("receipt_of") and "displayed" in (m.metadata.get("receipt") or {}).get("disposition", "").lower():
            found.append(InboundStatus(account_id=account_id, kind="read", external_ids=m.metadata["receipt_of"], at=m.sent_at))
    return found


def _headers_part(part):
    try:
        return email.message_from_bytes(part.get_payload(decode=True) or b"", policy=POLICY)
    except Exception:
        return None


# --- bodies and attachments --------------------------------------------------------------------------


def _undeclared_charset(msg) -> str | None:
    """Detected once per mail from every 8-bit byte it does not declare a charset for (headers and
    body parts together: a subject alone is too short to tell KOI8-R from Windows-1252)."""
    sample = b"".join(
        value.encode("ascii", "surrogateescape") for _, value in msg.raw_items() if has_raw_8bit(value)
    )
    for part in msg.walk():
        if part.get_content_maintype() == "text" and not part.get_content_charset():
            sample += part.get_payload(decode=True) or b""
    return detect_charset(sample[:64 * 1024])


def _bodies(msg, metadata: dict, detected: str | None = None) -> tuple[str, str, list]:
    """(text, sanitized html, the parts they came from)."""
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))

    html = _html(_part_text(html_part, detected), metadata) if html_part is not None else ""
    text = unmangle(_part_text(text_part, detected)) if text_part is not None else html_to_text(html)
    return _text(text, metadata), html, [p for p in (text_part, html_part) if p is not None]


def _html(raw_html: str, metadata: dict) -> str:
    """Sanitized, remote images blocked, where the quoted history starts noted."""
    html, html_quote, blocked = clean_html_with_quote(raw_html)
    if html_quote is not None:
        metadata["html_quoted_start"] = html_quote
    if blocked:
        metadata["remote_images_blocked"] = len(blocked)
        metadata["remote_images"] = blocked[:20]
    return html


def _text(text: str, metadata: dict) -> str:
    # NUL never belongs in mail text, and PostgreSQL refuses it in a text column.
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").rstrip()
    quote = quoted_start(text)
    if quote is not None:
        metadata["quoted_start"] = quote
    return text


def _part_text(part, detected: str | None = None) -> str:
    payload = part.get_payload(decode=True) or b""
    return decode_bytes(payload, part.get_content_charset(), detected)


def _leaves(part):
    if part.get_content_maintype() == "multipart":
        for sub in part.iter_parts():
            yield from _leaves(sub)
    else:
        yield part


SMIME_SIGNATURES = {"application/pkcs7-signature", "application/x-pkcs7-signature"}
SMIME_ENVELOPES = {"application/pkcs7-mime", "application/x-pkcs7-mime"}


def _smime(msg) -> dict:
    """S/MIME as the desk sees it: a detached signature (the content is readable; the signature is
    not the customer's attachment and is not verified here) or an encrypted body the desk cannot
    read (kept as its .p7m, and said so instead of an empty message)."""
    found = {}
    for part in msg.walk():
        content_type = part.get_content_type()
        if content_type in SMIME_SIGNATURES:
            found["signed"] = True
        elif content_type in SMIME_ENVELOPES:
            kind = str(part.get_param("smime-type") or "").lower()
            found["encrypted" if kind in ("enveloped-data", "authenveloped-data", "") else "signed_opaque"] = True
    return found


def _invite(msg) -> dict:
    """A calendar invitation (text/calendar): when, where, who organizes, what is asked; the .ics
    itself stays an attachment."""
    for part in _leaves(msg):
        if part.get_content_type() != "text/calendar":
            continue
        try:
            calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True) or b"")
        except ValueError:
            return {}
        for event in calendar.walk("VEVENT"):
            def when(name):
                value = event.decoded(name, None)
                return value.isoformat() if hasattr(value, "isoformat") else ""
            organizer = str(event.get("ORGANIZER", "")).removeprefix("mailto:").removeprefix("MAILTO:")
            return {
                "method": str(calendar.get("METHOD", ""))[:20],
                "summary": str(event.get("SUMMARY", ""))[:300],
                "start": when("DTSTART"),
                "end": when("DTEND"),
                "location": str(event.get("LOCATION", ""))[:300],
                "organizer": organizer[:300],
            }
    return {}


def _winmails(msg, body_parts: list, metadata: dict) -> dict[int, Winmail]:
    """The TNEF parts that could be read, by id(part); what could not is noted and stays a file."""
    found, unreadable = {}, []
    for n, part in enumerate(_leaves(msg), start=1):
        content_type = part.get_content_type()
        if part.get_content_maintype() != "application" or any(part is body for body in body_parts):
            continue
        named = is_winmail(content_type, _filename(part, n), b"")
        if not named and content_type != "application/octet-stream":
            continue  # only an octet-stream is opened to look for the signature
        content = _part_bytes(part)
        if not named and not is_winmail(content_type, "", content):
            continue
        try:
            found[id(part)] = unpack(content)
        except WinmailError as exc:
            unreadable.append(f"{_filename(part, n)}: {exc}"[:300])
    if found:
        metadata["tnef"] = {
            "files": [f.filename[:200] for w in found.values() for f in w.files][:MAX_ATTACHMENTS],
            "body": next((w.body for w in found.values() if w.body), ""),
        }
    if unreadable:
        metadata["tnef_unreadable"] = unreadable[:10]
    return found


def _winmail_body(winmails, metadata: dict) -> tuple[str, str]:
    """(text, sanitized html) from the first winmail.dat that carries a body."""
    for winmail in winmails:
        if winmail.body:
            html = _html(winmail.html, metadata) if winmail.html.strip() else ""
            return _text(unmangle(winmail.text) if winmail.text else html_to_text(html), metadata), html
    return "", ""


def _attachments(msg, body_parts: list, metadata: dict, winmails: dict[int, Winmail] | None = None) -> list[InboundAttachment]:
    """Every other leaf part (inline images too), within the size limits; what is dropped is noted.
    An S/MIME signature is no attachment of the customer's (see _smime); a winmail.dat that could
    be read is replaced by the files inside it."""
    kept, total, dropped = [], 0, []
    winmails = winmails or {}

    def files():
        for n, part in enumerate(_leaves(msg), start=1):
            if any(part is body for body in body_parts) or part.get_content_type() in SMIME_SIGNATURES:
                continue
            if id(part) in winmails:
                for f in winmails[id(part)].files:
                    yield _clean_filename(f.filename) or f"part-{n}.bin", f.content_type, f.content, f.content_id
                continue
            content_id = str(part.get("Content-ID", "")).strip().strip("<>")[:255]
            yield _filename(part, n), part.get_content_type(), _part_bytes(part), content_id

    for filename, content_type, content, content_id in files():
        if len(kept) >= MAX_ATTACHMENTS:
            dropped.append(f"{filename}: over {MAX_ATTACHMENTS} attachments")
        elif len(content) > MAX_ATTACHMENT_BYTES:
            dropped.append(f"{filename}: {len(content)} bytes over the {MAX_ATTACHMENT_BYTES} byte limit")
        elif total + len(content) > MAX_ATTACHMENTS_BYTES:
            dropped.append(f"{filename}: over {MAX_ATTACHMENTS_BYTES} bytes of attachments per mail")
        else:
            total += len(content)
            kept.append(InboundAttachment(filename=filename, content_type=content_type, content=content,
                                          content_id=content_id))
    if dropped:
        metadata["dropped_attachments"] = dropped[:20]
    return kept


def _enclosed(part):
    """The mail inside a message/rfc822 part. Outlook base64-encodes it (RFC 2046 forbids it):
    the parser then sees no headers, only the base64 text, and it must be decoded first."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding in ("base64", "quoted-printable") and inner is not None and not inner.keys():
        body = inner.get_payload()
        data = body.encode("ascii", "surrogateescape") if isinstance(body, str) else b""
        try:
            data = base64.b64decode(data) if encoding == "base64" else quopri.decodestring(data)
            return email.message_from_bytes(data, policy=POLICY)
        except (ValueError, binascii.Error):
            return None
    return inner


def _forwarded(msg) -> list[dict]:
    """Forwarded mails (message/rfc822 parts): who wrote them, when, what, readable in the thread."""
    found = []
    for part in _leaves(msg):
        if part.get_content_type() != "message/rfc822" or len(found) >= MAX_FORWARDED:
            continue
        inner = _enclosed(part)
        if inner is None:
            continue
        headers = _Headers(inner, _undeclared_charset(inner))
        text, _, _ = _bodies(inner, {})
        found.append({
            "from": headers.text("From")[:300],
            "subject": re.sub(r"\s+", " ", headers.text("Subject")).strip()[:300],
            "date": headers.text("Date")[:100],
            "text": text[:MAX_FORWARDED_TEXT],
        })
    return found


def _part_bytes(part) -> bytes:
    if part.get_content_type() == "message/rfc822" and (inner := _enclosed(part)) is not None:
        return inner.as_bytes(policy=POLICY.clone(linesep="\r\n"))
    if part.get_content_maintype() == "message":
        payload = part.get_payload()
        if isinstance(payload, list):  # message/rfc822, message/delivery-status: parsed messages
            return b"\n".join(p.as_bytes(policy=POLICY.clone(linesep="\r\n")) for p in payload)
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = str(part.get_payload()).encode("utf-8", "surrogateescape")
    return payload


def _filename(part, n: int) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    name = _clean_filename(_decode_words(fix_8bit_header(name)))
    if name:
        return name
    content_type = part.get_content_type()
    if content_type in NAMES_BY_TYPE:
        return NAMES_BY_TYPE[content_type].format(n=n)
    extension = mimetypes.guess_extension(content_type) or ".bin"
    return f"part-{n}{extension}"


def _clean_filename(name: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f/\\]+", "_", name).strip(" .")[:200]
