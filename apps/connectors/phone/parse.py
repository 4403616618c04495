"""Phone calls -> InboundMessage(kind="call"): Twilio Voice status callbacks and Asterisk Master.csv rows.

Pure: no database. Every call carries metadata["call"] (docs/channels/phone.md) and the
customer's number as its one sender identity (E.164 for PHONE_DEFAULT_REGION; none when the
caller ID is withheld); calls have no thread key, so ingest puts them in the customer's open
conversation on the account, or opens one.

How a call touches the conversation (ingest does the rest):
- a missed or abandoned inbound call: direction "in", opens the conversation, its time is
  the SLA clock (waiting_since), needs_callback true;
- an answered inbound call: direction "in", opens_conversation False, answers_waiting — it
  joins the open conversation and stops its clock (an agent talked to the customer: the
  missed call is answered), or is kept in a resolved one (nothing to do);
- an answered outbound call (the call-back): direction "out" — it answers: waiting_since
  clears, first_response_at is stamped;
- an outbound call nobody answered: direction "out", opens_conversation False — kept, the
  customer still waits.
"""
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from apps.core.parsing import digits_parse, json_parse
from apps.crm.identities import InvalidIdentity, normalize_phone
from apps.inbox.inbound import InboundMessage, ParseError, SenderIdentity

FINAL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")
RECEIVED_AT = "_centralita_received_at"  # added by our webhook after verification (RFC 2822)


# --- shared -----------------------------------------------------------------------------


def call_duration_text(seconds: int) -> str:
    """4 min 12 s; 45 s; 3 min; 1 h 5 s."""
    hours, rest = divmod(max(int(seconds), 0), 3600)
    minutes, secs = divmod(rest, 60)
    parts = ([f"{hours} h"] if hours else []) + ([f"{minutes} min"] if minutes else []) + ([f"{secs} s"] if secs else [])
    return " ".join(parts) or "0 s"


def call_text(*, direction: str, status: str, duration_seconds: int) -> str:
    if status == "completed":
        return f"{direction.capitalize()} call, {call_duration_text(duration_seconds)}"
    if direction == "inbound":
        return f"Missed inbound call ({status})"
    return f"Outbound call not answered ({status})"


def phone_e164(value: str) -> str:
    """E.164 (PHONE_DEFAULT_REGION); raises InvalidIdentity.

    PBXs often keep the outside-line "0" in front of the dialled number (0911 234 567 in
    Spain): when the number is not possible as written, it is tried once without it.
    """
    e164 = _e164((value or "").strip(), settings.PHONE_DEFAULT_REGION)
    if e164 is None:
        raise InvalidIdentity(f"not a possible phone number: {value!r}")
    return e164


@lru_cache(maxsize=8192)
def _e164(value: str, region: str) -> str | None:
    # Cached: a call log repeats the same numbers (our lines, extensions, regular callers)
    # and phonenumbers costs ~0.1 ms a parse.
    try:
        return normalize_phone(value, region)
    except InvalidIdentity:
        if value.startswith("0") and not value.startswith("00"):
            try:
                return normalize_phone(value[1:], region)
            except InvalidIdentity:
                return None
        return None


def phone_or_raw(value: str) -> str:
    """E.164 when it is a phone number; SIP URIs, client: names and 'anonymous' as given."""
    try:
        return phone_e164(value)
    except InvalidIdentity:
        return (value or "").strip()


# Caller ID withheld: the words PBXs write, and the numbers Twilio uses for anonymous,
# unknown, restricted and blocked callers.
WITHHELD = {"anonymous", "restricted", "unknown", "unavailable", "private", "withheld",
            "+266696687", "+86282452253", "+7378742833", "+2562533"}


def is_withheld(number: str) -> bool:
    return (number or "").strip().lower() in WITHHELD


