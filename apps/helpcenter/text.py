"""Article text for search (pure): the one normalization both the stored search_text and queries use."""
import re
import unicodedata

_WORD = re.compile(r"[^\W_]+")
MAX_QUERY_WORDS = 8


def normalize(text: str) -> str:
    """Lower case without accents ("Devolución" -> "devolucion"), as unaccent(lower()) does."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def query_words(text: str) -> list[str]:
    """The words of a search, normalized, at most MAX_QUERY_WORDS, each at least 2 letters, no repeats.
    Letters and digits only: safe to splice into a raw tsquery."""
    seen: list[str] = []
    for w in _WORD.findall(normalize(text[:500])):
        if len(w) >= 2 and w not in seen:
            seen.append(w)
    return seen[:MAX_QUERY_WORDS]


def query_forms(text: str) -> list[str]:
    """query_words plus each word as typed (lower case, accents kept) where it differs: a stemmer
    knows "devolución" (-> devolu) but not "devolucion". For the full-text query only."""
    forms = query_words(text)
    for w in _WORD.findall(text[:500].lower()):
        if len(w) >= 2 and w not in forms and len(forms) < 2 * MAX_QUERY_WORDS:
            forms.append(w)
    return forms
