"""The deflection rate, a table of the reports (registered in apps.py; /reports/ and
/api/reports/deflection/ with ?format=csv).

Per day (company time zone) of the first suggestion: visits shown at least one suggested article,
those that opened one, those that still sent the form, and the deflection rate = visits with
suggestions that did NOT send the form / visits with suggestions. One SQL query (GROUP BY day with
COUNT DISTINCT ... FILTER). The team and channel filters do not apply (visits belong to no team).
"""
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncDate
from django.utils.translation import gettext_lazy as _

from apps.reports.selectors import ReportFilters
from apps.reports.tables import PERCENT, Column, Table

from .models import DeflectionEvent

VISITS = ""  # counts of visits: no unit shown


def deflection_by_day(f: ReportFilters) -> list[dict]:
    same_visit = DeflectionEvent.objects.filter(visit=OuterRef("visit"))
    rows = (
        DeflectionEvent.objects.filter(kind=DeflectionEvent.Kind.SHOWN, created_at__gte=f.start_at, created_at__lt=f.end_at)
        # a visit counts on the day of its first suggestion only
        .exclude(Exists(same_visit.filter(kind=DeflectionEvent.Kind.SHOWN, created_at__lt=OuterRef("created_at"))))
        .annotate(
            day=TruncDate("created_at", tzinfo=f.tz),
            sent=Exists(same_visit.filter(kind=DeflectionEvent.Kind.SUBMITTED)),
            opened=Exists(same_visit.filter(kind=DeflectionEvent.Kind.OPENED)),
        )
        .values("day")
        .annotate(
            visits=Count("visit", distinct=True),
            opened_visits=Count("visit", distinct=True, filter=Q(opened=True)),
            sent_visits=Count("visit", distinct=True, filter=Q(sent=True)),
        )
        .order_by("day")
    )
    out = []
    for r in rows:
        deflected = r["visits"] - r["sent_visits"]
        out.append({"day": r["day"], "visits": r["visits"], "opened": r["opened_visits"], "sent": r["sent_visits"],
                    "deflected": deflected, "deflection_pct": round(100.0 * deflected / r["visits"], 1) if r["visits"] else None})
    return out


DEFLECTION_TABLE = Table(
    "deflection", _("Self-service deflection"),
    _("Web-form visits shown suggested help articles, per day: those that opened one, those that still sent the form, "
      "and the share that did not send it (deflected)."),
    (Column("day", _("Day"), kind="date"), Column("visits", _("Visits with suggestions"), VISITS),
     Column("opened", _("Opened an article"), VISITS), Column("sent", _("Sent the form"), VISITS),
     Column("deflected", _("Deflected"), VISITS), Column("deflection_pct", _("Deflection rate"), PERCENT, "float")),
    deflection_by_day,
    chart=False,
)
