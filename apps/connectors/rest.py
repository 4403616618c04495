"""Admin-only REST API for channel accounts (not to be confused with connectors/api/, the API channel).

`secrets` is write-only: no response ever carries a secret value, only the names of the
keys that are set. The inbound token is shown once, by rotate-token.
"""
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import Team
from apps.accounts.permissions import IsDeskAdmin
from apps.core.keyset import KeysetPagination
from apps.core.validators import validate_json_without_nul

from .account_services import channel_account_create, channel_account_update
from .models import ChannelAccount, ChannelKind
from .services import channel_account_rotate_token


class ChannelAccountSerializer(serializers.ModelSerializer):
    secret_keys = serializers.SerializerMethodField(help_text="Names of the secrets that are set (values are never shown)")
    has_inbound_token = serializers.SerializerMethodField()
    is_healthy = serializers.BooleanField(read_only=True)
    health = serializers.CharField(read_only=True, help_text="What is wrong, since when, and what happens next")

    class Meta:
        model = ChannelAccount
        fields = [
            "id", "kind", "name", "team", "settings", "enabled", "created_at", "secret_keys", "has_inbound_token",
            "last_success_at", "last_error", "last_error_at", "consecutive_failures", "paused_until", "is_healthy", "health",
        ]

    def get_secret_keys(self, account) -> list[str]:
        return sorted(account.secrets or {})

    def get_has_inbound_token(self, account) -> bool:
        return bool(account.inbound_token_hash)


class ChannelAccountCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    name = serializers.CharField(max_length=120)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), allow_null=True, required=False)
    settings = serializers.DictField(required=False, validators=[validate_json_without_nul])
    secrets = serializers.DictField(required=False, write_only=True)
    enabled = serializers.BooleanField(required=False, default=True)


class ChannelAccountUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), allow_null=True, required=False)
    settings = serializers.DictField(required=False, validators=[validate_json_without_nul])
    secrets = serializers.DictField(
        required=False, write_only=True, help_text="Merged key by key; a null value removes that key"
    )
    enabled = serializers.BooleanField(required=False)


class InboundTokenSerializer(serializers.Serializer):
    inbound_token = serializers.CharField(help_text="Shown this once; only its hash is stored")
    inbound_url = serializers.URLField()


class AccountPagination(KeysetPagination):
    ordering = ("-created_at", "-id")


def _account(account_id: int) -> ChannelAccount:
    account = ChannelAccount.objects.filter(pk=account_id).first()
    if account is None:
        raise Http404("No such channel account")
    return account


class ChannelAccountListView(GenericAPIView):
    permission_classes = [IsDeskAdmin]
    serializer_class = ChannelAccountSerializer
    pagination_class = AccountPagination
    queryset = ChannelAccount.objects.all()

    @extend_schema(summary="Channel accounts (admins)", responses=ChannelAccountSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ChannelAccountSerializer(page, many=True).data)

    @extend_schema(summary="Plug a channel in (admins)", request=ChannelAccountCreateSerializer, responses={201: ChannelAccountSerializer})
    def post(self, request):
        data = ChannelAccountCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = channel_account_create(**data.validated_data)
        return Response(ChannelAccountSerializer(account).data, status=status.HTTP_201_CREATED)


class ChannelAccountDetailView(APIView):
    permission_classes = [IsDeskAdmin]

    @extend_schema(summary="A channel account (admins)", responses=ChannelAccountSerializer)
    def get(self, request, account_id: int):
        return Response(ChannelAccountSerializer(_account(account_id)).data)

    @extend_schema(summary="Change a channel account (admins)", request=ChannelAccountUpdateSerializer, responses=ChannelAccountSerializer)
    def patch(self, request, account_id: int):
        account = _account(account_id)
        data = ChannelAccountUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        account = channel_account_update(account=account, **data.validated_data)
        return Response(ChannelAccountSerializer(account).data)


class ChannelAccountRotateTokenView(APIView):
    permission_classes = [IsDeskAdmin]

    @extend_schema(summary="New inbound token (admins); the old one stops working", request=None, responses=InboundTokenSerializer)
    def post(self, request, account_id: int):
        token = channel_account_rotate_token(account=_account(account_id))
        url = request.build_absolute_uri(reverse("api-inbound", args=[account_id]))
        return Response({"inbound_token": token, "inbound_url": url})
