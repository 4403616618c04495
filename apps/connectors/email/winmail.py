"""TNEF (`winmail.dat`, application/ms-tnef): how Outlook and Exchange wrap a mail's attachments and
rich body for other Outlooks. Pure: bytes in, files and text out (tnefparse reads the format,
compressed-rtf inflates the RTF body, striprtf turns it into text).

parse.py replaces the winmail.dat with the files found inside and, when the mail has no body of
its own, uses the text (and the HTML, sanitized there like all mail HTML) found inside. A
winmail.dat that cannot be read raises WinmailError: the caller keeps it as an ordinary attachment.
"""
import mimetypes
import re
import struct
from dataclasses import dataclass, field

from striprtf.striprtf import rtf_to_text
from tnefparse import properties as mapi
from tnefparse.tnef import TNEF

TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}
TNEF_NAMES = {"winmail.dat", "win.dat"}
SIGNATURE = b"\x78\x9f\x3e\x22"  # 0x223E9F78, little-endian
_MIME_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")
_ANSI_CODEPAGE = re.compile(rb"\\ansicpg(\d+)")
# tnefparse copies the rest of the file for every object it reads (data[offset:]): its cost is
# objects x size. Real winmail.dat files hold tens of objects (a few per attachment); a crafted one
# of 3 MB in 13-byte objects took two minutes. Refused before decoding beyond these bounds.
MAX_OBJECTS = 2_000
MAX_COPIED_BYTES = 2_000_000_000  # objects x size: about a second of copying


class WinmailError(Exception):
    """The winmail.dat cannot be read (not TNEF, cut off, or nothing inside)."""


@dataclass
class WinmailFile:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""


@dataclass
class Winmail:
    files: list[WinmailFile] = field(default_factory=list)
    text: str = ""
    html: str = ""  # as Outlook wrote it: the caller sanitizes it
    body: str = ""  # where the text came from: "plain", "rtf", "html" or ""


def is_winmail(content_type: str, filename: str, payload: bytes) -> bool:
    """Declared as TNEF, named like it, or starting with TNEF's signature (sent as octet-stream)."""
    return content_type in TNEF_TYPES or filename.lower() in TNEF_NAMES or payload.startswith(SIGNATURE)


def unpack(data: bytes) -> Winmail:
    if not data.startswith(SIGNATURE):
        raise WinmailError("not TNEF: no TNEF signature at the start")
    objects = _objects(data)
    if objects > MAX_OBJECTS or objects * len(data) > MAX_COPIED_BYTES:
        raise WinmailError(f"not decoded: {objects} TNEF objects in {len(data)} bytes is more than a mail program writes")
    try:
        tnef = TNEF(data, do_checksum=False)  # a bad checksum is no reason to refuse the files
        found = Winmail(files=[_file(a, n) for n, a in enumerate(tnef.attachments, start=1)])
        plain = _text(tnef.body, tnef.codepage)
        html = _text(tnef.htmlbody, tnef.codepage)
        rtf = _rtf_text(tnef.rtfbody) if tnef._rtfbody else ""  # the property warns when there is none
    except WinmailError:
        raise
    except Exception as exc:  # a cut-off or hostile file trips the decoder in many ways
        raise WinmailError(f"cannot read TNEF: {exc.__class__.__name__}: {exc}") from exc
    found.html = html
    for kind, text in (("plain", plain), ("rtf", rtf)):
        if text.strip():
            found.text, found.body = text, kind
            break
    else:
        found.body = "html" if html.strip() else ""
    if not found.files and not found.body:
        raise WinmailError("TNEF with no attachments and no text inside")
    return found


def _objects(data: bytes) -> int:
    """How many objects the file holds, walked as tnefparse walks them (header of 6 bytes, then
    level 1 + name 2 + type 2 + length 4 + data + checksum 2), without copying anything."""
    offset, count = 6, 0
    while offset + 12 < len(data):
        (length,) = struct.unpack_from("<I", data, offset + 5)
        offset += min(len(data) - offset, length + 11)
        count += 1
        if count > MAX_OBJECTS:
            break
    return count


def _text(value, codepage: str | None) -> str:
    if not value:
        return ""
    if isinstance(value, bytes):
        value = value.decode(codepage or "cp1252", errors="replace")
    # Outlook ends strings with NUL and starts some with a zero-width space.
    return value.replace("\x00", "").replace("\u200b", "").replace("\r\n", "\n").strip()


def _rtf_text(rtf) -> str:
    """The text of the (decompressed) RTF body; RTF that wraps HTML (\\fromhtml1) gives its text too."""
    if not isinstance(rtf, bytes) or not rtf.lstrip().startswith(b"{\\rtf"):
        return ""  # compressed-rtf missing or the body not RTF after all
    codepage = _ANSI_CODEPAGE.search(rtf[:2000])
    encoding = f"cp{codepage.group(1).decode()}" if codepage else "cp1252"
    try:
        text = rtf_to_text(rtf.decode("latin-1"), encoding=encoding, errors="replace")
    except LookupError:
        text = rtf_to_text(rtf.decode("latin-1"), errors="replace")
    lines = [line.rstrip() for line in text.replace("\x00", "").replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _mapi(attachment, name: int):
    value = next((a.data for a in attachment.mapi_attrs if a.name == name), "")
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return str(value).replace("\x00", "").strip()


def _file(attachment, n: int) -> WinmailFile:
    name = attachment.long_filename()
    if isinstance(name, bytes):
        name = name.decode("cp1252", errors="replace")
    name = str(name or "").replace("\x00", "").strip()
    content = attachment.data if isinstance(attachment.data, bytes) else str(attachment.data or "").encode()
    content_type = _mapi(attachment, mapi.MAPI_ATTACH_MIME_TAG).lower()
    if not _MIME_TYPE.match(content_type) or content_type == "application/octet-stream":
        content_type = mimetypes.guess_type(name)[0] or content_type or "application/octet-stream"
    if not _MIME_TYPE.match(content_type):
        content_type = "application/octet-stream"
    if not name:
        name = f"attachment-{n}{mimetypes.guess_extension(content_type) or '.bin'}"
    return WinmailFile(filename=name, content_type=content_type, content=content,
                       content_id=_mapi(attachment, mapi.MAPI_ATTACH_CONTENT_ID).strip("<>")[:255])
