from django.core.management.base import BaseCommand

from apps.reports.facts import facts_working_time_recompute, rollups_backfill, rollups_compact


class Command(BaseCommand):
    help = ("Rebuild the reports' facts and inbound rollup from the inbox (after a restore or a bulk load "
            "without triggers), or with --working-time only recompute working times (after a calendar changed).")

    def add_arguments(self, parser):
        parser.add_argument("--working-time", action="store_true", help="only recompute every fact's working time")
        parser.add_argument("--compact", action="store_true", help="only merge the inbound count deltas")

    def handle(self, *args, working_time=False, compact=False, **options):
        if compact:
            rollups_compact()
            return
        if working_time:
            self.stdout.write(f"working time: {facts_working_time_recompute()} facts computed with a business calendar")
            return
        counts = rollups_backfill(out=self.stdout.write)
        self.stdout.write(f"done: {counts['facts']} facts")
