"""manage.py ingest KIND PATH... — replay raw provider payloads through the live path."""
import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.connectors.drain import files_split, payloads_import
from apps.connectors.models import ChannelAccount
from apps.connectors.registry import PAYLOAD_KINDS
from apps.core.parsing import digits_parse


class Command(BaseCommand):
    help = "Replay raw provider payloads from files through parse + ingest (backfill, migration, debugging)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(PAYLOAD_KINDS), help="payload kind")
        parser.add_argument("paths", nargs="+", help="files (or directories of files) holding raw payloads")
        parser.add_argument("--account", required=True, help="channel account id or name")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                            help="processes that parse while this one ingests (default: one per core)")

    def handle(self, *args, kind, paths, account, batch_size, no_progress, workers, **options):
        channel_account = self._account(account)
        files = self._files(paths)
        payloads, refused = files_split(kind=kind, account=channel_account, files=((str(f), f.read_bytes()) for f in files))
        show_progress = not no_progress and len(payloads) > 1
        bar = tqdm(total=len(payloads), unit="payload", disable=not show_progress, file=sys.stderr)

        def on_progress(counts):
            bar.update(counts.ingested + counts.duplicates + counts.failed)

        counts = payloads_import(
            kind=kind, account=channel_account, payloads=payloads, batch_size=batch_size, on_progress=on_progress,
            # Forking is worth it for a real import, not for a handful of payloads.
            parse_workers=workers if len(payloads) >= 200 else 1,
        )
        bar.close()
        counts.add(refused)
        for failure in counts.failures:
            self.stderr.write(f"failed: {failure}")
        self.stdout.write(counts.summary())
        if counts.failed:
            sys.exit(1)

    def _account(self, value: str) -> ChannelAccount:
        account_id = digits_parse(value)
        accounts = ChannelAccount.objects.filter(pk=account_id) if account_id is not None else ChannelAccount.objects.filter(name=value)
        found = list(accounts[:2])
        if len(found) != 1:
            known = ", ".join(f"{a.id}:{a.name}" for a in ChannelAccount.objects.all()[:20])
            raise CommandError(f"no single channel account {value!r}; known: {known or 'none'}")
        return found[0]

    def _files(self, paths: list[str]) -> list[Path]:
        files = []
        for p in map(Path, paths):
            if p.is_dir():
                files += sorted(f for f in p.rglob("*") if f.is_file())
            elif p.is_file():
                files.append(p)
            else:
                raise CommandError(f"no such file: {p}")
        return files
