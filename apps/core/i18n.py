"""The translation catalogs: where they are, how they are made, and what is missing in them.

One definition used by `manage.py messages_update` (what a developer runs) and by tests/i18n
(what CI runs): the same makemessages options, the same idea of "complete". docs/languages.md.
"""
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

DOMAINS = ("django", "djangojs")
# Never scanned for strings: environments, build output, data, tests and benchmarks (their strings
# are not shown to users), the catalogs themselves.
IGNORE_PATTERNS = [".venv", "venv", "staticfiles", "var", "tests", "bench", "artifacts", "node_modules", "locale", ".ci", ".git"]
MAKEMESSAGES_OPTIONS = {
    "ignore_patterns": IGNORE_PATTERNS,
    "no_obsolete": True,  # a string gone from the source leaves the catalog
    "add_location": "file",  # file names without line numbers: editing code does not touch the catalogs
    "no_wrap": True,  # one line per string: smaller diffs, and greppable
}


def translated_languages() -> list[str]:
    """Every language but the source one (English: the msgids are its text)."""
    return [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def catalog_path(language: str, domain: str, *, base: Path | None = None, suffix: str = ".po") -> Path:
    return Path(base or settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / f"{domain}{suffix}"


@dataclass
class Problem:
    catalog: str
    msgid: str
    reason: str  # "untranslated" | "fuzzy" | "plural form missing"

    def __str__(self):
        return f"{self.catalog}: {self.reason}: {self.msgid!r}"


def catalog_problems(language: str, domain: str, *, base: Path | None = None) -> list[Problem]:
    """Entries of one catalog that would show English (or a guess) to a user of `language`."""
    import polib  # requirements-dev.txt: a developer's and CI's tool, not the server's

    path = catalog_path(language, domain, base=base)
    name = str(path.relative_to(Path(base or settings.BASE_DIR)))
    if not path.exists():
        return [Problem(name, "", "catalog missing: run `manage.py messages_update`")]
    problems = []
    for entry in polib.pofile(str(path)):
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            problems.append(Problem(name, entry.msgid, "fuzzy"))
        elif entry.msgid_plural:
            if not entry.msgstr_plural or not all(entry.msgstr_plural.values()):
                problems.append(Problem(name, entry.msgid, "untranslated (a plural form is empty)"))
        elif not entry.msgstr:
            problems.append(Problem(name, entry.msgid, "untranslated"))
    return problems


def catalog_entries(path: Path) -> dict:
    """{(msgctxt, msgid): translation(s)} of a .po or .mo file, translated entries only."""
    import polib

    catalog = polib.mofile(str(path)) if path.suffix == ".mo" else polib.pofile(str(path))
    out = {}
    for entry in catalog:
        if entry.obsolete or "fuzzy" in entry.flags or not entry.msgid:
            continue
        value = tuple(sorted(entry.msgstr_plural.items())) if entry.msgid_plural else entry.msgstr
        if value:
            out[(entry.msgctxt, entry.msgid)] = value
    return out


def catalog_msgids(path: Path) -> set:
    import polib

    return {(e.msgctxt, e.msgid, e.msgid_plural) for e in polib.pofile(str(path)) if not e.obsolete and e.msgid}
