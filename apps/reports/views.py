"""The supervisor's room: the live wallboard and the reports page (supervisors and admins; agents 403).

Both pages render their figures on the server (tables without JavaScript) and hand the same data
to static/reports/*.js in <script type="application/json"> blocks (json_script), which draws the
charts (Chart.js, static/vendor/chartjs) and, on the wallboard, applies the snapshots pushed on
/ws/desk/. Nothing inline: the Content-Security-Policy stays script-src 'self'.
"""
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from apps.accounts.models import Team
from apps.connectors.models import ChannelKind
from apps.inbox.visibility import report_team_scope

from . import facts, selectors, tables, topics
from .selectors import ReportInputError, report_filters

HEAT_LEVELS = 8


def _wallboard_labels() -> dict:
    """The wallboard script's words, translated here (json_script: no inline script, any quote safe)."""
    return {
        "online": _("Online"), "away": _("Away"), "offline": _("Offline"), "noTeam": _("No team"),
        "breached": _("Breached"), "dueSoon": _("Due soon"), "live": _("live"), "offlineState": _("reconnecting…"),
        "none": _("Nobody is waiting."), "noRisk": _("No conversation is about to breach."), "load": _("Conversations held (open or pending) / capacity"),
        "updated": _("Updated"), "noToday": _("Nothing answered or resolved yet today."), "unassigned": _("unassigned"),
    }


def _report_labels() -> dict:
    return {
        "messages": _("Messages"), "minutes": _("minutes"), "median": _("Median"), "p90": _("90th percentile"),
        "median_work": _("Median, working time"),
        "compliance": _("SLA compliance (%)"), "opened": _("Opened"), "resolved": _("Resolved"), "replies": _("Replies"),
        "handled": _("Handled"), "conversations": _("Conversations"), "day": _("Day"), "percent": "%",
    }


def _supervisor(request):
    if not request.user.sees_everything:
        raise PermissionDenied(_("Only supervisors and admins may open the supervisor's room."))


def _teams_for(user):
    scope = report_team_scope(user)
    teams = Team.objects.order_by("name")
    return list(teams if scope is None else teams.filter(pk__in=scope))


@require_GET
@login_required
def wallboard_page(request):
    _supervisor(request)
    return render(request, "reports/wallboard.html", {
        "slices": selectors.wallboard_for(request.user)["slices"],
        "scoped": report_team_scope(request.user) is not None,
        "teams": _teams_for(request.user),
        "labels": _wallboard_labels(),
        "desk_user": {"name": request.user.get_full_name() or request.user.username, "role": request.user.get_role_display()},
    })


def _heat_rows(cells: list[dict]) -> list[dict]:
    """The heatmap as 7 rows of 24 cells, each with a shade level (CSS classes: no inline style)."""
    top = max((c["messages"] for c in cells), default=0)
    days = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
    rows = []
    for d in range(1, 8):
        row = [c for c in cells if c["weekday"] == d]
        for c in row:
            c["level"] = 0 if not top or not c["messages"] else 1 + (HEAT_LEVELS - 1) * c["messages"] // top
        rows.append({"day": days[d - 1], "cells": row})
    return rows


@require_GET
@login_required
def reports_page(request):
    _supervisor(request)
    status, error = 200, None
    try:
        f = report_filters(user=request.user, params=request.GET)
    except ReportInputError as exc:
        status, error = 400, str(exc)
        f = report_filters(user=request.user, params={})
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from exc
    query = request.GET.urlencode()
    topic_report = topics.topics_report(f)
    if request.GET.get("part") == "topics":  # the fragment the page fetches once the topics are computed
        return render(request, "reports/_topics.html", {"topics": topic_report, "topic_rows": tables.topic_rows(topic_report), "query": query})
    facts.facts_working_time_fill(since=f.start_at, until=f.end_at)
    sections = []
    for table in tables.TABLES:
        rows = table.rows(f)
        sections.append({"table": table, "rows": rows, "columns": table.columns,
                         "data": {"slug": table.slug, "columns": [{"key": c.key, "label": str(c.label), "unit": c.unit} for c in table.columns],
                                  "rows": rows}})
    by_slug = {s["table"].slug: s for s in sections}
    return render(request, "reports/reports.html", {
        "f": f,
        "error": error,
        "query": query,
        "sections": sections,
        "by_slug": by_slug,
        "heat_rows": _heat_rows(by_slug["heatmap"]["rows"]),
        "hours_range": range(24),
        "chart_data": {**{s["table"].slug: s["data"] for s in sections}, "days": [d.isoformat() for d in f.days]},
        "topics": topic_report,
        "topic_rows": tables.topic_rows(topic_report),
        "teams": _teams_for(request.user),
        "scoped": report_team_scope(request.user) is not None,
        "channels": ChannelKind.choices,
        "labels": _report_labels(),
        "desk_user": {"name": request.user.get_full_name() or request.user.username, "role": request.user.get_role_display()},
    }, status=status)
