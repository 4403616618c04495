"""/hooks/twitter/<account_id>/ — X's Account Activity webhook (the optional push path).

GET ?crc_token=…: the challenge-response check X makes when the webhook is registered and
then hourly -> {"response_token": "sha256=" + base64 HMAC-SHA256(consumer_secret, crc_token)}.
POST: x-twitter-webhooks-signature = "sha256=" + base64 HMAC-SHA256(consumer_secret, raw body),
checked in constant time before anything is kept; then the raw body is staged and X gets its
200 at once (the worker parses and ingests; what cannot be parsed becomes a dead letter).
One webhook URL serves an X app's every subscribed user: a body whose for_user_id is another
account's user id goes to that account (its own consumer secret must verify it too).
"""
import base64
import hashlib
import hmac
import json
import logging

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, HttpResponseNotFound, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.connectors.models import ChannelAccount, ChannelKind
from apps.connectors.services import dead_letter_keep, payload_stage

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "x-twitter-webhooks-signature"


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request, account_id: int):
    account = ChannelAccount.objects.filter(pk=account_id, kind=ChannelKind.TWITTER).first()
    if account is None:
        return HttpResponseNotFound("unknown account")
    consumer_secret = (account.secrets or {}).get("consumer_secret") or ""
    if request.method == "GET":
        token = request.GET.get("crc_token", "")
        if not token or not consumer_secret:
            return HttpResponseBadRequest("crc_token missing, or the account has no consumer_secret")
        return JsonResponse({"response_token": crc_response(token, consumer_secret)})
    raw = request.body
    if not signature_ok(raw, request.headers.get(SIGNATURE_HEADER, ""), consumer_secret):
        logger.warning("twitter webhook for account %s: missing or wrong signature, refused", account.id)
        return HttpResponseForbidden("invalid signature")
    if len(raw) > settings.INBOUND_MAX_PAYLOAD_BYTES:
        error = f"payload of {len(raw)} bytes is over the {settings.INBOUND_MAX_PAYLOAD_BYTES} byte limit (kept truncated)"
        dead_letter_keep(kind="twitter", raw=raw, error=error, source="webhook", account=account)
        return HttpResponse(status=413)
    target = _account_for(account, raw, request.headers.get(SIGNATURE_HEADER, ""))
    if target is None or not target.enabled:
        return HttpResponse(status=200)  # a user we do not serve (any more): acknowledged, not kept
    payload_stage(account=target, kind="twitter", raw=raw, source="webhook")
    return HttpResponse(status=200)


def crc_response(crc_token: str, consumer_secret: str) -> str:
    digest = hmac.new(consumer_secret.encode(), crc_token.encode(), hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def signature_ok(raw: bytes, header: str, consumer_secret: str) -> bool:
    if not consumer_secret or not header.startswith("sha256="):
        return False
    expected = "sha256=" + base64.b64encode(hmac.new(consumer_secret.encode(), raw, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(header.strip().encode(), expected.encode())


def _account_for(account: ChannelAccount, raw: bytes, header: str) -> ChannelAccount | None:
    """The account whose user the body is for (for_user_id); the URL's account when it says nothing."""
    try:
        for_user_id = str(json.loads(raw).get("for_user_id") or "")
    except (ValueError, AttributeError):
        return account  # not JSON: staged all the same, the drain keeps it as a dead letter
    own = str((account.settings or {}).get("user_id") or "")
    if not for_user_id or not own or for_user_id == own:
        return account
    other = ChannelAccount.objects.filter(kind=ChannelKind.TWITTER, settings__user_id=for_user_id).first()
    if other is None or not signature_ok(raw, header, (other.secrets or {}).get("consumer_secret") or ""):
        logger.info("twitter webhook: no account for user %s (posted to account %s); ignored", for_user_id, account.id)
        return None
    return other
