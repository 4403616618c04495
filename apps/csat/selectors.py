"""CSAT figures, SQL aggregates only (one GROUP BY per table). `f` is the reports' period and
filters (apps/reports/selectors.ReportFilters: start_at, end_at, team_ids, channel): surveys made
in the period, grouped by the channel, team or agent they were made for."""
from django.conf import settings
from django.db.models import Avg, Count, Q

from .models import Survey

DIMENSIONS = {"channel": "channel_kind", "team": "team_id", "agent": "agent_id"}
ASKED = Q(status__in=(Survey.Status.SENT, Survey.Status.ANSWERED))
ANSWERED = Q(status=Survey.Status.ANSWERED)


def surveys_in_period(f):
    qs = Survey.objects.filter(created_at__gte=f.start_at, created_at__lt=f.end_at)
    if f.team_ids is not None:
        qs = qs.filter(team_id__in=f.team_ids)
    if f.channel:
        qs = qs.filter(channel_kind=f.channel)
    return qs


def csat_figures(f, *, by: str) -> list[dict]:
    """[{key, asked, skipped, answered, response_rate_pct, average_score, satisfied_pct, low}] per
    channel kind, team id or agent id. satisfied: answers of 4 or 5; low: at or under CSAT_LOW_SCORE."""
    key = DIMENSIONS[by]
    rows = (
        surveys_in_period(f).values(key)
        .annotate(
            asked=Count("pk", filter=ASKED), skipped=Count("pk", filter=Q(status=Survey.Status.SKIPPED)),
            answered=Count("pk", filter=ANSWERED), average_score=Avg("score", filter=ANSWERED),
            satisfied=Count("pk", filter=ANSWERED & Q(score__gte=4)),
            low=Count("pk", filter=ANSWERED & Q(score__lte=settings.CSAT_LOW_SCORE)),
        )
        .order_by(key)
    )
    out = []
    for r in rows:
        answered = r["answered"]
        out.append({
            "key": r[key], "asked": r["asked"], "skipped": r["skipped"], "answered": answered,
            "response_rate_pct": round(100.0 * answered / r["asked"], 1) if r["asked"] else None,
            "average_score": round(float(r["average_score"]), 2) if r["average_score"] is not None else None,
            "satisfied_pct": round(100.0 * r["satisfied"] / answered, 1) if answered else None,
            "low": r["low"],
        })
    return out
