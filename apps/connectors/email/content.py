"""Mail content helpers (pure): charsets, HTML made safe to show, text from HTML, quoted history.

ingest sanitizes HTML again with nh3's defaults; what is done here is what those defaults
do not: remote images are not loaded unless the agent asks (tracking pixels), and the quoted
history is located so the desk can fold it away while keeping the full text.
"""
import base64
import binascii
import codecs
import html as html_lib
import re
from html.parser import HTMLParser

import ftfy
import nh3
from charset_normalizer import from_bytes
from ftfy.badness import is_bad

# Tried in order when a part or header does not say its charset, or lies about it.
FALLBACK_CHARSETS = ("utf-8", "windows-1252", "latin-1")
# Mailers label Windows-1252 text as Latin-1 (smart quotes, euro sign): read it as browsers do.
CHARSET_ALIASES = {"iso-8859-1": "windows-1252", "latin-1": "windows-1252", "latin1": "windows-1252",
                   "us-ascii": "windows-1252", "ascii": "windows-1252", "ks_c_5601-1987": "cp949",
                   "x-unknown": "windows-1252", "unknown-8bit": "windows-1252"}
MAX_REMOTE_IMAGES_KEPT = 20
# What undeclared 8-bit mail is written in, in practice; detection chooses among these only
# (an open list makes short samples come out as any of 90 codecs).
DETECTABLE_CHARSETS = ("utf_8", "cp1252", "iso8859_15", "iso8859_2", "koi8_r", "cp1251", "iso8859_5",
                       "big5", "gb18030", "shift_jis", "euc_jp", "iso2022_jp", "euc_kr", "cp1250", "cp1253", "cp1254")
# Below this many 8-bit bytes detection is a guess (8 bytes of KOI8-R read as well as Shift-JIS):
# such a short text is read as UTF-8, else Windows-1252, as before.
DETECTION_MIN_8BIT_BYTES = 24


def detect_charset(sample: bytes) -> str | None:
    """The charset of undeclared 8-bit bytes (charset-normalizer), or None when there is nothing to tell."""
    if sum(b > 0x7F for b in sample) < DETECTION_MIN_8BIT_BYTES:
        return None
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(sample, cp_isolation=list(DETECTABLE_CHARSETS)).best()
    return best.encoding if best is not None else None


def unmangle(text: str) -> str:
    """Undo mojibake a relay made (UTF-8 read as Latin-1: "CafÃ©"), only where ftfy sees it."""
    return ftfy.fix_text(text) if text and is_bad(text) else text


def decode_bytes(data: bytes, declared: str | None = None, detected: str | None = None) -> str:
    """Text from bytes: the declared charset if it decodes cleanly, then UTF-8, then the charset
    detected for the whole mail, then the fallbacks; never fails."""
    candidates = []
    if declared:
        name = declared.strip().strip('"').lower()
        candidates.append(CHARSET_ALIASES.get(name, name))
    candidates.append("utf-8")
    if detected:
        candidates.append(detected)
    candidates += FALLBACK_CHARSETS
    for charset in candidates:
        try:
            codecs.lookup(charset)
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")  # unreachable: latin-1 decodes any byte


_RAW_8BIT = re.compile("[\udc80-\udcff]")


def has_raw_8bit(value: str) -> bool:
    """The parser hands raw 8-bit header bytes over as surrogate escapes."""
    return _RAW_8BIT.search(value) is not None


def fix_8bit_header(value: str, body_charset: str | None = None) -> str:
    """A header with raw 8-bit bytes (no RFC 2047): UTF-8, else the charset the body declares or
    the one detected for the whole mail, else the fallbacks."""
    if not has_raw_8bit(value):
        return value
    data = value.encode("ascii", "surrogateescape")
    # UTF-8 first (a valid UTF-8 byte run is almost never meant as Latin-1), then the body's charset.
    for charset in ("utf-8", body_charset):
        if charset:
            try:
                return data.decode(CHARSET_ALIASES.get(charset.lower(), charset))
            except (LookupError, UnicodeDecodeError):
                pass
    return decode_bytes(data)


