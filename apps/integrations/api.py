"""Admin-only REST API for outgoing webhooks. The signing secret is returned once, by create and
rotate-secret; no other response carries it."""
from django.core.validators import URLValidator
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsDeskAdmin
from apps.core.keyset import KeysetPagination
from apps.core.net import client_ip

from . import selectors, services
from .models import WEBHOOK_STATES, EventType, WebhookDelivery, WebhookEndpoint


class WebhookEndpointSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=WEBHOOK_STATES, read_only=True)
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices))

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "name", "url", "event_types", "enabled", "state", "paused_at", "consecutive_failures",
                  "last_success_at", "last_failure_at", "created_at"]


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    signing_secret = serializers.CharField(help_text="Shown this once: store it in the receiving system")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "signing_secret"]


class WebhookEndpointInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    url = serializers.URLField(max_length=1000, validators=[URLValidator(schemes=["http", "https"])])
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices), allow_empty=False)
    enabled = serializers.BooleanField(required=False)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["id", "event_type", "event_id", "status", "attempts", "next_attempt_at", "last_attempt_at",
                  "response_status", "response_excerpt", "error", "resent_from", "created_at", "payload"]


class AdminView(APIView):
    permission_classes = [IsDeskAdmin]


class WebhookListView(AdminView):
    @extend_schema(summary="Outgoing webhooks (admins)", responses=WebhookEndpointSerializer(many=True))
    def get(self, request):
        return Response(WebhookEndpointSerializer(selectors.endpoints_list(), many=True).data)

    @extend_schema(
        summary="Subscribe a URL to event types (admins); the signing secret is in this answer only",
        description="Event types: " + ", ".join(EventType.values) + ". Each delivery is a JSON POST signed with "
        "HMAC-SHA256 over \"<timestamp>.<body>\": headers X-Centralita-Timestamp, X-Centralita-Signature (v1=<hex>), "
        "X-Centralita-Event, X-Centralita-Delivery. sla.breached is sent when the SLA code publishes it.",
        request=WebhookEndpointInputSerializer, responses={201: WebhookEndpointCreatedSerializer},
    )
    def post(self, request):
        data = WebhookEndpointInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        endpoint, secret = services.webhook_endpoint_create(actor=request.user, name=v["name"], url=v["url"],
                                                            event_types=v["event_types"], ip=client_ip(request))
        if v.get("enabled") is False:
            endpoint = services.webhook_endpoint_update(actor=request.user, endpoint=endpoint, enabled=False, ip=client_ip(request))
        body = WebhookEndpointSerializer(endpoint).data
        return Response({**body, "signing_secret": secret}, status=status.HTTP_201_CREATED)


class WebhookDetailView(AdminView):
    @extend_schema(summary="An outgoing webhook (admins)", responses=WebhookEndpointSerializer)
    def get(self, request, webhook_id: int):
        return Response(WebhookEndpointSerializer(get_object_or_404(WebhookEndpoint, pk=webhook_id)).data)

    @extend_schema(summary="Change an outgoing webhook (admins; audited)",
                   request=WebhookEndpointInputSerializer(partial=True), responses=WebhookEndpointSerializer)
    def patch(self, request, webhook_id: int):
        endpoint = get_object_or_404(WebhookEndpoint, pk=webhook_id)
        data = WebhookEndpointInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(actor=request.user, endpoint=endpoint, ip=client_ip(request), **data.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(summary="Delete an outgoing webhook and its delivery log (admins)", responses={204: None})
    def delete(self, request, webhook_id: int):
        services.webhook_endpoint_delete(actor=request.user, endpoint=get_object_or_404(WebhookEndpoint, pk=webhook_id),
                                         ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookResumeView(AdminView):
    @extend_schema(summary="Resume a paused webhook (admins)", request=None,
                   responses={200: WebhookEndpointSerializer, 409: OpenApiResponse(description="This webhook is not paused")})
    def post(self, request, webhook_id: int):
        endpoint = services.webhook_endpoint_resume(actor=request.user, endpoint=get_object_or_404(WebhookEndpoint, pk=webhook_id),
                                                    ip=client_ip(request))
        return Response(WebhookEndpointSerializer(endpoint).data)


class WebhookRotateSecretView(AdminView):
    @extend_schema(summary="A new signing secret (admins); shown in this answer only", request=None,
                   responses=inline_serializer("WebhookSecret", {"signing_secret": serializers.CharField()}))
    def post(self, request, webhook_id: int):
        secret = services.webhook_endpoint_rotate_secret(
            actor=request.user, endpoint=get_object_or_404(WebhookEndpoint, pk=webhook_id), ip=client_ip(request))
        return Response({"signing_secret": secret})


class WebhookDeliveryListView(GenericAPIView):
    permission_classes = [IsDeskAdmin]
    serializer_class = WebhookDeliverySerializer
    pagination_class = KeysetPagination

    @extend_schema(summary="A webhook's deliveries, newest first, with the receiver's answers (admins)",
                   parameters=[OpenApiParameter("status", str, enum=WebhookDelivery.Status.values)],
                   responses=WebhookDeliverySerializer(many=True))
    def get(self, request, webhook_id: int):
        endpoint = get_object_or_404(WebhookEndpoint, pk=webhook_id)
        page = self.paginate_queryset(selectors.deliveries_of(endpoint=endpoint, status=request.query_params.get("status", "")))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class WebhookDeliveryResendView(AdminView):
    @extend_schema(summary="Send a delivery again, now (admins): a new delivery of the same event, tried once",
                   request=None, responses={202: WebhookDeliverySerializer})
    def post(self, request, delivery_id: int):
        delivery = get_object_or_404(WebhookDelivery, pk=delivery_id)
        copy = services.webhook_delivery_resend(actor=request.user, delivery=delivery, ip=client_ip(request))
        copy.refresh_from_db()
        return Response(WebhookDeliverySerializer(copy).data, status=status.HTTP_202_ACCEPTED)
