import json
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

from apps.connectors.models import ChannelKind

FIXTURES = Path(__file__).parent / "fixtures"
AUTH_TOKEN = "3f0c8e1b2a7d4c6e9f1a2b3c4d5e6f70"
OUR_NUMBER = "+34910000000"


@pytest.fixture(autouse=True)
def madrid_pbx(settings):
    """The fixtures' PBX runs on Madrid time; numbers are Spanish."""
    settings.ASTERISK_TIMEZONE = "Europe/Madrid"
    settings.PHONE_DEFAULT_REGION = "ES"
    settings.PUBLIC_BASE_URL = ""


@pytest.fixture
def phone_account(make_account):
    return make_account(kind=ChannelKind.PHONE, name="Centralita Twilio", secrets={"auth_token": AUTH_TOKEN},
                        settings={"phone_number": OUR_NUMBER})


def callback(call_sid="CA0001", status="completed", direction="inbound", *, customer="+34600112233",
             timestamp="Fri, 20 Nov 2026 09:04:12 +0000", duration=None, **extra) -> dict:
    """The POST fields of a Twilio Voice status callback (the documented names)."""
    inbound = direction == "inbound"
    fields = {
        "AccountSid": "AC0123456789abcdef0123456789abcdef",
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": status,
        "Direction": direction,
        "From": customer if inbound else OUR_NUMBER,
        "To": OUR_NUMBER if inbound else customer,
        "Caller": customer if inbound else OUR_NUMBER,
        "Called": OUR_NUMBER if inbound else customer,
        "FromCountry": "ES",
        "ToCountry": "ES",
        "Timestamp": timestamp,
        "CallbackSource": "call-progress-events",
        "SequenceNumber": "3",
    }
    if duration is not None:
        fields["CallDuration"] = str(duration)
        fields["Duration"] = str((duration + 59) // 60)
    fields.update(extra)
    return fields


def post_signed(client, account, fields: dict, *, url_base="http://testserver", token=AUTH_TOKEN, **headers):
    """POST as Twilio does: form-encoded fields, X-Twilio-Signature over URL + sorted fields."""
    path = f"/hooks/phone/{account.id}/twilio/status/"
    signature = RequestValidator(token).compute_signature(url_base + path, fields)
    return client.post(path, fields, HTTP_X_TWILIO_SIGNATURE=signature, **headers)


def as_raw(fields: dict) -> bytes:
    return json.dumps(fields).encode()
