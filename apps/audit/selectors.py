"""Reads of the audit log: one filter for the page, the API and the CSV export."""
import csv
import json
from dataclasses import dataclass
from datetime import datetime, time

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from apps.core.errors import ApplicationError

from .models import AuditEntry

CSV_COLUMNS = ["time", "actor", "action", "target_type", "target_id", "target", "before", "after", "ip"]


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""  # exact ("user.role_changed") or a prefix ending in a dot ("user.")
    actor: str = ""  # username at the time
    target_type: str = ""
    target_id: str = ""
    since: datetime | None = None
    until: datetime | None = None

    KEYS = ("action", "actor", "target_type", "target_id", "since", "until")

    @classmethod
    def from_query(cls, params) -> "AuditFilters":
        values = {k: (params.get(k) or "").strip()[:150] for k in cls.KEYS}
        return cls(
            action=values["action"], actor=values["actor"], target_type=values["target_type"], target_id=values["target_id"],
            since=_when(values["since"], start=True), until=_when(values["until"], start=False),
        )


def _when(value: str, *, start: bool) -> datetime | None:
    """A date (the whole day, in the desk's time zone) or an ISO date-time."""
    if not value:
        return None
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise ApplicationError("Dates look like 2026-12-05 or 2026-12-05T09:30", extra={"value": value})
        moment = datetime.combine(day, time.min if start else time.max)
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def audit_list(*, filters: AuditFilters) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.all()
    if filters.action:
        qs = qs.filter(action__startswith=filters.action) if filters.action.endswith(".") else qs.filter(action=filters.action)
    if filters.actor:
        qs = qs.filter(actor_label=filters.actor)
    if filters.target_type:
        qs = qs.filter(target_type=filters.target_type)
    if filters.target_id:
        qs = qs.filter(target_id=filters.target_id)
    if filters.since:
        qs = qs.filter(created_at__gte=filters.since)
    if filters.until:
        qs = qs.filter(created_at__lte=filters.until)
    return qs.order_by("-created_at", "-id")


def action_names() -> list[str]:
    """The actions recorded so far, for the filter's list: a loose index scan on the (action, created_at)
    index, one probe per distinct action (a plain DISTINCT reads every row: 0.3 s at 1M entries)."""
    table = AuditEntry._meta.db_table
    sql = f"""
        WITH RECURSIVE found(action) AS (
            (SELECT action FROM {table} ORDER BY action LIMIT 1)
            UNION ALL
            SELECT (SELECT t.action FROM {table} t WHERE t.action > found.action ORDER BY t.action LIMIT 1)
            FROM found WHERE found.action IS NOT NULL
        )
        SELECT action FROM found WHERE action IS NOT NULL LIMIT 200"""
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet: quote it.
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def audit_csv_rows(*, filters: AuditFilters):
    """CSV lines (header first), streamed from a server-side cursor: any size, flat memory."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    rows = audit_list(filters=filters).values_list(
        "created_at", "actor_label", "action", "target_type", "target_id", "target_label", "before", "after", "ip"
    )
    lines = []
    for created_at, actor, action, t_type, t_id, t_label, before, after, ip in rows.iterator(chunk_size=2000):
        lines.append(writer.writerow([
            created_at.isoformat(), _cell(actor), _cell(action), _cell(t_type), _cell(t_id), _cell(t_label),
            _cell(before), _cell(after), ip or "",
        ]))
        if len(lines) == 1000:  # one chunk per thousand rows, not one per row
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)
