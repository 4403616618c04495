"""/hooks/facebook/<account_id>/ — the Page's webhook (Messenger and feed subscriptions).

GET: the verify handshake Facebook does when the webhook is set up (hub.mode=subscribe,
hub.verify_token = the account's secrets["verify_token"]) -> the hub.challenge, else 403.
POST: X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256(secrets["app_secret"], raw body),
checked in constant time before anything is kept; then the raw body is staged and Facebook
gets its 200 at once (the worker parses and ingests it; unparseable bodies become dead letters).
"""
import hashlib
import hmac
import logging

from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.connectors.models import ChannelAccount, ChannelKind
from apps.connectors.services import payload_stage, payload_too_large_keep


logger = logging.getLogger(__name__)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request, account_id: int):
    account = ChannelAccount.objects.filter(pk=account_id, kind=ChannelKind.FACEBOOK).first()
    # An unknown account is answered as a bad token or signature is: account ids cannot be probed.
    secrets = (account.secrets or {}) if account else {}
    if request.method == "GET":
        return _verify(request, secrets.get("verify_token") or "")
    raw = request.body
    if not signature_ok(raw, request.headers.get("X-Hub-Signature-256", ""), secrets.get("app_secret") or ""):
        logger.warning("facebook webhook for account %s: missing or wrong signature, refused", account_id)
        return HttpResponseForbidden("invalid signature")
    if not account.enabled:
        return HttpResponseForbidden("this channel account is disabled")
    if payload_too_large_keep(kind="facebook", raw=raw, source="webhook", account=account):
        return HttpResponse(status=413)
    # Staged like every webhook: the drain parses it (comments hidden on Facebook are statuses).
    payload_stage(account=account, kind="facebook", raw=raw, source="webhook")
    return HttpResponse("EVENT_RECEIVED", content_type="text/plain")


def _verify(request, verify_token: str):
    mode, token = request.GET.get("hub.mode"), request.GET.get("hub.verify_token", "")
    if mode == "subscribe" and verify_token and hmac.compare_digest(token.encode(), verify_token.encode()):
        return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
    return HttpResponseForbidden("verification failed")


def signature_ok(raw: bytes, header: str, app_secret: str) -> bool:
    if not app_secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len("sha256="):].strip().lower().encode(), expected.encode())
