"""Phone: Twilio status callbacks and Asterisk Master.csv imports become call logs."""
from django.utils.translation import gettext_lazy as _

from apps.connectors.channel import NO_OUTBOUND_MESSAGES, Channel, Field, PayloadKind

from . import freeswitch, parse, urls
from .client import twilio_account_fetch


def missing(settings: dict, secrets: dict) -> list[str]:
    """A Twilio line needs its account SID and auth token; an Asterisk import or a manual log needs nothing."""
    if (settings.get("source") or "twilio") != "twilio":
        return []
    return [label for key, label, value in (
        ("account_sid", str(_("the Twilio account SID")), settings.get("account_sid")),
        ("auth_token", str(_("the Twilio auth token")), secrets.get("auth_token")),
    ) if not value]


def probe(account) -> str:
    """GET /2010-04-01/Accounts/{sid}.json with the SID and auth token (Asterisk: nothing remote to test)."""
    settings = account.settings or {}
    if (settings.get("source") or "twilio") != "twilio":
        return "Asterisk imports read a Master.csv file: nothing remote to test"
    found = twilio_account_fetch(account_sid=settings.get("account_sid") or "", auth_token=(account.secrets or {}).get("auth_token") or "")
    return f"Twilio answered: account {found['friendly_name']} ({found['sid']}), status {found['status']}"

CHANNEL = Channel(
    kind="phone",
    package=__package__,
    payloads=(
        PayloadKind("twilio", parse.parse_twilio, parse.split_twilio),
        PayloadKind("asterisk", parse.parse_asterisk, parse.split_asterisk),  # one payload per CDR row
        PayloadKind("freeswitch", freeswitch.parse_freeswitch, freeswitch.split_freeswitch),  # CSV rows or JSON CDRs
    ),
    no_outbound=NO_OUTBOUND_MESSAGES,
    webhooks=(("hooks/phone/", urls),),
    webhook_urls=((_("Twilio call status callback URL"), "phone-twilio-status"),),
    settings=(
        Field("source", _("Calls come from"), _("twilio (status callbacks), asterisk (Master.csv imports) or manual (agents log calls)."),
              type="choice", choices=("twilio", "asterisk", "manual")),
        Field("phone_number", _("Phone number"), _("The line's own number (E.164, +34910000000), to tell in from out."), type="phone"),
        Field("account_sid", _("Twilio account SID"), _("AC followed by 32 characters (Twilio console, Account info)."), type="twilio_sid"),
    ),
    secrets=(Field("auth_token", _("Twilio auth token"), _("Verifies X-Twilio-Signature on status callbacks and lets the test call Twilio.")),),
    probe=probe,
    missing=missing,
)
