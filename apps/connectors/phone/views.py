"""POST /hooks/phone/<account_id>/twilio/status/ — Twilio Voice status callbacks.

Verified with twilio's RequestValidator against the URL Twilio called (see `public_url`),
then staged for the worker; Twilio gets its 204 at once. Intermediate statuses (queued,
ringing, in-progress) are acknowledged and dropped: only a finished call is an interaction.
"""
import json
from email.utils import format_datetime

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER, RequestValidator, get_signature_algorithm

from apps.connectors.models import ChannelAccount, ChannelKind
from apps.connectors.services import payload_stage, payload_too_large

from .parse import FINAL_STATUSES, RECEIVED_AT


def public_url(request) -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL + path when set; else what Django sees.

    Behind a proxy either set PUBLIC_BASE_URL, or let Django trust the proxy's
    X-Forwarded-Host / X-Forwarded-Proto (USE_X_FORWARDED_HOST, TRUST_X_FORWARDED_PROTO).
    """
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()
    return request.build_absolute_uri()


def _refused(reason: str, status: int = 403) -> HttpResponse:
    return HttpResponse(reason, status=status, content_type="text/plain")


@csrf_exempt
@require_POST
def twilio_status(request, account_id: int):
    account = ChannelAccount.objects.filter(pk=account_id, kind=ChannelKind.PHONE).first()
    # An unknown account is answered as a missing token is: account ids cannot be probed.
    token = ((account.secrets or {}) if account else {}).get("auth_token", "")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    if not token or not signature:
        return _refused("Invalid X-Twilio-Signature")
    if payload_too_large(request.body):
        # A status callback is about 1 KB: this is not Twilio, and unverified bytes are not kept.
        return _refused(f"Body over the {settings.INBOUND_MAX_PAYLOAD_BYTES} byte limit", status=413)
    if not RequestValidator(token).validate(public_url(request), request.POST, signature, algorithm=algorithm):
        return _refused("Invalid X-Twilio-Signature")
    if not account.enabled:
        return _refused("This phone account is disabled")
    fields = request.POST.dict()  # one value per field (the last), as Twilio sends them
    fields[RECEIVED_AT] = format_datetime(timezone.now(), usegmt=True)
    if fields.get("CallStatus", "").lower() in FINAL_STATUSES:
        payload_stage(account=account, kind="twilio", raw=json.dumps(fields).encode(), source="webhook")
    return HttpResponse(status=204)
