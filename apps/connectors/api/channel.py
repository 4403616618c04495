"""The API channel: another system pushes messages in (signed token) and receives the replies."""
from apps.connectors.channel import Channel, Field, PayloadKind

from . import parse, send, urls

CHANNEL = Channel(
    kind="api",
    package=__package__,
    payloads=(PayloadKind("api", parse.parse, parse.split),),
    send=send.send,
    webhooks=(("api/inbound/", urls),),
    settings=(Field("outbound_url", "Outbound URL", "Replies are POSTed here as signed JSON (http or https)."),),
    secrets=(Field("outbound_secret", "Outbound secret", "Signs replies: X-Centralita-Signature (HMAC-SHA256)."),),
)
