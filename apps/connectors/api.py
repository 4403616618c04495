"""Admin-only REST API for channel accounts (not to be confused with connectors/push/, the API channel).

Everything the console pages do, for scripts: accounts of every kind (forms generated from
GET /api/channel-kinds/), test connection, generated secrets, health, dead letters, the audit
trail and the admin's alert preference. `secrets` is write-only: no response ever carries a
secret value, only which keys are set, when and by whom; a generated secret (the API channel's
inbound token, a Facebook verify token) is in the response that made it, and never again.
"""
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import Team
from apps.accounts.permissions import IsDeskAdmin
from apps.core.keyset import KeysetPagination
from apps.core.validators import validate_json_without_nul

from . import selectors
from .account_services import (
    channel_account_create,
    channel_account_remove,
    channel_account_rotate_secret,
    channel_account_test,
    channel_account_update,
    channel_alert_preference_set,
    dead_letter_discard,
    dead_letters_replay,
)
from .models import ChannelAccount, ChannelAlertPreference, ChannelKind, DeadLetter

REPLAY_ALL_MAX = 500  # one request replays at most this many; the answer says how many are left


class SecretStatusSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    required = serializers.BooleanField()
    is_set = serializers.BooleanField()
    set_at = serializers.DateTimeField(allow_null=True)
    set_by = serializers.CharField()


class WebhookUrlSerializer(serializers.Serializer):
    label = serializers.CharField()
    url = serializers.CharField()


class ChannelAccountSerializer(serializers.ModelSerializer):
    secret_keys = serializers.SerializerMethodField(help_text="Names of the secrets that are set (values are never shown)")
    secrets_status = serializers.SerializerMethodField(help_text="Each declared secret: set or not, when and by whom")
    has_inbound_token = serializers.SerializerMethodField()
    webhook_urls = serializers.SerializerMethodField(help_text="URLs to give the provider")
    is_healthy = serializers.BooleanField(read_only=True)
    health = serializers.CharField(read_only=True, help_text="What is wrong, since when, and what happens next")
    health_state = serializers.CharField(read_only=True, help_text="disabled, not_configured, paused, failing, ok, waiting")

    class Meta:
        model = ChannelAccount
        fields = [
            "id", "kind", "name", "team", "settings", "enabled", "csat_enabled", "poll_interval", "created_at", "secret_keys",
            "secrets_status", "has_inbound_token", "webhook_urls", "last_poll_at", "last_success_at", "last_error",
            "last_error_at", "failing_since", "consecutive_failures", "paused_until", "is_healthy", "health", "health_state",
        ]

    def get_secret_keys(self, account) -> list[str]:
        return sorted(account.secrets or {})

    @extend_schema_field(SecretStatusSerializer(many=True))
    def get_secrets_status(self, account):
        return SecretStatusSerializer(selectors.secrets_status(account), many=True).data

    def get_has_inbound_token(self, account) -> bool:
        return bool(account.inbound_token_hash)

    @extend_schema_field(WebhookUrlSerializer(many=True))
    def get_webhook_urls(self, account):
        request = self.context.get("request")
        base = request.build_absolute_uri("/").rstrip("/") if request else ""
        return selectors.webhook_urls(account, base=base)


class CreatedAccountSerializer(ChannelAccountSerializer):
    shown_once = serializers.DictField(
        child=serializers.CharField(), read_only=True,
        help_text="Secrets Centralita generated for this account (inbound_token, verify_token): shown in this response only",
    )

    class Meta(ChannelAccountSerializer.Meta):
        fields = [*ChannelAccountSerializer.Meta.fields, "shown_once"]


class ChannelAccountCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    name = serializers.CharField(max_length=120)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), allow_null=True, required=False)
    settings = serializers.DictField(required=False, validators=[validate_json_without_nul])
    secrets = serializers.DictField(required=False, write_only=True, help_text="Write-only; never shown back")
    enabled = serializers.BooleanField(required=False, default=True)
    csat_enabled = serializers.BooleanField(
        required=False, help_text="Ask the customer to rate the help after each resolution (off unless set)")
    poll_interval = serializers.IntegerField(required=False, allow_null=True, help_text="Seconds between polls (30 to 86400)")


class ChannelAccountUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), allow_null=True, required=False)
    settings = serializers.DictField(required=False, validators=[validate_json_without_nul])
    secrets = serializers.DictField(
        required=False, write_only=True, help_text="Merged key by key; a null value removes that key"
    )
    enabled = serializers.BooleanField(required=False)
    csat_enabled = serializers.BooleanField(
        required=False, help_text="Ask the customer to rate the help after each resolution (off unless set)")
    poll_interval = serializers.IntegerField(required=False, allow_null=True)


class InboundTokenSerializer(serializers.Serializer):
    inbound_token = serializers.CharField(help_text="Shown this once; only its hash is stored")
    inbound_url = serializers.URLField()


class RotatedSecretSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="inbound_token or verify_token")
    value = serializers.CharField(help_text="Shown this once")


class ProbeResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField(help_text="What answered, or what is wrong, in plain words")
    seconds = serializers.FloatField()


class AccountErrorSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="failure or rate_limit")
    error = serializers.CharField()
    paused_until = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class HealthSerializer(serializers.Serializer):
    state = serializers.CharField()
    line = serializers.CharField()
    missing = serializers.ListField(child=serializers.CharField())
    last_success_at = serializers.DateTimeField(allow_null=True)
    last_poll_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()
    last_error_at = serializers.DateTimeField(allow_null=True)
    failing_since = serializers.DateTimeField(allow_null=True)
    consecutive_failures = serializers.IntegerField()
    paused_until = serializers.DateTimeField(allow_null=True)
    staged = serializers.IntegerField(help_text="Payloads received and waiting for the worker")
    oldest_staged_at = serializers.DateTimeField(allow_null=True)
    errors = AccountErrorSerializer(many=True)
    dead_letters_unresolved = serializers.IntegerField()


class DeadLetterSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeadLetter
        fields = ["id", "channel_account", "kind", "source", "error", "created_at", "replayed_at", "resolved"]


class ReplayResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    resolved = serializers.BooleanField()
    summary = serializers.CharField()
    error = serializers.CharField(allow_blank=True)


class ReplayAllSerializer(serializers.Serializer):
    replayed = ReplayResultSerializer(many=True)
    remaining = serializers.IntegerField(help_text="Unresolved dead letters left (more than one request replays)")


class AuditEventSerializer(serializers.Serializer):
    action = serializers.CharField()
    actor = serializers.CharField(source="actor.username", default="")
    detail = serializers.CharField()
    created_at = serializers.DateTimeField()


class AlertPreferenceSerializer(serializers.Serializer):
    email = serializers.BooleanField(help_text="Also email me when an account starts failing")


class AccountPagination(KeysetPagination):
    ordering = ("-created_at", "-id")


class DeadLetterPagination(KeysetPagination):
    ordering = ("-created_at", "-id")


def _account(account_id: int) -> ChannelAccount:
    account = ChannelAccount.objects.filter(pk=account_id).first()
    if account is None:
        raise Http404("No such channel account")
    return account


def _replay_rows(results) -> list[dict]:
    return [{"id": dl.id, "resolved": dl.resolved, "summary": counts.summary(), "error": "" if dl.resolved else dl.error}
            for dl, counts in results]