def call_message(
    *,
    account_id: int,
    external_id: str,
    direction: str,
    status: str,
    started_at: datetime,
    duration_seconds: int,
    from_number: str,
    to_number: str,
    source: str,
    customer_name: str = "",
    recording_url: str = "",
    notes: str = "",
    logged_by: int | None = None,
    extra: dict | None = None,
) -> InboundMessage:
    """The one shape every call takes (webhook, CDR import, manual log)."""
    if direction not in ("inbound", "outbound"):
        raise ParseError(f"call direction must be inbound or outbound, not {direction!r}")
    if status not in FINAL_STATUSES:
        raise ParseError(f"call status must be one of {', '.join(FINAL_STATUSES)}, not {status!r}")
    answered = status == "completed"
    from_number, to_number = phone_or_raw(from_number), phone_or_raw(to_number)
    customer_number = from_number if direction == "inbound" else to_number
    # A withheld number is no identity (it would make every anonymous caller one customer)
    # and cannot be called back.
    anonymous = is_withheld(customer_number)
    if anonymous:
        customer_number = ""
    call = {
        "from": from_number,
        "to": to_number,
        "direction": direction,
        "status": status,
        "started_at": started_at.isoformat(),
        "duration_seconds": int(duration_seconds) if answered else 0,
        "recording_url": recording_url or "",
        "needs_callback": direction == "inbound" and not answered and not anonymous,
        "source": source,
        "notes": notes or "",
        "logged_by": logged_by,
    }
    text = call_text(direction=direction, status=status, duration_seconds=call["duration_seconds"])
    if notes:
        text = f"{text}\n\n{notes}"
    senders = [SenderIdentity("phone", customer_number, display_name=customer_name)] if customer_number.strip() else []
    return InboundMessage(
        account_id=account_id,
        external_id=external_id,
        senders=senders,
        sent_at=started_at,
        text=text,
        kind="call",
        direction="in" if direction == "inbound" else "out",
        # Only a missed inbound call asks for work; an answered outbound call answers (direction
        # out); the rest is history that must neither restart a clock nor count as an answer.
        opens_conversation=(direction == "inbound" and not answered and not anonymous) or (direction == "outbound" and answered),
        # The customer called again and got through: the earlier missed call is answered.
        answers_waiting=direction == "inbound" and answered,
        metadata={"call": call, **({source: extra} if extra else {})},
    )


# --- Twilio Voice status callbacks -----------------------------------------------------------


def parse_twilio(raw: bytes, *, account_id: int) -> list[InboundMessage]:
    """JSON of the status callback's POST fields (an object, or a list of them).

    Intermediate statuses (queued, ringing, in-progress) are no interaction: nothing.
    """
    try:
        data = json_parse(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"not JSON: {exc}") from exc
    items = data if isinstance(data, list) else [data]
    messages = []
    for item in items:
        if not isinstance(item, dict):
            raise ParseError("a status callback is a JSON object of the POST fields")
        message = _twilio_call(item, account_id)
        if message is not None:
            messages.append(message)
    return messages


def _field(item: dict, name: str) -> str:
    value = item.get(name, "")
    if isinstance(value, list):  # form fields kept as lists
        value = value[-1] if value else ""
    return str(value if value is not None else "").strip()


def _twilio_call(item: dict, account_id: int) -> InboundMessage | None:
    call_sid, status = _field(item, "CallSid"), _field(item, "CallStatus").lower()
    if not call_sid:
        raise ParseError("no CallSid: not a Twilio Voice status callback")
    if status not in FINAL_STATUSES:
        if status in ("queued", "initiated", "ringing", "in-progress"):
            return None
        raise ParseError(f"unknown CallStatus {status!r} (call {call_sid})")
    twilio_direction = _field(item, "Direction").lower() or "inbound"
    direction = "inbound" if twilio_direction == "inbound" else "outbound"  # outbound-api, outbound-dial
    # Timestamp: when the status event fired; the webhook also records when it arrived, for
    # callbacks configured without events (older numbers), which may not carry it.
    timestamp = _field(item, "Timestamp") or _field(item, RECEIVED_AT)
    if not timestamp:
        raise ParseError(f"no Timestamp (call {call_sid})")
    try:
        ended_at = parsedate_to_datetime(timestamp)
    except (TypeError, ValueError) as exc:
        raise ParseError(f"Timestamp {timestamp!r} is not an RFC 2822 date (call {call_sid})") from exc
    if ended_at.tzinfo is None:
        ended_at = ended_at.replace(tzinfo=dt_timezone.utc)
    duration = _int(_field(item, "CallDuration") or "0", f"CallDuration of call {call_sid}")
    # The callback's Timestamp is when the call ended; the history sorts calls by their start.
    started_at = ended_at - timedelta(seconds=duration if status == "completed" else 0)
    from_number = _field(item, "From") or _field(item, "Caller")
    to_number = _field(item, "To") or _field(item, "Called")
    name = _field(item, "CallerName") if direction == "inbound" else ""
    return call_message(
        account_id=account_id,
        external_id=f"twilio:{call_sid}",
        direction=direction,
        status=status,
        started_at=started_at,
        duration_seconds=duration,
        from_number=from_number,
        to_number=to_number,
        source="twilio",
        customer_name=name,
        recording_url=_field(item, "RecordingUrl"),
        extra={k: v for k in ("CallSid", "AccountSid", "ParentCallSid", "Direction", "AnsweredBy")
               if (v := _field(item, k))},
    )


