"""The audit log over REST (admins only): the same filters as the page, JSON pages or CSV."""
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.views import APIView

from apps.accounts.permissions import IsDeskAdmin

from . import selectors
from .models import AuditEntry
from .pagination import AuditPagination

FILTER_PARAMETERS = [
    OpenApiParameter("action", str, description="Exact action (user.role_changed) or a prefix ending in a dot (user.)"),
    OpenApiParameter("actor", str, description="Username of who did it (as it was then)"),
    OpenApiParameter("target_type", str, description="user, team, customer, webhookendpoint, conversation, settings"),
    OpenApiParameter("target_id", str),
    OpenApiParameter("since", str, description="From this date (2026-12-05) or date-time (ISO 8601)"),
    OpenApiParameter("until", str, description="Up to this date (the whole day) or date-time"),
]


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label", help_text="Username at the time; empty for the system")
    conversation_url = serializers.SerializerMethodField(help_text="The conversation's own trail, for entries about one")

    class Meta:
        model = AuditEntry
        fields = ["id", "created_at", "actor", "actor_id", "action", "target_type", "target_id", "target_label",
                  "before", "after", "ip", "conversation_url"]

    def get_conversation_url(self, entry) -> str | None:
        return f"/c/{entry.target_id}/" if entry.target_type == "conversation" and entry.target_id else None


class AuditListView(GenericAPIView):
    permission_classes = [IsDeskAdmin]
    serializer_class = AuditEntrySerializer
    pagination_class = AuditPagination

    @extend_schema(summary="The audit log, newest first (admins)", parameters=FILTER_PARAMETERS,
                   responses=AuditEntrySerializer(many=True))
    def get(self, request):
        qs = selectors.audit_list(filters=selectors.AuditFilters.from_query(request.query_params))
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(AuditEntrySerializer(page, many=True).data)


class AuditExportView(APIView):
    permission_classes = [IsDeskAdmin]

    @extend_schema(summary="The audit log as CSV (admins; same filters, every matching row)", parameters=FILTER_PARAMETERS,
                   responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV: " + ", ".join(selectors.CSV_COLUMNS))})
    def get(self, request):
        filters = selectors.AuditFilters.from_query(request.query_params)
        response = StreamingHttpResponse(selectors.audit_csv_rows(filters=filters), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="audit-{timezone.now():%Y%m%d-%H%M}.csv"'
        return response
