"""The API channel: another system pushes messages in (signed token) and receives the replies."""
import hashlib

from django.utils.translation import gettext_lazy as _

from apps.connectors.channel import Channel, Field, PayloadKind

from . import parse, send, urls

MAX_THREAD_KEY = 255  # Conversation.thread_key
REACHED_KINDS = ("email", "external")


def missing(settings: dict, secrets: dict) -> list[str]:
    """Inbound needs only the token (kept as a hash on the account); replies need both outbound keys."""
    if settings.get("outbound_url") and not secrets.get("outbound_secret"):
        return [str(_("the outbound secret that signs replies"))]
    return []


def probe(account) -> str:
    """Replies go to outbound_url: a signed ping that says the receiver is there and checks signatures."""
    return send.ping(account=account)


def reaches(account, identity) -> str | None:
    """A customer's email address or the other system's own id for them (what an order system or a
    CRM keys its customers by), once replies have somewhere to go (outbound_url). The conversation
    the desk starts is keyed "centralita:<kind>:<value>" (hashed when long); the system's answer
    carrying that thread_key threads into it (docs/channels/push.md)."""
    if identity.kind not in REACHED_KINDS or not (account.settings or {}).get("outbound_url"):
        return None
    key = f"centralita:{identity.kind}:{identity.value}"
    return key if len(key) <= MAX_THREAD_KEY else f"centralita:{hashlib.sha256(key.encode()).hexdigest()}"


CHANNEL = Channel(
    kind="api",
    package=__package__,
    payloads=(PayloadKind("api", parse.parse, parse.split),),
    send=send.send,
    webhooks=(("api/inbound/", urls),),
    settings=(Field("outbound_url", _("Outbound URL"), _("Replies are POSTed here as signed JSON (http or https)."), type="url"),),
    webhook_urls=((_("Inbound URL (POST with Authorization: Bearer <token>)"), "api-inbound"),),
    generated_secret="inbound_token",
    probe=probe,
    missing=missing,
    reaches=reaches,
    secrets=(Field("outbound_secret", _("Outbound secret"), _("Signs replies: X-Centralita-Signature (HMAC-SHA256).")),),
)
