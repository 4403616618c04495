"""Data protection over REST (admins only): a customer's export, their erasure, the retention setting."""
import tempfile

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsDeskAdmin
from apps.core.net import client_ip

from . import data_protection
from .models import Customer, DataProtectionSettings

EXPORT_SPOOL_BYTES = 20 * 1024 * 1024  # bigger exports spill to a temporary file, not memory


def export_response(*, customer: Customer, actor, ip) -> FileResponse:
    out = tempfile.SpooledTemporaryFile(max_size=EXPORT_SPOOL_BYTES)
    data_protection.customer_export(customer=customer, out=out, actor=actor, ip=ip)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=f"customer-{customer.pk}.zip", content_type="application/zip")


class CustomerExportView(APIView):
    permission_classes = [IsDeskAdmin]

    @extend_schema(
        summary="Everything held about a customer, as a ZIP (admins; audited)",
        description="customer.json (profile, identities), conversations.json (every conversation and message, every "
        "channel), audit.json (conversation events, merges, audit entries) and attachments/ (the stored files).",
        responses={(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    def get(self, request, customer_id: int):
        customer = get_object_or_404(Customer, pk=customer_id)
        return export_response(customer=customer, actor=request.user, ip=client_ip(request))


class EraseInputSerializer(serializers.Serializer):
    confirm = serializers.CharField(required=False, allow_blank=True,
                                    help_text="The customer's id. Without it the answer (400) says what would be erased.")


class CustomerEraseView(APIView):
    permission_classes = [IsDeskAdmin]

    @extend_schema(
        summary="Erase a customer (admins): messages and attachments redacted, identities removed; cannot be undone",
        request=EraseInputSerializer,
        responses={200: inline_serializer("CustomerErased", {
            "conversations": serializers.IntegerField(), "messages": serializers.IntegerField(),
            "attachments": serializers.IntegerField(), "identities": serializers.IntegerField(),
            "merged_records": serializers.IntegerField(),
        })},
    )
    def post(self, request, customer_id: int):
        customer = get_object_or_404(Customer, pk=customer_id)
        data = EraseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        counts = data_protection.customer_erase(customer=customer, actor=request.user,
                                                confirm=data.validated_data.get("confirm"), ip=client_ip(request))
        return Response(counts)


class RetentionSerializer(serializers.Serializer):
    retention_months = serializers.IntegerField(allow_null=True, min_value=0, max_value=600,
                                                help_text="Resolved conversations idle this long are redacted nightly; null or 0: kept")


class DataProtectionSettingsView(APIView):
    permission_classes = [IsDeskAdmin]

    @extend_schema(summary="The retention setting (admins)", responses=RetentionSerializer)
    def get(self, request):
        return Response({"retention_months": DataProtectionSettings.current().retention_months})

    @extend_schema(summary="Change the retention setting (admins; audited)", request=RetentionSerializer, responses=RetentionSerializer)
    def patch(self, request):
        data = RetentionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        current = data_protection.retention_set(actor=request.user, months=data.validated_data["retention_months"], ip=client_ip(request))
        return Response({"retention_months": current.retention_months})
