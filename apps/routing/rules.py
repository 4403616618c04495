"""Reading a message for the priority rules: accent- and case-insensitive words and phrases.

Pure (no database): `fold()` turns text into the form both sides are compared in — Unicode
NFKD with the combining marks dropped, then casefold — so "VERGÜENZA", "verguenza" and
"vergüenza" are one word, and "¡Es una ESTAFA!" contains "estafa". A keyword matches whole
words only ("estafa" does not fire on "estafador"; a trailing * allows any ending:
"estaf*"), and the spaces inside a phrase match any run of spaces or line breaks
("darme  de\nbaja"). Each rule's keywords compile to ONE regular expression, kept with the rule.
"""
import re
import unicodedata
from dataclasses import dataclass, field

MAX_KEYWORDS = 200
MAX_KEYWORD_CHARS = 80
# Enough for any complaint; a 5 MB mail body is not scanned to its end.
MAX_SCANNED_CHARS = 20_000
_SPLIT = re.compile(r"[\n,;]+")


def fold(text: str) -> str:
    """Lowercase without accents: 'VERGÜENZA' -> 'verguenza', 'Ñoño' -> 'nono'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def keywords_parse(raw: str) -> list[str]:
    """The keywords as the supervisor wrote them (one per line or comma-separated), cleaned and
    deduplicated by their folded form. Raises ValueError on too many or too long ones."""
    words, seen = [], set()
    for part in _SPLIT.split(raw or ""):
        word = " ".join(part.split())
        if not word or fold(word) in seen:
            continue
        if len(word) > MAX_KEYWORD_CHARS:
            raise ValueError(f"A keyword has at most {MAX_KEYWORD_CHARS} characters: {word[:30]}…")
        if not any(ch.isalnum() for ch in word):
            raise ValueError(f"A keyword needs a letter or a digit: {word!r}")
        seen.add(fold(word))
        words.append(word)
    if len(words) > MAX_KEYWORDS:
        raise ValueError(f"At most {MAX_KEYWORDS} keywords in one rule")
    return words


def _pattern(word: str) -> str:
    folded = fold(word)
    prefix = folded.endswith("*")
    parts = [re.escape(p) for p in folded.rstrip("*").split()]
    body = r"\s+".join(parts)
    # \w on both sides: a whole word; "estaf*" runs on to the word's end.
    return rf"(?<!\w){body}" + (r"\w*" if prefix else r"(?!\w)")


@dataclass
class KeywordMatcher:
    """Finds which of a rule's keywords a (folded) text contains, in the rule's own spelling."""

    words: list[str]
    _regex: re.Pattern | None = field(init=False, default=None)
    _by_folded: dict[str, str] = field(init=False, default_factory=dict)

    def __post_init__(self):
        if self.words:
            # One group per keyword: which one matched is the group's index.
            self._regex = re.compile("|".join(f"({_pattern(w)})" for w in self.words))

    def found(self, folded_text: str) -> list[str]:
        if self._regex is None:
            return []
        hits = []
        for match in self._regex.finditer(folded_text):
            word = self.words[match.lastindex - 1]
            if word not in hits:
                hits.append(word)
            if len(hits) == len(self.words):
                break
        return hits


def text_for_rules(*parts: str) -> str:
    """What the rules read of a message (subject and text), folded once for every rule."""
    return fold(" \n".join(p for p in parts if p)[:MAX_SCANNED_CHARS])
