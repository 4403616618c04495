"""FreeSWITCH CDRs -> calls (pure: no database): mod_cdr_csv rows in its default template, and
mod_json_cdr documents. The same call shape, direction rule and idempotence as Asterisk's.

CSV (cdr_csv.conf.xml, template "default"), 15 columns:
    caller_id_name, caller_id_number, destination_number, context, start_stamp, answer_stamp,
    end_stamp, duration, billsec, hangup_cause, uuid, bleg_uuid, accountcode, read_codec, write_codec
JSON: {"variables": {...}, "callflow": [{"caller_profile": {...}}], ...}; variables are
URL-encoded strings, times in epoch seconds.

Status from the hangup cause (Q.850 names, as FreeSWITCH writes them): answered with billed
seconds is completed; USER_BUSY busy; NO_ANSWER / NO_USER_RESPONSE / ALLOTTED_TIMEOUT no-answer;
ORIGINATOR_CANCEL (the caller hung up first) canceled; anything else failed. Direction: the
"public" context (FreeSWITCH's for calls from gateways) is inbound; otherwise the Asterisk rule
on extensions (parse._cdr_direction).
"""
import csv
import hashlib
import io
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from urllib.parse import unquote

from apps.core.parsing import digits_parse, json_parse
from apps.inbox.inbound import InboundMessage, ParseError

from .parse import _TIME, _cdr_direction, _cdr_time, _clid, _decode, _records, call_message

CSV_COLUMNS = (
    "caller_id_name", "caller_id_number", "destination_number", "context", "start_stamp", "answer_stamp",
    "end_stamp", "duration", "billsec", "hangup_cause", "uuid", "bleg_uuid", "accountcode", "read_codec", "write_codec",
)
CAUSES = {"USER_BUSY": "busy", "NO_ANSWER": "no-answer", "NO_USER_RESPONSE": "no-answer",
          "ALLOTTED_TIMEOUT": "no-answer", "ORIGINATOR_CANCEL": "canceled"}
INBOUND_CONTEXTS = ("public",)
_REFUSED = "not a FreeSWITCH CDR (mod_cdr_csv's default 15-column template, or a mod_json_cdr document)"


def split_freeswitch(name: str, raw: bytes) -> Iterator[tuple[str, bytes]]:
    """A JSON CDR file is one payload; a CSV file one payload per row. The first CSV row decides
    whether the file is a FreeSWITCH CDR at all (another layout is refused as a whole)."""
    if raw.lstrip()[:1] == b"{":
        yield name, raw
        return
    checked = False
    for line_no, record in _records(raw):
        if not checked:
            _csv_row(record)  # raises ParseError for another layout
            checked = True
        yield f"{name}:{line_no}", record


def parse_freeswitch(raw: bytes, *, account_id: int) -> list[InboundMessage]:
    if raw.lstrip()[:1] == b"{":
        message = _json_call(raw, account_id)
        return [message] if message else []
    messages = []
    for line_no, record in _records(raw):
        try:
            message = _call(_csv_row(record), account_id)
        except ParseError as exc:
            raise ParseError(f"line {line_no}: {exc}") from None
        if message is not None:
            messages.append(message)
    return messages


def _csv_row(record: bytes) -> dict:
    rows = list(csv.reader(io.StringIO(_decode(record))))
    fields = rows[0] if rows else []
    if len(fields) != len(CSV_COLUMNS):
        raise ParseError(f"{_REFUSED}: a row has {len(fields)} columns")
    row = dict(zip(CSV_COLUMNS, (f.strip() for f in fields)))
    if not _TIME.fullmatch(row["start_stamp"]) or (row["answer_stamp"] and not _TIME.fullmatch(row["answer_stamp"])):
        raise ParseError(f"{_REFUSED}: start_stamp {row['start_stamp'][:40]!r} is not a time YYYY-MM-DD HH:MM:SS")
    if digits_parse(row["billsec"]) is None:
        raise ParseError(f"{_REFUSED}: billsec {row['billsec'][:20]!r} is not whole seconds")
    row["started_at"] = _cdr_time(row["start_stamp"])
    row["answered"] = bool(row["answer_stamp"])
    return row


def _json_call(raw: bytes, account_id: int) -> InboundMessage | None:
    try:
        document = json_parse(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ParseError(f"{_REFUSED}: {exc}") from None
    variables = document.get("variables") if isinstance(document, dict) else None
    if not isinstance(variables, dict):
        raise ParseError(f"{_REFUSED}: no variables object")
    flow = document.get("callflow")
    flow = flow[0] if isinstance(flow, list) and flow else flow if isinstance(flow, dict) else {}
    profile = flow.get("caller_profile") if isinstance(flow, dict) and isinstance(flow.get("caller_profile"), dict) else {}

    def var(name: str) -> str:
        return unquote(str(variables.get(name) or profile.get(name) or "")).strip()

    start = digits_parse(var("start_epoch"))
    if not start:
        raise ParseError(f"{_REFUSED}: start_epoch {var('start_epoch')[:20]!r} is not epoch seconds")
    row = {
        "caller_id_name": var("caller_id_name"), "caller_id_number": var("caller_id_number"),
        "destination_number": var("destination_number"), "context": var("context") or var("user_context"),
        "billsec": var("billsec") or "0", "hangup_cause": var("hangup_cause"), "uuid": var("uuid"),
        "started_at": datetime.fromtimestamp(start, tz=timezone.utc),
        "answered": bool(digits_parse(var("answer_epoch")) or 0),
    }
    return _call(row, account_id, raw=raw)


def _call(row: dict, account_id: int, *, raw: bytes = b"") -> InboundMessage | None:
    asterisk_like = {"dcontext": "from-pstn" if row["context"] in INBOUND_CONTEXTS else row["context"],
                     "src": row["caller_id_number"], "clid": "", "dst": row["destination_number"]}
    direction = _cdr_direction(asterisk_like)
    if direction is None:
        return None  # extension to extension: no customer on the line
    billsec = digits_parse(row["billsec"]) or 0
    cause = row["hangup_cause"].upper()
    status = "completed" if row["answered"] and billsec > 0 else CAUSES.get(cause, "failed")
    uuid = row["uuid"] or hashlib.sha256(raw or json.dumps(row, default=str).encode()).hexdigest()
    name = _clid(row["caller_id_name"])[0] if "<" in row["caller_id_name"] else row["caller_id_name"]
    return call_message(
        account_id=account_id,
        external_id=f"freeswitch:{uuid}"[:255],
        direction=direction,
        status=status,
        started_at=row["started_at"],
        duration_seconds=billsec,
        from_number=row["caller_id_number"],
        to_number=row["destination_number"],
        source="freeswitch",
        customer_name=name if direction == "inbound" and name != row["caller_id_number"] else "",
        extra={k: row[k] for k in ("uuid", "context", "hangup_cause") if row.get(k)},
    )
