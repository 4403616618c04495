"""/api/reports/: every report table as JSON, or CSV with ?format=csv (supervisors and admins;
agents 403; a supervisor who belongs to teams reads those teams only).

Filters on every report: start, end (YYYY-MM-DD, company time zone, inclusive; default the last
30 days), team (id), channel (kind), bucket (day|week, the SLA trend).
"""
import csv
import io

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import renderers, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsSupervisorOrAdmin
from apps.core.errors import ApplicationError

from . import facts, selectors, tables, topics
from .selectors import ReportInputError, report_filters


class CSVRenderer(renderers.BaseRenderer):
    """{"columns": [...], "rows": [...]} as CSV: a header of labels (with units), one line per row."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        out = io.StringIO()
        writer = csv.writer(out)
        if isinstance(data, dict) and "columns" in data:
            columns = data["columns"]
            writer.writerow([f"{c['label']} ({c['unit']})" if c["unit"] else c["label"] for c in columns])
            for row in data["rows"]:
                writer.writerow(["" if row.get(c["key"]) is None else row.get(c["key"]) for c in columns])
        elif isinstance(data, dict):  # an error
            writer.writerow(["message"])
            writer.writerow([data.get("message", "")])
        return out.getvalue().encode("utf-8")


FILTER_PARAMETERS = [
    OpenApiParameter("start", str, description="First day, YYYY-MM-DD (company time zone). Default: 29 days before end."),
    OpenApiParameter("end", str, description="Last day, YYYY-MM-DD, inclusive. Default: today."),
    OpenApiParameter("team", int, description="One team's conversations. Scoped supervisors: one of their teams."),
    OpenApiParameter("channel", str, description="Channel kind: api, email, twitter, facebook, phone, webform."),
    OpenApiParameter("bucket", str, enum=["day", "week"], description="SLA trend per day or per week."),
    OpenApiParameter("format", str, enum=["json", "csv"], description="csv: the table as CSV (a header of labels with units)."),
]

_FIELD_TYPES = {
    "int": lambda: serializers.IntegerField(allow_null=True),
    "float": lambda: serializers.FloatField(allow_null=True),
    "str": lambda: serializers.CharField(allow_null=True),
    "date": lambda: serializers.DateField(),
}


def _column_data(columns) -> list[dict]:
    return [{"key": c.key, "label": str(c.label), "unit": c.unit} for c in columns]


class ReportColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField(help_text="s, %, min, messages, conversations, surveys, 1-5 or empty")


def _envelope(name: str, row_fields: dict):
    return inline_serializer(
        name=name,
        fields={
            "report": serializers.CharField(),
            "filters": serializers.DictField(),
            "columns": ReportColumnSerializer(many=True),
            "rows": inline_serializer(name=name + "Row", fields=row_fields, many=True),
        },
    )


def _filters_data(f) -> dict:
    return {"start": f.start, "end": f.end, "team_ids": list(f.team_ids) if f.team_ids is not None else None,
            "channel": f.channel, "bucket": f.bucket, "time_zone": f.tz.key}


def filters_from_request(request):
    try:
        return report_filters(user=request.user, params=request.query_params)
    except ReportInputError as exc:
        raise ApplicationError(str(exc)) from exc
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from exc


class _ReportView(APIView):
    permission_classes = [IsSupervisorOrAdmin]
    renderer_classes = [renderers.JSONRenderer, CSVRenderer]
    table: tables.Table

    def get(self, request):
        f = filters_from_request(request)
        if self.table.reads_working_time:
            facts.facts_working_time_fill(since=f.start_at, until=f.end_at)
        response = Response({
            "report": self.table.slug, "filters": _filters_data(f),
            "columns": _column_data(self.table.columns), "rows": self.table.rows(f),
        })
        if request.accepted_renderer.format == "csv":
            response["Content-Disposition"] = f'attachment; filename="{self.table.slug}_{f.start}_{f.end}.csv"'
        return response


def _report_view(table: tables.Table):
    fields = {c.key: _FIELD_TYPES[c.kind]() for c in table.columns}
    name = "".join(part.title() for part in table.slug.split("-"))

    def get(self, request):  # one function per view: the schema decorator annotates it
        return _ReportView.get(self, request)

    get = extend_schema(
        summary=str(table.title), description=str(table.description), parameters=FILTER_PARAMETERS,
        responses={200: _envelope(f"{name}Report", fields), 403: OpenApiResponse(description="Agents, or a team outside a scoped supervisor's teams")},
        operation_id=f"reports_{table.slug.replace('-', '_')}", tags=["reports"],
    )(get)
    return type(f"{name}ReportView", (_ReportView,), {"table": table, "get": get, "__doc__": str(table.description)})


REPORT_VIEWS = {table.slug: _report_view(table) for table in tables.TABLES}


class TopicsReportView(APIView):
    """Frequent questions: computed by a Celery task and cached; 202 while it runs."""

    permission_classes = [IsSupervisorOrAdmin]
    renderer_classes = [renderers.JSONRenderer, CSVRenderer]

    @extend_schema(
        summary="Frequent questions (topics)",
        description="Topics customers ask about most in the period (Spanish and English text, TF-IDF + k-means, "
                    "scikit-learn), with counts, trend against the previous period, example conversations, channels "
                    "and busiest hours. 202 with status=computing while the task runs: ask again in a few seconds.",
        parameters=FILTER_PARAMETERS, tags=["reports"], operation_id="reports_topics",
        responses={
            200: _envelope("TopicsReport", {c.key: _FIELD_TYPES[c.kind]() for c in tables.TOPIC_COLUMNS}),
            202: OpenApiResponse(description="Being computed: ask again shortly"),
            403: OpenApiResponse(description="Agents, or a team outside a scoped supervisor's teams"),
        },
    )
    def get(self, request):
        f = filters_from_request(request)
        report = topics.topics_report(f)
        body = {
            "report": "topics", "filters": _filters_data(f), "status": report["status"],
            "computed_at": report.get("computed_at"), "messages_sampled": report.get("messages_sampled"),
            "columns": _column_data(tables.TOPIC_COLUMNS), "rows": tables.topic_rows(report),
            "topics": report.get("topics", []),
        }
        ready = report["status"] == "ready"
        response = Response(body, status=status.HTTP_200_OK if ready else status.HTTP_202_ACCEPTED)
        if ready and request.accepted_renderer.format == "csv":
            response["Content-Disposition"] = f'attachment; filename="topics_{f.start}_{f.end}.csv"'
        return response


class WallboardView(APIView):
    """The wallboard's current figures (what a reconnecting wallboard refetches)."""

    permission_classes = [IsSupervisorOrAdmin]

    @extend_schema(
        summary="Wallboard snapshot", tags=["reports"], operation_id="reports_wallboard",
        description="Queues per team and channel (waiting, oldest wait, due soon, breached), agents (presence, open "
                    "load, capacity), today's first response p50/p90, SLA compliance and resolutions, and the "
                    "conversations about to breach. The same shape is pushed on /ws/desk/ after a "
                    '{"type": "subscribe", "topic": "wallboard"} frame.',
        responses={200: OpenApiResponse(description="The snapshot (see docs/supervisors.md)")},
    )
    def get(self, request):
        return Response(selectors.wallboard_for(request.user))
