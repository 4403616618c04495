"""Every user-facing string in a template is marked for translation (docs/languages.md).

Each template of the project (templates/ and apps/*/templates/) is read with Django's own lexer:
the text outside template tags is put back together (a {{ variable }} or {% tag %} becomes a
placeholder, {% blocktranslate %} and {% comment %} bodies are dropped) and parsed as HTML. Text
between tags, and the attributes people read (title, placeholder, aria-label, alt, a button's
value), must hold no letters; and a {{ variable|default:"..." }} literal with letters must be
written _("...").

Allowed as they are: the brand, keyboard keys (inside <kbd>) and code (inside <code>).
"""
import re
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.template.base import Lexer, TokenType

ROOTS = [Path(settings.BASE_DIR) / "templates", *sorted((Path(settings.BASE_DIR) / "apps").glob("**/templates"))]
# Words that are the same in every language: the product's name and its one-letter logo.
ALLOWED_WORDS = {"Centralita", "C", "Swagger"}
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "label"}
UNTRANSLATED_TAGS = {"kbd", "code", "script", "style"}
PLACEHOLDER = "\x00"
# Filters whose string argument is a format or a code, not words: date:"j M", cut:"@", yesno:"1,0"...
CODE_FILTERS = {"date", "time", "cut", "yesno", "stringformat", "join", "first", "urlencode", "truncatechars", "json_script"}
LITERAL = re.compile(r"""(\w+)?:?(_\()?("[^"]*"|'[^']*')""")


def templates():
    for root in ROOTS:
        yield from sorted(p for p in root.rglob("*.html") if p.is_file())


def has_words(text: str) -> bool:
    words = re.findall(r"[^\W\d_]+", text.replace(PLACEHOLDER, " "))
    return any(word not in ALLOWED_WORDS for word in words)


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open_tags: list[str] = []
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in READ_ATTRIBUTES | ({"value"} if (attrs.get("type") or "") in ("submit", "button", "reset") else set()):
            value = attrs.get(name)
            if value and has_words(value):
                self.found.append(f'{name}="{value.replace(PLACEHOLDER, "{…}")}"')
        if tag not in ("input", "meta", "link", "br", "img", "hr", "use"):
            self.open_tags.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if self.open_tags and self.open_tags[-1] == tag:
            self.open_tags.pop()

    def handle_endtag(self, tag):
        if tag in self.open_tags:
            while self.open_tags and self.open_tags.pop() != tag:
                pass

    def handle_data(self, data):
        if UNTRANSLATED_TAGS & set(self.open_tags):
            return
        if has_words(data):
            self.found.append(" ".join(data.replace(PLACEHOLDER, "{…}").split()))


def unmarked_strings(source: str) -> list[str]:
    """The user-facing strings of one template that are not inside a translation tag."""
    parts, found, skipping = [], [], None
    for token in Lexer(source).tokenize():
        contents = token.contents.strip()
        if skipping:
            if token.token_type == TokenType.BLOCK and contents.split()[0] == skipping:
                skipping = None
            continue
        if token.token_type == TokenType.TEXT:
            parts.append(token.contents)
        elif token.token_type == TokenType.BLOCK:
            name = contents.split()[0] if contents else ""
            if name in ("blocktranslate", "blocktrans"):
                skipping = "end" + name
            elif name == "comment":
                skipping = "endcomment"
            elif contents.split()[:2] == ["block", "body_class"]:  # CSS class names, not words
                skipping = "endblock"
            parts.append(PLACEHOLDER)
        elif token.token_type == TokenType.VAR:
            for filter_name, marked, literal in LITERAL.findall(contents):
                text = literal[1:-1]
                # A code ('en', 'api') is lower case and one word; words for people are not.
                if not marked and filter_name not in CODE_FILTERS and has_words(text) and (" " in text or not text.islower()):
                    found.append(f"{{{{ {contents} }}}}: write {literal} as _({literal})")
            parts.append(PLACEHOLDER)
    reader = _Reader()
    reader.feed("".join(parts))
    reader.close()
    return found + reader.found


def test_the_checker_finds_unmarked_text_and_accepts_marked_text():
    # given templates with and without marked strings
    bad = '<p title="Open it">Hello {{ name|default:"Someone" }}</p><input type="submit" value="Send">'
    good = (
        '{% load i18n %}<p title="{% translate "Open it" %}">{% blocktranslate %}Hello {{ name }}{% endblocktranslate %}'
        ' {{ name|default:_("Someone") }} {{ when|date:"j M" }}</p><kbd>Ctrl</kbd> <code>make run</code> Centralita · #{{ id }}'
    )
    # then the checker reports each unmarked string, and nothing in the marked one
    assert unmarked_strings(bad) == [
        '{{ name|default:"Someone" }}: write "Someone" as _("Someone")', 'title="Open it"', "Hello {…}", 'value="Send"',
    ]
    assert unmarked_strings(good) == []


def test_every_user_facing_string_in_the_templates_is_marked_for_translation():
    # given every template of the project
    problems = {}
    for path in templates():
        found = unmarked_strings(path.read_text(encoding="utf-8"))
        if found:
            problems[str(path.relative_to(settings.BASE_DIR))] = found
    # then none shows text that does not go through {% translate %} / {% blocktranslate %} / _("...")
    assert not problems, "Unmarked user-facing text (wrap it in {% translate %} / {% blocktranslate %}; docs/languages.md):\n" + "\n".join(
        f"  {path}: {text!r}" for path, found in problems.items() for text in found
    )