# An encoded word as mailers really write them: raw 8-bit inside, or cut off before "?=".
_LOOSE_WORD = re.compile(r"=\?([\w.:-]+)(?:\*[\w-]+)?\?([QqBb])\?(.*?)(?:\?=|$)", re.S)


def decode_words_loosely(raw: str) -> str:
    """Encoded words the standard decoder gave up on, decoded as far as they go. `raw` is the
    header as the parser gave it (raw 8-bit bytes as surrogate escapes)."""
    if "=?" not in raw:
        return raw
    # Whitespace between two adjacent encoded words is not part of the text (RFC 2047, 6.2).
    text = re.sub(r"(\?=)\s+(?==\?)", r"\1", raw)

    def word(match: re.Match) -> str:
        charset, encoding, payload = match.group(1).lower(), match.group(2).upper(), match.group(3)
        try:
            if encoding == "B":
                clean = re.sub(r"[^A-Za-z0-9+/]", "", payload)
                data = base64.b64decode(clean[: len(clean) - len(clean) % 4] if len(clean) % 4 == 1 else clean + "=" * (-len(clean) % 4))
            else:  # Q: "_" is a space, =XX a byte; characters already decoded stay as they are
                data = re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
                              payload.replace("_", " ").encode("utf-8", "surrogateescape"))
            return decode_bytes(data, charset)
        except (ValueError, binascii.Error):
            return match.group(0)

    return _LOOSE_WORD.sub(word, text)


# --- HTML -----------------------------------------------------------------------------------

_REMOTE = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)


def clean_html(html: str) -> tuple[str, list[str]]:
    """Sanitized HTML with remote images removed; returns (html, the image URLs blocked)."""
    blocked: list[str] = []

    def attribute_filter(tag: str, attribute: str, value: str):
        if tag == "img" and attribute in ("src", "srcset") and _REMOTE.match(value):
            blocked.append(value.strip())
            return None  # the image shows as its alt text until the agent chooses to load it
        return value

    return nh3.clean(html, attribute_filter=attribute_filter), blocked


# Where common clients start the quoted previous message in their HTML replies.
_HTML_QUOTE_MARKERS = re.compile(
    r"<div[^>]+class=[\"']?(?:gmail_quote|moz-cite-prefix|yahoo_quoted)"  # Gmail, Thunderbird, Yahoo
    r"|<div[^>]+id=[\"']?(?:divRplyFwdMsg|appendonsend)"  # Outlook
    r"|<blockquote[^>]+type=[\"']?cite",  # Apple Mail, Thunderbird
    re.IGNORECASE,
)


def clean_html_with_quote(html: str) -> tuple[str, int | None, list[str]]:
    """(sanitized html, offset where the quoted history starts or None, blocked image URLs).

    The marker classes and ids are what sanitizing removes, so the split is found on the raw
    HTML and both halves are cleaned apart: the offset stays true in the stored HTML.
    """
    match = _HTML_QUOTE_MARKERS.search(html)
    if not match:
        cleaned, blocked = clean_html(html)
        return cleaned, None, blocked
    head, head_blocked = clean_html(html[: match.start()])
    quoted, quoted_blocked = clean_html(html[match.start():])
    if not _visible_text(head).strip():
        return head + quoted, None, head_blocked + quoted_blocked  # nothing but quote: show it all
    return head + quoted, len(head), head_blocked + quoted_blocked


def _visible_text(cleaned_html: str) -> str:
    return html_lib.unescape(nh3.clean(cleaned_html, tags=set()))


