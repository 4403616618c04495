"""Phone: Twilio status callbacks and Asterisk Master.csv imports become call logs."""
from apps.connectors.channel import NO_OUTBOUND_MESSAGES, Channel, Field, PayloadKind

from . import parse, urls

CHANNEL = Channel(
    kind="phone",
    package=__package__,
    payloads=(
        PayloadKind("twilio", parse.parse_twilio, parse.split_twilio),
        PayloadKind("asterisk", parse.parse_asterisk, parse.split_asterisk),  # one payload per CDR row
    ),
    no_outbound=NO_OUTBOUND_MESSAGES,
    webhooks=(("hooks/phone/", urls),),
    settings=(Field("phone_number", "Phone number", "The line's own number (E.164), to tell in from out."),),
    secrets=(Field("auth_token", "Twilio auth token", "Verifies X-Twilio-Signature on status callbacks."),),
)
