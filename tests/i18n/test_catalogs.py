"""The translation catalogs are complete, compiled and up to date with the source (docs/languages.md).

What fails here is fixed with one command, `make messages` (manage.py messages_update): it
extracts the strings, lists the ones to translate, and compiles the .mo files.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from apps.core import i18n

BASE = Path(settings.BASE_DIR)
FIX = "Run `make messages`, translate what it lists in locale/<lang>/LC_MESSAGES/*.po, run it again, commit the .po and .mo files."
CATALOGS = [(language, domain) for language in i18n.translated_languages() for domain in i18n.DOMAINS]
# What makemessages reads: the source of every page, mail and script (apps/core/i18n.py ignores the rest).
SOURCE = ["manage.py", "config", "apps", "templates", "static", "locale"]


def _gettext_or_fail():
    """Like the browser tests without chromium: skipped on a laptop without gettext, a failure in CI."""
    if not shutil.which("xgettext"):
        missing = "GNU gettext is missing: apt-get install gettext (.ci/run installs it)"
        if os.environ.get("CENTRALITA_REQUIRE_SERVICES") == "1":
            pytest.fail(missing, pytrace=False)
        pytest.skip(missing)


@pytest.mark.parametrize(("language", "domain"), CATALOGS)
def test_every_marked_string_has_its_translation_and_none_is_fuzzy(language, domain):
    problems = i18n.catalog_problems(language, domain)
    assert not problems, f"{len(problems)} string(s) not translated in {language}/{domain}.po:\n" + "\n".join(
        f"  {p}" for p in problems
    ) + f"\n{FIX}"


@pytest.mark.parametrize(("language", "domain"), CATALOGS)
def test_the_committed_mo_file_is_the_compiled_po_file(language, domain):
    # given the .po a translator edits and the .mo the server reads
    po, mo = i18n.catalog_path(language, domain), i18n.catalog_path(language, domain, suffix=".mo")
    assert mo.exists(), f"{mo.relative_to(BASE)} is missing. {FIX}"
    # then they hold the same translations (compared entry by entry, not byte by byte: msgfmt versions differ)
    po_entries, mo_entries = i18n.catalog_entries(po), i18n.catalog_entries(mo)
    stale = sorted(k[1] for k in po_entries.keys() ^ mo_entries.keys() | {k for k in po_entries.keys() & mo_entries.keys() if po_entries[k] != mo_entries[k]})
    assert not stale, f"{mo.relative_to(BASE)} is older than the .po for: {stale[:20]}\n{FIX}"


def test_the_catalogs_hold_exactly_the_strings_of_the_source(tmp_path):
    """makemessages on a copy of the source: any string it adds or drops means the catalogs are stale."""
    _gettext_or_fail()
    # given a copy of the source with the committed catalogs
    for name in SOURCE:
        src = BASE / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, tmp_path / name)
    # when the catalogs are extracted again there, exactly as `make messages` does
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONPATH": str(tmp_path)}
    env.pop("DATABASE_URL", None)  # extraction needs no database
    result = subprocess.run(
        [sys.executable, "manage.py", "messages_update", "--no-compile"], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=300,
    )
    assert "Traceback" not in result.stderr, result.stderr
    # then every catalog holds the same strings as the committed one
    differences = []
    for language, domain in CATALOGS:
        committed = i18n.catalog_msgids(i18n.catalog_path(language, domain))
        fresh = i18n.catalog_msgids(i18n.catalog_path(language, domain, base=tmp_path))
        differences += [f"  {language}/{domain}.po lacks {m[1]!r}" for m in sorted(fresh - committed, key=str)]
        differences += [f"  {language}/{domain}.po still has {m[1]!r} (gone from the source)" for m in sorted(committed - fresh, key=str)]
    assert not differences, "The catalogs are out of date with the source:\n" + "\n".join(differences) + f"\n{FIX}"
