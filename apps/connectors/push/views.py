"""POST /api/inbound/<account_id>/ — the API channel, authenticated by the account's token."""
import hmac

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.connectors.models import ChannelAccount
from apps.connectors.services import dead_letter_keep, payload_stage, payload_too_large, payload_too_large_keep
from apps.inbox.inbound import ParseError

from .parse import parse
from .selectors import push_account


class RawBodyParser(BaseParser):
    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read()


class InboundApiView(APIView):
    authentication_classes = []  # the per-account token below, not a user session
    permission_classes = [AllowAny]
    parser_classes = [RawBodyParser]

    @extend_schema(
        summary="Push inbound messages (API channel)",
        description="Authorization: Bearer <account inbound token>. Body: one message object, a list, or JSON lines. "
        "Validated at once (400 with the reason; the payload is kept as a dead letter), then ingested by the worker.",
        request={"application/json": {"type": "object"}},
        responses={202: OpenApiResponse(description="accepted"), 400: OpenApiResponse(description="invalid payload"),
                   401: OpenApiResponse(description="bad token"), 413: OpenApiResponse(description="too large")},
    )
    def post(self, request, account_id: int):
        account = push_account(account_id)
        if account is None or not _token_ok(request, account):
            return Response({"message": "Unknown account or invalid token", "extra": {}}, status=status.HTTP_401_UNAUTHORIZED)
        if not account.enabled:
            return Response({"message": "This channel account is disabled", "extra": {}}, status=status.HTTP_403_FORBIDDEN)
        raw = request.body
        dead = payload_too_large_keep(kind="api", raw=raw, source="api", account=account)
        if dead is not None:
            return Response({"message": payload_too_large(raw), "extra": {"dead_letter_id": dead.id}},
                            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        try:
            messages = parse(raw, account_id=account.id)
        except ParseError as exc:
            dead = dead_letter_keep(kind="api", raw=raw, error=str(exc), source="api", account=account)
            return Response({"message": str(exc), "extra": {"dead_letter_id": dead.id}}, status=status.HTTP_400_BAD_REQUEST)
        payload = payload_stage(account=account, kind="api", raw=raw, source="api")
        return Response(
            {"status": "accepted", "payload_id": payload.id, "messages": len(messages)}, status=status.HTTP_202_ACCEPTED
        )


def _token_ok(request, account: ChannelAccount) -> bool:
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.headers.get("X-Centralita-Token", "")
    if not token or not account.inbound_token_hash:
        return False
    return hmac.compare_digest(ChannelAccount.hash_token(token), account.inbound_token_hash)
