"""The README stays a front page (issue 12): the two quick-start commands, the layers, links to docs/
that all resolve (files and #anchors, as GitHub renders them)."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").rglob("*.md"))
QUICK_START = (
    "make run     # builds .venv, migrates an embedded SQLite DB, loads the demo, serves http://127.0.0.1:8000/\n"
    "make test    # runs the whole test suite\n"
)


def _outside_code(text: str):
    fence = False
    for number, line in enumerate(text.split("\n"), start=1):
        if line.startswith("```"):
            fence = not fence
        elif not fence:
            yield number, line


def _slug(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_slug(m.group(1)) for _, line in _outside_code(path.read_text()) if (m := re.match(r"^#+ (.+)$", line))}


def test_the_quick_start_keeps_its_two_commands_and_make_has_them():
    text = README.read_text()
    quick_start = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert f"```sh\n{QUICK_START}```" in quick_start
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)


def test_the_readme_is_a_front_page_with_the_layers_and_a_documentation_list():
    text = README.read_text()
    assert len(text.splitlines()) <= 320, "the README is a front page: put guides in docs/ and link them"
    assert " → ".join(_layers()) in text, "the README's layer line says what .importlinter enforces"
    assert re.findall(r"\]\((docs/[^)#\s]+)", text.split("\n## Documentation\n", 1)[1])


def _layers() -> list[str]:
    """The layers of .importlinter's contract, lowest first ('a | b' siblings as 'a / b', optional ones bare)."""
    block = (README.parent / ".importlinter").read_text().split("layers =", 1)[1]
    lines = []
    for line in block.splitlines()[1:]:
        if not line.startswith(" ") or not line.strip():
            break
        lines.append(line.strip().strip("()").replace(" | ", " / "))
    return lines[::-1]


def test_every_guide_under_docs_is_reachable_from_the_readme():
    reached, todo = set(), [README]
    while todo:
        page = todo.pop()
        for _, line in _outside_code(page.read_text()):
            for target in re.findall(r"\]\(([^)#\s]+\.md)", line):
                linked = (page.parent / target).resolve()
                if linked.exists() and linked not in reached:
                    reached.add(linked)
                    todo.append(linked)
    assert not [str(p.relative_to(ROOT)) for p in DOCS if p.resolve() not in reached]


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(path):
    broken = []
    for number, line in _outside_code(path.read_text()):
        for target in re.findall(r"\]\(([^)\s]+)\)", line):
            if re.match(r"^(https?:|mailto:)", target):
                continue
            file, _, anchor = target.partition("#")
            resolved = (path.parent / file).resolve() if file else path
            if not resolved.exists():
                broken.append(f"line {number}: {target} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                broken.append(f"line {number}: {target} (no such heading)")
    assert not broken, "\n".join(broken)
