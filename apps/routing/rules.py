"""Reading a message for the priority rules: accent- and case-insensitive words and phrases.

Pure (no database): `fold()` turns text into the form both sides are compared in — Unicode
NFKD with the combining marks dropped, then casefold — so "VERGÜENZA", "verguenza" and
"vergüenza" are one word, and "¡Es una ESTAFA!" contains "estafa". Text and keywords are then
split into words (runs of letters and digits): a keyword matches whole words only ("estafa" does not fire
on "estafador"; a trailing * allows any ending: "estaf*"), and a phrase matches the same words
in a row whatever spaces, line breaks or punctuation lie between them ("darme  de\nbaja",
"rip-off" = "rip off"). Punctuation inside a keyword is ignored ("#fail" is "fail").
"""
import re
import string
import unicodedata
from dataclasses import dataclass, field

MAX_KEYWORDS = 200
MAX_KEYWORD_CHARS = 80
# Enough for any complaint; a 5 MB mail body is not scanned to its end.
MAX_SCANNED_CHARS = 20_000
_SPLIT = re.compile(r"[\n,;]+")


_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_WORD = re.compile(r"\w+")
# Punctuation to spaces, then str.split: 5× faster than a \w+ regex over a long mail. A token still
# holding something else (an emoji glued to a word) is split by the regex, so both ways agree.
_PUNCTUATION = str.maketrans({c: " " for c in string.punctuation + "¡¿«»“”‘’„…–—·•"})


def _words(folded: str) -> list[str]:
    words = folded.translate(_PUNCTUATION).split()
    if "".join(words).isalnum():  # one C call: the usual case, nothing but letters and digits left
        return words
    return _WORD.findall(folded)


def fold(text: str) -> str:
    """Lowercase without accents: 'VERGÜENZA' -> 'verguenza', 'Ñoño' -> 'nono'."""
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text)).casefold()


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
        if not _words(fold(word)):
            raise ValueError(f"A keyword needs a letter or a digit: {word!r}")
        seen.add(fold(word))
        words.append(word)
    if len(words) > MAX_KEYWORDS:
        raise ValueError(f"At most {MAX_KEYWORDS} keywords in one rule")
    return words


@dataclass
class Scanned:
    """A message as the rules read it: its folded words, the set of them, and the words
    joined by single spaces (phrases are looked up there, whatever spaces or punctuation the text had)."""

    words: list[str]
    vocabulary: set[str]
    joined: str  # " w1 w2 … wn "


def text_for_rules(*parts: str) -> Scanned:
    """What the rules read of a message (subject and text), folded and split once for every rule."""
    words = _words(fold(" \n".join(p for p in parts if p)[:MAX_SCANNED_CHARS]))
    return Scanned(words=words, vocabulary=set(words), joined=" " + " ".join(words) + " ")


@dataclass
class KeywordMatcher:
    """Finds which of a rule's keywords a scanned text contains, in the rule's own spelling, in the
    order they first appear. A one-word keyword is a set look-up; a phrase or a prefix (word*) a
    substring search on the joined words, so a message costs about the same for 5 keywords or 200."""

    words: list[str]
    _single: dict[str, str] = field(init=False, default_factory=dict)  # folded word -> keyword
    _searched: list[tuple[str, str]] = field(init=False, default_factory=list)  # (" needle", keyword)

    def __post_init__(self):
        for word in self.words:
            prefix = word.endswith("*")
            tokens = _words(fold(word.rstrip("*")))
            if not tokens:
                continue
            if len(tokens) == 1 and not prefix:
                self._single.setdefault(tokens[0], word)
            else:  # a phrase ends at a word's end; a prefix runs on to it
                self._searched.append((" " + " ".join(tokens) + ("" if prefix else " "), word))

    def found(self, scanned: Scanned) -> list[str]:
        hits = {}
        for token in self._single.keys() & scanned.vocabulary:
            hits.setdefault(self._single[token], scanned.words.index(token))
        for needle, word in self._searched:
            at = scanned.joined.find(needle)
            if at >= 0:
                hits.setdefault(word, scanned.joined.count(" ", 0, at))  # the word index where it starts
        return sorted(hits, key=hits.get)