def _int(value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise ParseError(f"{what} is not a whole number: {value!r}") from exc


def split_twilio(name: str, raw: bytes) -> Iterator[tuple[str, bytes]]:
    """A file of callbacks: one JSON object, a JSON list, or JSON lines -> one payload each."""
    text = raw.decode("utf-8-sig", errors="replace").strip()
    if not text:
        return
    try:
        data = json_parse(text)
    except json.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        yield name, json.dumps(data).encode()
        return
    if isinstance(data, list):
        for i, item in enumerate(data, 1):
            yield f"{name}:{i}", json.dumps(item).encode()
        return
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield f"{name}:{i}", line.strip().encode()  # a bad line fails alone (dead letter)


# --- Asterisk cdr_csv Master.csv ---------------------------------------------------------------

BASE_COLUMNS = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
    "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
)
NEW_COLUMNS = ("peeraccount", "linkedid", "sequence")  # newcdrcolumns=yes
DISPOSITIONS = {
    "ANSWERED": "completed",
    "NO ANSWER": "no-answer",
    "BUSY": "busy",
    "FAILED": "failed",
    "CONGESTION": "failed",  # no route or trunk capacity: the call failed
}
# dcontext names that mean "the call came in from outside" (FreePBX, common dialplans).
INBOUND_CONTEXT = re.compile(r"from-pstn|from-trunk|from-did|ext-did|from-external|incoming|inbound", re.I)
_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_UNIQUEID = re.compile(r"(?:[\w.-]+-)?\d{9,}\.\d+")  # epoch.seq, optionally systemname-prefixed
_CLID = re.compile(r'^\s*"?(?P<name>[^"<]*?)"?\s*<(?P<number>[^>]*)>\s*$')
_REFUSED = (
    "not an Asterisk cdr_csv Master.csv"
    " (16 columns accountcode … amaflags, then uniqueid/userfield, then peeraccount, linkedid, sequence)"
)


def split_asterisk(name: str, raw: bytes) -> Iterator[tuple[str, bytes]]:
    """One payload per CDR row (so imports show progress and a bad row fails alone).

    The first row decides whether the file is a CDR file at all: cdr_csv's Master.csv or
    cdr_custom's sample mapping; another layout (a spreadsheet export) is refused as a whole
    with ParseError.
    """
    checked = False
    for line_no, record in _records(raw):
        fields = _csv_fields(record)
        if not checked and _is_header(fields):
            continue
        try:
            internal = _cdr_direction(_layout(fields)) is None
        except ParseError as exc:
            if not checked:
                raise ParseError(f"{name}: {exc}") from None
            internal = False  # a bad row later on: parse refuses it alone (dead letter)
        checked = True
        if not internal:  # extension to extension: no customer, not even a payload
            yield f"{name}:{line_no}", record


def parse_asterisk(raw: bytes, *, account_id: int) -> list[InboundMessage]:
    """CDR rows (one or many lines of Master.csv) -> calls; internal extension-to-extension calls are skipped."""
    messages = []
    for line_no, record in _records(raw):
        fields = _csv_fields(record)
        if _is_header(fields):
            continue
        try:
            message = _cdr_call(fields, record, account_id)
        except ParseError as exc:
            raise ParseError(f"line {line_no}: {exc}") from None
        if message is not None:
            messages.append(message)
    return messages


