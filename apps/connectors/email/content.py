"""Mail content helpers (pure): charsets, HTML made safe to show, text from HTML, quoted history.

ingest sanitizes HTML again with nh3's defaults; what is done here is what those defaults
do not: remote images are not loaded unless the agent asks (tracking pixels), and the quoted
history is located so the desk can fold it away while keeping the full text.
"""
import codecs
import html as html_lib
import re
from html.parser import HTMLParser

import nh3

# Tried in order when a part or header does not say its charset, or lies about it.
FALLBACK_CHARSETS = ("utf-8", "windows-1252", "latin-1")
# Mailers label Windows-1252 text as Latin-1 (smart quotes, euro sign): read it as browsers do.
CHARSET_ALIASES = {"iso-8859-1": "windows-1252", "latin-1": "windows-1252", "latin1": "windows-1252",
                   "us-ascii": "windows-1252", "ascii": "windows-1252", "ks_c_5601-1987": "cp949",
                   "x-unknown": "windows-1252", "unknown-8bit": "windows-1252"}
MAX_REMOTE_IMAGES_KEPT = 20


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Text from bytes: the declared charset if it decodes cleanly, else the fallbacks; never fails."""
    candidates = []
    if declared:
        name = declared.strip().strip('"').lower()
        candidates.append(CHARSET_ALIASES.get(name, name))
    candidates += FALLBACK_CHARSETS
    for charset in candidates:
        try:
            codecs.lookup(charset)
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")  # unreachable: latin-1 decodes any byte


def fix_8bit_header(value: str, body_charset: str | None = None) -> str:
    """A header with raw 8-bit bytes (no RFC 2047) comes from the parser as surrogate escapes."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
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
