"""The demo's mail drop (docs/demo.md): where the simulated customer's answer to the desk's mail
comes in. The simulator POSTs the raw mail, signed, to the desk; here it goes through the email
channel's import path (its parser, then the one ingest: what an IMAP poll does with a fetched
mail), in the desk's own process, so the answer is stored and shown live in either layout (the
embedded desk's live events do not cross processes).

Only in the demo's processes: run_desk sets CENTRALITA_DEMO_MAIL_SECRET for them. Without it the
route answers 404 to everyone, signed or not.
"""
import hmac
import os

from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps.connectors.drain import payloads_import
from apps.connectors.models import ChannelAccount, ChannelKind
from apps.connectors.push.send import signature

from .apps import MAIL_SECRET_ENV

MAX_MAIL_BYTES = 1024 * 1024  # the simulator's answers are a few hundred bytes


@csrf_exempt
def mail_drop(request, account_id: int):
    secret = os.environ.get(MAIL_SECRET_ENV)
    if not secret:
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    raw = request.body[: MAX_MAIL_BYTES + 1]
    expected = "sha256=" + signature(secret, raw)
    if len(raw) > MAX_MAIL_BYTES or not hmac.compare_digest(request.headers.get("X-Centralita-Signature", ""), expected):
        return JsonResponse({"error": "bad signature"}, status=401)
    account = ChannelAccount.objects.filter(kind=ChannelKind.EMAIL, pk=account_id).first()
    if account is None:
        raise Http404
    counts = payloads_import(kind="email", account=account, payloads=[("customer-answer.eml", raw)])
    return JsonResponse({"summary": counts.summary()}, status=200 if not counts.failed else 422)