def _records(raw: bytes) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes of one CSV record); a quoted field may span lines (quote parity)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    pending, start = b"", 0
    for line_no, line in enumerate(raw.split(b"\n"), 1):
        pending = pending + b"\n" + line if pending else line
        start = start or line_no
        if pending.count(b'"') % 2:
            continue  # inside a quoted field
        record = pending.rstrip(b"\r")
        if record.strip():
            yield start, record
        pending, start = b"", 0
    if pending.strip():
        yield start, pending.rstrip(b"\r")


def _decode(record: bytes) -> str:
    """cdr_csv writes what the channel gave it: UTF-8 mostly, Windows-1252/Latin-1 from older PBXs."""
    for encoding in ("utf-8", "cp1252"):
        try:
            return record.decode(encoding)
        except UnicodeDecodeError:
            continue
    return record.decode("latin-1")  # never fails


def _csv_fields(record: bytes) -> list[str]:
    rows = list(csv.reader(io.StringIO(_decode(record))))
    return rows[0] if rows else []


def _is_header(fields: list[str]) -> bool:
    return bool(fields) and fields[0].strip().lower() == "accountcode" and "disposition" in [f.strip().lower() for f in fields]


# cdr_custom.conf's sample mapping (the one most installs keep): clid first, times at 9 and 11;
# some drop the columns after billsec. Told apart from cdr_csv by where the times are.
CUSTOM_COLUMNS = (
    "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata", "start", "answer", "end",
    "duration", "billsec", "disposition", "amaflags", "accountcode", "uniqueid", "userfield", "sequence",
)


def _layout(fields: list[str]) -> dict[str, str]:
    """Column name -> value: cdr_csv's Master.csv, else cdr_custom's sample mapping, else refused
    (with cdr_csv's reason, the layout most files have)."""
    try:
        return _csv_layout(fields)
    except ParseError:
        custom = _custom_layout(fields)
        if custom is None:
            raise
        return custom


def _custom_layout(fields: list[str]) -> dict[str, str] | None:
    if not 13 <= len(fields) <= len(CUSTOM_COLUMNS):
        return None
    row = dict(zip(CUSTOM_COLUMNS, (f.strip() for f in fields)))
    if not (_TIME.fullmatch(row["start"]) and _TIME.fullmatch(row["end"])) or (row["answer"] and not _TIME.fullmatch(row["answer"])):
        return None
    if digits_parse(row["duration"]) is None or digits_parse(row["billsec"]) is None:
        return None
    disposition = row.get("disposition", "").upper()
    if disposition not in DISPOSITIONS:
        if disposition:
            return None
        # Mapped without a disposition: answered when billed seconds say so.
        row["disposition"] = "ANSWERED" if row["answer"] and int(row["billsec"]) > 0 else "NO ANSWER"
    if row.get("sequence") and digits_parse(row["sequence"]) is None:
        return None
    return row


def _csv_layout(fields: list[str]) -> dict[str, str]:
    """cdr_csv's Master.csv: the layout told by the column count and the values' shapes."""
    n = len(fields)
    if n < 16 or n > 21:
        raise ParseError(f"{_REFUSED}: a row has {n} columns, cdr_csv writes 16 to 21 (cdr_custom or another layout?)")
    row = dict(zip(BASE_COLUMNS, fields))
    for column in ("start", "end"):
        if not _TIME.fullmatch(row[column]):
            raise ParseError(
                f"{_REFUSED}: column {BASE_COLUMNS.index(column) + 1} ({column}) is {row[column][:40]!r}, "
                "not a time YYYY-MM-DD HH:MM:SS (cdr_custom or another layout?)"
            )
    if row["answer"] and not _TIME.fullmatch(row["answer"]):
        raise ParseError(f"{_REFUSED}: column 11 (answer) is {row['answer'][:40]!r}, not a time or empty")
    if digits_parse(row["duration"]) is None or digits_parse(row["billsec"]) is None:
        raise ParseError(f"{_REFUSED}: columns 13-14 (duration, billsec) must be whole seconds")
    if row["disposition"].upper() not in DISPOSITIONS:
        raise ParseError(
            f"{_REFUSED}: column 15 (disposition) is {row['disposition'][:40]!r}, not one of {', '.join(DISPOSITIONS)}"
        )
    extra = fields[16:]
    # With newcdrcolumns the row ends in peeraccount, linkedid and a whole-number sequence.
    if len(extra) >= 3 and digits_parse(extra[-1]) is not None and (len(extra) != 3 or not _UNIQUEID.fullmatch(extra[0])):
        row.update(zip(NEW_COLUMNS, extra[-3:]))
        extra = extra[:-3]
    if len(extra) == 2:
        row["uniqueid"], row["userfield"] = extra
    elif len(extra) == 1:  # loguniqueid or loguserfield alone: a uniqueid has its own shape
        row["uniqueid" if _UNIQUEID.fullmatch(extra[0]) else "userfield"] = extra[0]
    elif extra:
        raise ParseError(f"{_REFUSED}: {n} columns do not match uniqueid/userfield/newcdrcolumns")
    return row


