"""Update the translation catalogs from the source, compile them, and list what needs translating.

    .venv/bin/python manage.py messages_update        (or: make messages)

1. makemessages for every language of settings.LANGUAGES but English, for the Python/template
   strings (django.po) and the JavaScript ones (djangojs.po), with the options in apps/core/i18n.py;
2. compilemessages (needs GNU gettext's msgfmt) -> the .mo files, which are committed;
3. prints every string still untranslated or fuzzy; exits 1 if there is any (so CI and a
   developer see the same list as tests/i18n).
"""
import os
import shutil

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from apps.core import i18n


class Command(BaseCommand):
    help = "Update locale/*/LC_MESSAGES/*.po from the source, compile the .mo files, list untranslated strings."

    def add_arguments(self, parser):
        parser.add_argument("--no-compile", action="store_true", help="only update the .po files")

    def handle(self, *args, no_compile=False, **options):
        if not shutil.which("xgettext"):
            raise CommandError("GNU gettext is missing: apt-get install gettext (macOS: brew install gettext)")
        os.chdir(settings.BASE_DIR)  # makemessages scans the current directory
        languages = i18n.translated_languages()
        for domain in i18n.DOMAINS:
            call_command("makemessages", locale=languages, domain=domain, verbosity=0, **i18n.MAKEMESSAGES_OPTIONS)
        if not no_compile:
            call_command("compilemessages", locale=languages, ignore_patterns=i18n.IGNORE_PATTERNS, verbosity=0)
        problems = [p for lang in languages for domain in i18n.DOMAINS for p in i18n.catalog_problems(lang, domain)]
        for problem in problems:
            self.stdout.write(str(problem))
        if problems:
            raise CommandError(
                f"{len(problems)} string(s) to translate: edit the .po files above (msgstr, and drop the "
                "'#, fuzzy' line once checked), then run this command again."
            )
        self.stdout.write(self.style.SUCCESS(f"catalogs complete: {', '.join(languages)}"))
