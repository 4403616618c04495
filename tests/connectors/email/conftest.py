import os
import shutil
import ssl
from pathlib import Path

import pytest
from imap_tools import MailBoxStartTls

from apps.connectors.models import ChannelKind

from .servers import Dovecot, SmtpCapture

FIXTURES = Path(__file__).parent / "fixtures"
DESK_ADDRESS = "soporte@tienda.example"


def _require_or_skip(reason: str):
    # CI sets CENTRALITA_REQUIRE_SERVICES=1: a missing server fails the test instead of skipping it.
    if os.environ.get("CENTRALITA_REQUIRE_SERVICES") == "1":
        pytest.fail(f"CENTRALITA_REQUIRE_SERVICES=1 and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def dovecot():
    """One private Dovecot per test process (apt-get install -y dovecot-imapd)."""
    if not (shutil.which("dovecot") or Path("/usr/sbin/dovecot").exists()):
        _require_or_skip("Dovecot is not installed (apt-get install -y dovecot-imapd)")
    if os.geteuid() != 0:
        _require_or_skip("the Dovecot fixture runs Dovecot as root, as Debian packages it (CI runs as root)")
    if "/usr/sbin" not in os.environ.get("PATH", "").split(":"):
        os.environ["PATH"] += ":/usr/sbin"
    server = Dovecot().start()
    yield server
    server.stop()


@pytest.fixture
def mailbox_user(dovecot):
    """A fresh IMAP user (its own empty Maildir) for one test: (username, password)."""
    return dovecot.new_user()


@pytest.fixture
def customer_box(dovecot, mailbox_user):
    """What the outside world does to the support mailbox: deliver (APPEND) and look at it."""

    class Box:
        def session(self, folder="INBOX"):
            context = ssl.create_default_context(cafile=str(dovecot.cert))
            return MailBoxStartTls("127.0.0.1", dovecot.imap_port, ssl_context=context).login_utf8(
                *mailbox_user, initial_folder=folder
            )

        def deliver(self, raw: bytes, folder="INBOX"):
            with self.session(folder) as box:
                box.append(raw, folder)

        def flags(self, folder="INBOX") -> dict[int, set[str]]:
            with self.session(folder) as box:
                result = box.client.uid("FETCH", "1:*", "(UID FLAGS)")
            flags = {}
            for line in result[1]:
                if not line:
                    continue
                text = line.decode()
                uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
                flags[uid] = set(text.split("FLAGS (")[1].split(")")[0].split())
            return flags

    return Box()


@pytest.fixture
def email_settings(dovecot, mailbox_user):
    return {
        "imap_host": "127.0.0.1",
        "imap_port": dovecot.imap_port,
        "imap_security": "starttls",
        "imap_folder": "INBOX",
        "processed_action": "flag",
        "tls_ca_file": str(dovecot.cert),
        "address": DESK_ADDRESS,
        "display_name": "Soporte Tienda",
    }


@pytest.fixture
def email_account(make_account, email_settings, mailbox_user):
    return make_account(
        kind=ChannelKind.EMAIL,
        name="Soporte",
        settings=email_settings,
        secrets={"imap_username": mailbox_user[0], "imap_password": mailbox_user[1]},
    )


@pytest.fixture
def smtp_server(dovecot):
    """A real SMTP server: STARTTLS required, then AUTH (same certificate as Dovecot)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(dovecot.cert, dovecot.key)
    server = SmtpCapture(tls_context=context, username="smtp-user", password="smtp-clave").start()
    yield server
    server.stop()


@pytest.fixture
def smtp_settings(smtp_server, dovecot):
    return {"smtp_host": "127.0.0.1", "smtp_port": smtp_server.port, "smtp_security": "starttls",
            "tls_ca_file": str(dovecot.cert)}


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