def _cdr_call(fields: list[str], record: bytes, account_id: int) -> InboundMessage | None:
    row = _layout(fields)
    direction = _cdr_direction(row)
    if direction is None:
        return None  # extension to extension: no customer on the line
    status = DISPOSITIONS[row["disposition"].upper()]
    name, clid_number = _clid(row["clid"])
    src = row["src"].strip() or clid_number
    uniqueid = row.get("uniqueid", "").strip()
    if uniqueid:
        # Since Asterisk 12 one channel may log several CDRs (transfers, forks): sequence tells them apart.
        external_id = f"asterisk:{uniqueid}" + (f":{row['sequence']}" if row.get("sequence") else "")
    else:
        external_id = f"asterisk:sha256:{hashlib.sha256(record.strip()).hexdigest()}"
    return call_message(
        account_id=account_id,
        external_id=external_id,
        direction=direction,
        status=status,
        started_at=_cdr_time(row["start"]),
        duration_seconds=int(row["billsec"]),
        from_number=src,
        to_number=row["dst"].strip(),
        source="asterisk",
        customer_name=name if direction == "inbound" else "",
        extra={k: row[k] for k in ("uniqueid", "linkedid", "dcontext", "channel", "dstchannel", "disposition", "userfield")
               if row.get(k)},
    )


def _is_extension(value: str) -> bool:
    value = value.strip()
    return bool(value) and len(value) <= settings.ASTERISK_EXTENSION_MAX_DIGITS and digits_parse(value.lstrip("*#")) is not None


def _cdr_direction(row: dict) -> str | None:
    """inbound | outbound | None (internal). docs/channels/phone.md, "Asterisk": the direction rule.

    An inbound dcontext (from-pstn, from-trunk, ext-did, incoming …) is inbound. Otherwise a
    number of at most ASTERISK_EXTENSION_MAX_DIGITS digits is one of our extensions: extension
    to extension is internal (skipped), extension to a longer number is outbound, and
    anything else (an outside caller, an anonymous one) is inbound.
    """
    if INBOUND_CONTEXT.search(row["dcontext"]):
        return "inbound"
    src = row["src"].strip() or _clid(row["clid"])[1]
    if not _is_extension(src):
        return "inbound"
    dst = row["dst"].strip()
    return None if not dst or _is_extension(dst) else "outbound"


def _clid(clid: str) -> tuple[str, str]:
    """'"Ana García" <600112233>' -> ("Ana García", "600112233")."""
    match = _CLID.match(clid or "")
    if not match:
        return (clid or "").strip().strip('"'), ""
    name = match["name"].strip()
    number = match["number"].strip()
    return ("" if name == number else name), number


def _cdr_time(value: str) -> datetime:
    """Master.csv times are the PBX's local time (UTC with usegmtime=yes): ASTERISK_TIMEZONE says which."""
    try:
        zone = ZoneInfo(settings.ASTERISK_TIMEZONE or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ParseError(f"ASTERISK_TIMEZONE {settings.ASTERISK_TIMEZONE!r} is not a time zone") from exc
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone)
