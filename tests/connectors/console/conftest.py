"""The admins' console: pages and REST API. The provider stand-ins are the ones the channel tests
use (Dovecot + aiosmtpd, the X and Graph APIs), plus a Twilio REST stand-in."""
import pytest

from apps.accounts.models import Role
from apps.connectors.phone import client as twilio_client
from tests.builders import client_for
from tests.connectors.email.conftest import (  # noqa: F401  (fixtures)
    customer_box,
    dovecot,
    email_settings,
    mailbox_user,
    smtp_server,
    smtp_settings,
)
from tests.connectors.facebook.conftest import _graph_process_server, graph  # noqa: F401
from tests.connectors.phone.twilio_server import TwilioServer
from tests.connectors.twitter.conftest import _x_process_server, x_api  # noqa: F401


@pytest.fixture
def admin(make_user):
    return make_user(role=Role.ADMIN, username="ana", email="ana@aurorahome.example")


@pytest.fixture
def admin_client(admin):
    return client_for(admin)


@pytest.fixture(scope="session")
def _twilio_process_server():
    server = TwilioServer().start()
    yield server
    server.stop()


@pytest.fixture
def twilio(_twilio_process_server, monkeypatch):
    """The loopback Twilio REST API; the twilio library's Api domain is pointed at it."""
    _twilio_process_server.calls.clear()
    monkeypatch.setattr(twilio_client, "API_BASE", _twilio_process_server.url)
    return _twilio_process_server


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    from tests.connectors.email.servers import free_port

    return free_port()
