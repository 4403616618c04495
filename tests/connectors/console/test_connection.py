"""Test connection: the real probe with the real client against the loopback providers (Dovecot and
aiosmtpd, the X, Graph and Twilio stand-ins), in plain words, within a bound, saving nothing but
an audit row."""
import pytest

from apps.connectors.models import ChannelAccount, ChannelAuditEvent
from tests.connectors.facebook.conftest import PAGE_ID
from tests.connectors.facebook.graph_server import ACCESS_TOKEN
from tests.connectors.phone.twilio_server import ACCOUNT_SID, AUTH_TOKEN
from tests.connectors.twitter.conftest import SECRETS as X_SECRETS
from tests.connectors.twitter.x_server import REVOKED_TOKEN

from .conftest import closed_port

pytestmark = pytest.mark.django_db


def _create(client, kind, settings, secrets, name="Cuenta"):
    response = client.post("/api/channel-accounts/", {"kind": kind, "name": name, "settings": settings, "secrets": secrets},
                           format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _test(client, account_id) -> dict:
    response = client.post(f"/api/channel-accounts/{account_id}/test/")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def mail_account(admin_client, email_settings, smtp_settings, mailbox_user):
    settings = {**email_settings, **smtp_settings, "imap_port": str(email_settings["imap_port"])}
    return _create(admin_client, "email", settings, {"imap_username": mailbox_user[0], "imap_password": mailbox_user[1],
                                                     "smtp_username": "smtp-user", "smtp_password": "smtp-clave"})


def test_a_mailbox_test_logs_in_to_dovecot_lists_folders_and_logs_in_to_smtp(admin_client, mail_account):
    before = ChannelAccount.objects.values().get(pk=mail_account)
    result = _test(admin_client, mail_account)
    assert result["ok"] is True, result
    assert result["message"] == ("IMAP 127.0.0.1 accepted the login and listed 1 folder(s) (INBOX selected); "
                                 "SMTP 127.0.0.1 answered EHLO and accepted the login")
    assert result["seconds"] < 15
    # nothing but the audit row: health, cursor, settings untouched
    assert ChannelAccount.objects.values().get(pk=mail_account) == before
    assert ChannelAuditEvent.objects.get(account_id=mail_account, action="tested").detail.startswith("OK: IMAP 127.0.0.1")


def test_a_wrong_imap_password_fails_readably(admin_client, mail_account):
    admin_client.patch(f"/api/channel-accounts/{mail_account}/", {"secrets": {"imap_password": "wrong"}}, format="json")
    result = _test(admin_client, mail_account)
    assert result["ok"] is False
    assert "IMAP 127.0.0.1" in result["message"] and "AUTHENTICATIONFAILED" in result["message"].upper(), result["message"]
    assert "wrong" not in result["message"]


def test_a_wrong_smtp_password_fails_readably(admin_client, mail_account):
    admin_client.patch(f"/api/channel-accounts/{mail_account}/", {"secrets": {"smtp_password": "nope-nope"}}, format="json")
    result = _test(admin_client, mail_account)
    assert result["ok"] is False
    assert "535" in result["message"], result["message"]


def test_a_closed_port_fails_readably_and_fast(admin_client, mail_account):
    account = ChannelAccount.objects.get(pk=mail_account)
    admin_client.patch(f"/api/channel-accounts/{mail_account}/", {"settings": {**account.settings, "imap_port": closed_port()}},
                       format="json")
    result = _test(admin_client, mail_account)
    assert result["ok"] is False
    assert result["message"].startswith("Connection refused: nothing listens on that host and port"), result["message"]
    assert result["seconds"] < 5


def test_an_x_account_test_calls_the_x_api(admin_client, x_api):
    account_id = _create(admin_client, "twitter", {"username": "TiendaSoporte"}, dict(X_SECRETS))
    result = _test(admin_client, account_id)
    assert result == {**result, "ok": True, "message": "X answered: the credentials are @TiendaSoporte (user id 1400000000000000001)"}
    assert [c["path"] for c in x_api.calls] == ["/2/users/me"]
    admin_client.patch(f"/api/channel-accounts/{account_id}/", {"secrets": {"access_token": REVOKED_TOKEN}}, format="json")
    refused = _test(admin_client, account_id)
    assert refused["ok"] is False
    assert refused["message"] == "X refused the credentials (401 Unauthorized): check the keys and tokens."


def test_a_facebook_page_test_calls_the_graph_api(admin_client, graph):
    graph.profiles[PAGE_ID] = {"name": "Aurora Home"}
    account_id = _create(admin_client, "facebook", {"page_id": PAGE_ID}, {"page_access_token": ACCESS_TOKEN, "app_secret": "s3cr3t-app"})
    assert _test(admin_client, account_id)["message"] == f"Graph API answered: Page Aurora Home ({PAGE_ID})"
    admin_client.patch(f"/api/channel-accounts/{account_id}/", {"secrets": {"page_access_token": "expired-token"}}, format="json")
    refused = _test(admin_client, account_id)
    assert refused["ok"] is False and "access token" in refused["message"], refused
    assert "expired-token" not in refused["message"]


def test_a_twilio_line_test_calls_the_twilio_api(admin_client, twilio):
    settings = {"source": "twilio", "phone_number": "+34910000000", "account_sid": ACCOUNT_SID}
    account_id = _create(admin_client, "phone", settings, {"auth_token": AUTH_TOKEN})
    assert _test(admin_client, account_id)["message"] == f"Twilio answered: account Aurora Home ({ACCOUNT_SID}), status active"
    assert twilio.calls == [{"path": f"/2010-04-01/Accounts/{ACCOUNT_SID}.json"}]
    admin_client.patch(f"/api/channel-accounts/{account_id}/", {"secrets": {"auth_token": "0" * 32}}, format="json")
    refused = _test(admin_client, account_id)
    assert refused == {**refused, "ok": False, "message": "Twilio refused the account SID and auth token (401): Unable to fetch record: Authenticate"}


def test_a_twilio_api_that_does_not_answer_fails_readably(admin_client, monkeypatch):
    from apps.connectors.phone import client

    monkeypatch.setattr(client, "API_BASE", f"http://127.0.0.1:{closed_port()}")
    settings = {"source": "twilio", "phone_number": "+34910000000", "account_sid": ACCOUNT_SID}
    account_id = _create(admin_client, "phone", settings, {"auth_token": AUTH_TOKEN})
    result = _test(admin_client, account_id)
    assert result["ok"] is False and result["message"].startswith("Connection refused"), result


def test_an_api_channel_test_sends_a_signed_ping(admin_client):
    import hashlib
    import hmac
    from http.server import BaseHTTPRequestHandler

    from tests.loopback import LoopbackServer

    received = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers["X-Centralita-Signature"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = LoopbackServer(Receiver).start()
    try:
        url = f"http://127.0.0.1:{server.port}/hook"
        account_id = _create(admin_client, "api", {"outbound_url": url}, {"outbound_secret": "firma-secreta"})
        result = _test(admin_client, account_id)
    finally:
        server.stop()
    assert result["message"] == f"{url} answered HTTP 204 to a signed ping"
    body, signature = received[0]
    assert body == b'{"type":"ping"}'
    assert signature == "sha256=" + hmac.new(b"firma-secreta", body, hashlib.sha256).hexdigest()


def test_an_account_without_its_secrets_is_not_probed(admin_client, x_api):
    account_id = _create(admin_client, "twitter", {"username": "x"}, {})
    result = _test(admin_client, account_id)
    assert result["ok"] is False and result["message"].startswith("Not configured: missing")
    assert x_api.calls == []
