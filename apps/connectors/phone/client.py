"""The Twilio REST API through the twilio library, and nothing else (the admin's connection test).

API_BASE is where the library's Api domain points; the tests point it at a loopback stand-in
that speaks Twilio's REST (tests/connectors/phone/twilio_server.py), as the X and Graph tests do.
"""
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

API_BASE = "https://api.twilio.com"
TIMEOUT = 10  # seconds: the library passes none by default


class TwilioError(Exception):
    pass


def twilio_account_fetch(*, account_sid: str, auth_token: str, timeout: float = TIMEOUT) -> dict:
    """GET /2010-04-01/Accounts/{sid}.json: the account the SID and auth token open."""
    if not account_sid or not auth_token:
        raise TwilioError("set the Twilio account SID and auth token first")
    client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout, max_retries=0))
    client.api.base_url = API_BASE
    try:
        found = client.api.v2010.accounts(account_sid).fetch()
    except TwilioRestException as exc:
        if exc.status == 401:
            raise TwilioError(f"Twilio refused the account SID and auth token (401): {exc.msg}") from exc
        raise TwilioError(f"Twilio answered HTTP {exc.status}: {exc.msg}") from exc
    except TwilioException as exc:
        raise TwilioError(f"Twilio: {exc}") from exc
    return {"sid": found.sid, "friendly_name": found.friendly_name, "status": found.status}
