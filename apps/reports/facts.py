"""Writes that complete the reports' facts and rollups (models.py; the triggers in rollups.py
write the rest): working time from the SLA calendars, merging count deltas, the backfill.

Working time is the SLA app's one definition (apps.sla.worktime.working_seconds) on the calendar
of the conversation's SLA policy when the fact was recorded (apps.sla.book: no policy, or a 24/7
calendar, counts every second: the triggers then copy the wall-clock time). PostgreSQL cannot run
the calendar arithmetic, so for a business calendar the triggers leave `work_seconds` empty and
this module fills it: the reports page and API fill what their period lacks before reading, a
Celery beat task every minute fills the rest, the backfill all of it.
"""
import time
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from apps.sla.book import book
from apps.sla.worktime import working_seconds

from . import rollups
from .models import Fact

BATCH = 5000


def facts_working_time_fill(*, since: datetime | None = None, until: datetime | None = None, limit: int | None = None) -> int:
    """Fill work_seconds of the facts that lack it (those placed in [since, until) if given): the
    triggers fill the 24/7 ones, so these are the facts of policies with a business calendar.
    One query when there is nothing to do. Returns how many were filled."""
    if connection.vendor != "postgresql":
        return 0
    current = book()
    if all(current.schedule_of(pid).always_open for pid in current.by_id):
        return 0  # every policy counts 24/7: the triggers filled everything (no query)
    todo = Fact.objects.filter(work_seconds__isnull=True, start_at__isnull=False)
    if since is not None:
        todo = todo.filter(at__gte=since)
    if until is not None:
        todo = todo.filter(at__lt=until)
    if not todo.order_by().values_list("id")[:1]:
        return 0  # the common case: one indexed look, no transaction
    filled = 0
    while limit is None or filled < limit:
        with transaction.atomic():
            rows = list(todo.order_by("id").select_for_update(skip_locked=True).values_list("id", "policy_id", "start_at", "end_at")[:BATCH])
            if not rows:
                break
            values = [(pk, working_seconds(start, end, current.schedule_of(policy_id))) for pk, policy_id, start, end in rows]
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE reports_fact f SET work_seconds = v.work FROM (VALUES "
                    + ",".join(["(%s::bigint, %s::float)"] * len(values))
                    + ") v(id, work) WHERE f.id = v.id",
                    [x for pair in values for x in pair],
                )
        filled += len(values)
    return filled


def rollups_compact(*, since: datetime | None = None) -> None:
    """Merge the inbound count deltas (one per ingest statement) into one row per bucket, channel
    and team, for the buckets from `since` (default: all of them)."""
    if connection.vendor != "postgresql":
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(rollups.COMPACT_SQL, [since or datetime(1970, 1, 1, tzinfo=UTC)])


def rollups_backfill(*, out=None) -> dict:
    """Rebuild the facts and the inbound rollup from the inbox (one transaction; writes that commit
    meanwhile wait for it), then fill the working time. Returns the row counts."""
    def say(text):
        if out:
            out(text)

    with transaction.atomic(), connection.cursor() as cursor:
        for label, sql in rollups.BACKFILL_SQL:
            started = time.perf_counter()
            cursor.execute(sql)
            say(f"  {label}: {cursor.rowcount if cursor.rowcount >= 0 else ''} ({time.perf_counter() - started:.1f} s)")
    started = time.perf_counter()
    filled = facts_working_time_fill()
    say(f"  working time: {filled} facts ({time.perf_counter() - started:.1f} s)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE reports_fact")
        cursor.execute("ANALYZE reports_inboundrollup")
    return {"facts": Fact.objects.count(), "working_time_filled": filled}


def facts_working_time_recompute() -> int:
    """Every fact's working time again, with the calendars as they are now (after a calendar's
    hours or holidays changed)."""
    current = book()
    counted = [pid for pid in current.by_id if not current.schedule_of(pid).always_open]
    spans = Fact.objects.filter(start_at__isnull=False)
    with transaction.atomic():
        spans.exclude(policy_id__in=counted).update(work_seconds=F("wall_seconds"))
        spans.filter(policy_id__in=counted).update(work_seconds=None)
    return facts_working_time_fill()


def recent(days: int = 2) -> datetime:
    return timezone.now() - timedelta(days=days)
