"""/hooks/twitter/<account_id>/ — X's Account Activity webhook (the optional push path).

GET ?crc_token=…: the challenge-response check X makes when the webhook is registered and
then hourly -> {"response_token": "sha256=" + base64 HMAC-SHA256(consumer_secret, crc_token)}.
POST: x-twitter-webhooks-signature = "sha256=" + base64 HMAC-SHA256(consumer_secret, raw body),
checked in constant time before anything is kept; then the raw body is staged and X gets its
200 at once (the worker parses and ingests; what cannot be parsed becomes a dead letter).
One webhook URL serves an X app's every subscribed user: a body whose for_user_id is another
account's user id goes to that account (its own consumer secret must verify it too).

The CRC answer and the POST signature are the same HMAC (X's design), so the GET is a signing
oracle: anyone could have it sign a body of their choosing and then POST that body. Two rules
close it: a crc_token is answered only when it is a plain token (letters, digits, - _ . ~ + / = :,
as X's are), and a POST is accepted only when its body is a JSON object ('{' first). No token
can start with '{', so no answer the GET gives is ever a valid POST signature.
An unknown account answers exactly as a bad signature does (403), so ids cannot be probed.
"""
import base64
import hashlib
import hmac
import logging
import re

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.connectors.models import ChannelAccount, ChannelKind
from apps.connectors.services import payload_stage, payload_too_large_keep
from apps.core.parsing import json_parse

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "x-twitter-webhooks-signature"
CRC_TOKEN = re.compile(r"[A-Za-z0-9_.~+/=:-]{1,255}")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request, account_id: int):
    account = ChannelAccount.objects.filter(pk=account_id, kind=ChannelKind.TWITTER).first()
    consumer_secret = ((account.secrets or {}).get("consumer_secret") or "") if account else ""
    if request.method == "GET":
        token = request.GET.get("crc_token", "")
        if not CRC_TOKEN.fullmatch(token):
            return HttpResponseBadRequest("crc_token missing or not a plain token")
        if not consumer_secret:
            return HttpResponseForbidden("invalid signature")
        return JsonResponse({"response_token": crc_response(token, consumer_secret)})
    raw = request.body
    if not signature_ok(raw, request.headers.get(SIGNATURE_HEADER, ""), consumer_secret):
        logger.warning("twitter webhook for account %s: missing or wrong signature, refused", account_id)
        return HttpResponseForbidden("invalid signature")
    if not raw.lstrip().startswith(b"{"):
        # Signed, yet not an event: only a CRC answer could have signed it (see the module's doc).
        logger.warning("twitter webhook for account %s: a signed body that is not a JSON object, refused", account_id)
        return HttpResponseBadRequest("an Account Activity event is a JSON object")
    if payload_too_large_keep(kind="twitter", raw=raw, source="webhook", account=account):
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
        for_user_id = str(json_parse(raw).get("for_user_id") or "")
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
