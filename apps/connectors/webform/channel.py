"""Web forms: public pages at /f/<slug>/ (and an iframe embed); answered by email."""
from django.utils.translation import gettext_lazy as _

from apps.connectors.push.parse import split
from apps.connectors.channel import NO_OUTBOUND_MESSAGES, Channel, Field, PayloadKind

from . import parse, urls

CHANNEL = Channel(
    kind="webform",
    package=__package__,
    payloads=(PayloadKind("webform", parse.parse, split),),  # imports: one payload per object of a list / JSON lines
    no_outbound=NO_OUTBOUND_MESSAGES,
    webhooks=(("f/", urls),),
    settings=(
        Field("address", _("Confirmation sender"), _("From address of the confirmation mail."), type="email"),
        Field("display_name", _("Confirmation sender name")),
    ),
)