class ChannelKindsView(APIView):
    permission_classes = [IsDeskAdmin]

    @extend_schema(summary="Kinds of channel and the fields each needs (admins)", responses=inline_serializer(
        "ChannelKind", {"kind": serializers.CharField(), "label": serializers.CharField(),
                        "settings": serializers.ListField(child=serializers.DictField()),
                        "secrets": serializers.ListField(child=serializers.DictField()),
                        "polled": serializers.BooleanField(), "default_poll_interval": serializers.IntegerField(allow_null=True),
                        "can_test": serializers.BooleanField(), "generated_secret": serializers.CharField(allow_null=True),
                        "webhooks": serializers.ListField(child=serializers.CharField())}, many=True))
    def get(self, request):
        return Response(selectors.channel_kinds())


class ChannelAccountListView(GenericAPIView):
    permission_classes = [IsDeskAdmin]
    serializer_class = ChannelAccountSerializer
    pagination_class = AccountPagination
    queryset = ChannelAccount.objects.select_related("team").prefetch_related("webforms")

    @extend_schema(summary="Channel accounts (admins)", responses=ChannelAccountSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ChannelAccountSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(summary="Plug a channel in (admins)", request=ChannelAccountCreateSerializer, responses={201: CreatedAccountSerializer})
    def post(self, request):
        data = ChannelAccountCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = channel_account_create(**data.validated_data, actor=request.user)
        return Response(CreatedAccountSerializer(account, context={"request": request}).data, status=status.HTTP_201_CREATED)


class ChannelAccountDetailView(APIView):
    permission_classes = [IsDeskAdmin]

    @extend_schema(summary="A channel account (admins)", responses=ChannelAccountSerializer)
    def get(self, request, account_id: int):
        return Response(ChannelAccountSerializer(_account(account_id), context={"request": request}).data)

    @extend_schema(summary="Change, enable or disable a channel account (admins)", request=ChannelAccountUpdateSerializer,
                   responses=ChannelAccountSerializer)
    def patch(self, request, account_id: int):
        account = _account(account_id)
        data = ChannelAccountUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        account = channel_account_update(account=account, actor=request.user, **data.validated_data)
        return Response(ChannelAccountSerializer(account, context={"request": request}).data)

    @extend_schema(summary="Remove a channel account that has no conversations (admins); 409 otherwise",
                   request=None, responses={204: None, 409: OpenApiResponse(description="The account has conversations: disable it instead")})
    def delete(self, request, account_id: int):
        channel_account_remove(account=_account(account_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChannelAccountRotateTokenView(APIView):
    permission_classes = [IsDeskAdmin]

    @extend_schema(summary="New inbound token of an API channel (admins); the old one stops working", request=None,
                   responses=InboundTokenSerializer)
    def post(self, request, account_id: int):
        account = _account(account_id)
        if account.kind != ChannelKind.PUSH:
            return Response({"message": "Only API channel accounts have an inbound token: use rotate-secret", "extra": {}},
                            status=status.HTTP_400_BAD_REQUEST)
        _name, token = channel_account_rotate_secret(account=account, actor=request.user)
        url = request.build_absolute_uri(reverse("api-inbound", args=[account_id]))
        return Response({"inbound_token": token, "inbound_url": url})


class ChannelAccountRotateSecretView(APIView):
    permission_classes = [IsDeskAdmin]

    @extend_schema(summary="New generated secret (API inbound token, Facebook verify token), shown once (admins)",
                   request=None, responses=RotatedSecretSerializer)
    def post(self, request, account_id: int):
        name, value = channel_account_rotate_secret(account=_account(account_id), actor=request.user)
        return Response({"name": name, "value": value})


class ChannelAccountTestView(APIView):
    permission_classes = [IsDeskAdmin]

    @extend_schema(summary="Test the connection with the real client against the configured host (admins)",
                   request=None, responses=ProbeResultSerializer)
    def post(self, request, account_id: int):
        result = channel_account_test(account=_account(account_id), actor=request.user)
        return Response({"ok": result.ok, "message": result.message, "seconds": round(result.seconds, 2)})


class ChannelAccountHealthView(APIView):
    permission_classes = [IsDeskAdmin]

    @extend_schema(summary="Health of a channel account: last success, staging, last errors, pauses (admins)",
                   responses=HealthSerializer)
    def get(self, request, account_id: int):
        return Response(HealthSerializer(selectors.account_health_detail(_account(account_id))).data)


class ChannelAccountDeadLettersView(GenericAPIView):
    permission_classes = [IsDeskAdmin]
    serializer_class = DeadLetterSerializer
    pagination_class = DeadLetterPagination

    @extend_schema(summary="Dead letters of a channel account, newest first (admins); ?resolved=1 for the resolved ones",
                   responses=DeadLetterSerializer(many=True))
    def get(self, request, account_id: int):
        resolved = request.query_params.get("resolved") in ("1", "true")
        page = self.paginate_queryset(selectors.dead_letters_for(_account(account_id), resolved=resolved))
        return self.get_paginated_response(DeadLetterSerializer(page, many=True).data)


class ChannelAccountReplayAllView(APIView):
    permission_classes = [IsDeskAdmin]

    @extend_schema(summary="Replay every unresolved dead letter of the account, oldest first (admins)", request=None,
                   responses=ReplayAllSerializer)
    def post(self, request, account_id: int):
        account = _account(account_id)
        batch = list(DeadLetter.objects.filter(channel_account=account, resolved=False).order_by("created_at", "id")[:REPLAY_ALL_MAX])
        rows = _replay_rows(dead_letters_replay(dead_letters=batch, actor=request.user))
        remaining = DeadLetter.objects.filter(channel_account=account, resolved=False).count()
        return Response({"replayed": rows, "remaining": remaining})


class DeadLetterReplayView(APIView):
    permission_classes = [IsDeskAdmin]

    @extend_schema(summary="Replay one dead letter: parse and ingest it again (admins)", request=None,
                   responses=ReplayResultSerializer)
    def post(self, request, dead_letter_id: int):
        dead_letter = DeadLetter.objects.filter(pk=dead_letter_id).select_related("channel_account").first()
        if dead_letter is None:
            raise Http404("No such dead letter")
        return Response(_replay_rows(dead_letters_replay(dead_letters=[dead_letter], actor=request.user))[0])


class DeadLetterDiscardView(APIView):
    permission_classes = [IsDeskAdmin]

    @extend_schema(summary="Discard a dead letter: kept, marked resolved, recorded in the account's audit trail (admins)",
                   request=None, responses={200: DeadLetterSerializer, 409: OpenApiResponse(description="Already resolved")})
    def post(self, request, dead_letter_id: int):
        dead_letter = DeadLetter.objects.filter(pk=dead_letter_id).first()
        if dead_letter is None:
            raise Http404("No such dead letter")
        return Response(DeadLetterSerializer(dead_letter_discard(dead_letter=dead_letter, actor=request.user)).data)


class ChannelAccountAuditView(APIView):
    permission_classes = [IsDeskAdmin]

    @extend_schema(summary="Who changed, tested, rotated, replayed or discarded what on this account (admins)",
                   responses=AuditEventSerializer(many=True))
    def get(self, request, account_id: int):
        events = selectors.audit_for(account_id)[: selectors.AUDIT_SHOWN]
        return Response(AuditEventSerializer(events, many=True).data)


class ChannelAlertPreferenceView(APIView):
    permission_classes = [IsDeskAdmin]

    @extend_schema(summary="My alert preference: also an email when an account starts failing (admins)",
                   responses=AlertPreferenceSerializer)
    def get(self, request):
        preference = ChannelAlertPreference.objects.filter(user=request.user).first()
        return Response({"email": bool(preference and preference.email)})

    @extend_schema(summary="Set my alert preference (admins)", request=AlertPreferenceSerializer, responses=AlertPreferenceSerializer)
    def put(self, request):
        data = AlertPreferenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            preference = channel_alert_preference_set(user=request.user, email=data.validated_data["email"])
        return Response({"email": preference.email})