class _TextExtractor(HTMLParser):
    PARAGRAPHS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote", "pre", "hr",
                  "section", "article", "header", "footer", "address"}
    LINES = {"div", "li", "tr", "dt", "dd"}
    SKIP = {"script", "style", "head", "title", "noscript", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.skip_depth = 0
        self.quote_depth = 0
        self.pre_depth = 0

    def _line(self):
        if self.lines[-1].strip(" >"):
            self.lines.append("")

    def _paragraph(self):
        self._line()
        if len(self.lines) > 1 and self.lines[-2].strip(" >"):
            self.lines.append("")

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skip_depth += 1
        elif tag == "br":
            self.lines.append("")
        elif tag in self.PARAGRAPHS or tag in self.LINES:
            self._paragraph() if tag in self.PARAGRAPHS else self._line()
            if tag == "li":
                self.lines[-1] += "- "
            elif tag == "blockquote":
                self.quote_depth += 1
            elif tag == "pre":
                self.pre_depth += 1
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.handle_data(f"[{alt}]")

    def handle_startendtag(self, tag, attrs):
        if tag not in self.SKIP:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in self.PARAGRAPHS:
            if tag == "blockquote":
                self.quote_depth = max(0, self.quote_depth - 1)
            elif tag == "pre":
                self.pre_depth = max(0, self.pre_depth - 1)
            self._paragraph()
        elif tag in self.LINES:
            self._line()

    def handle_data(self, data):
        if self.skip_depth:
            return
        if not self.pre_depth:
            data = re.sub(r"\s+", " ", data)
        for i, chunk in enumerate(data.split("\n")):
            if i:
                self.lines.append("")
            line = self.lines[-1]
            if not line and self.quote_depth:
                line = "> " * self.quote_depth
            if not line.strip(" >-"):
                chunk = chunk.lstrip()
            self.lines[-1] = line + chunk


def html_to_text(html: str) -> str:
    """Readable plain text for search and previews; blockquotes become "> " lines."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [line.rstrip() for line in parser.lines]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --- quoted history in plain text -------------------------------------------------------------

_ATTRIBUTION = re.compile(
    r"^\s*(On|El|Le|Am|Il|Em|Op)\b.{0,300}\b(wrote|escribió|escribio|a écrit|schrieb|ha scritto|escreveu|schreef)\s*:\s*$",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(Original Message|Mensaje original|Message d'origine|Ursprüngliche Nachricht|Messaggio originale)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(From|De|Von|Da)\s*:\*?\s+\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(Sent|Enviado|Date|Fecha|Gesendet|Envoyé|Inviato)\s*:", re.IGNORECASE)


def quoted_start(text: str) -> int | None:
    """Offset where the quoted previous message starts, or None (nothing to fold, or only quote).

    Recognised: "On <date>, <name> wrote:" in several languages (also wrapped over two lines),
    "-----Original Message-----", Outlook's From:/Sent: block, and a trailing block of "> " lines.
    Inline answers between quoted lines are not folded: only a quote that runs to the end is.
    """
    lines = text.split("\n")
    offsets, position = [], 0
    for line in lines:
        offsets.append(position)
        position += len(line) + 1

    start = None
    for i, line in enumerate(lines):
        joined = line + " " + lines[i + 1] if i + 1 < len(lines) else line
        wrapped = line.strip() and not line.startswith(">") and _ATTRIBUTION.match(joined)
        if _ATTRIBUTION.match(line) or wrapped:
            start = i
        elif _SEPARATOR.match(line):
            start = i
        elif _OUTLOOK_FROM.match(line) and any(_OUTLOOK_NEXT.match(n) for n in lines[i + 1: i + 5]):
            start = i
        if start is not None:
            break

    # A trailing block of quoted lines (with no attribution we recognised).
    tail = len(lines)
    while tail > 0 and (not lines[tail - 1].strip() or lines[tail - 1].lstrip().startswith(">")):
        tail -= 1
    if tail < len(lines) and any(line.lstrip().startswith(">") for line in lines[tail:]):
        quote_at = tail
        while quote_at < len(lines) and not lines[quote_at].strip():
            quote_at += 1
        if start is None or quote_at < start:
            start = quote_at

    if start is None or not "\n".join(lines[:start]).strip():
        return None
    return offsets[start]
