"""The confirmation email: a real SMTP server (aiosmtpd, STARTTLS + AUTH) receives what the desk sends."""
import email
import ssl
import tempfile
from email import policy
from pathlib import Path

import pytest

from apps.connectors.models import ChannelKind
from apps.connectors.drain import inbound_drain
from apps.connectors.webform.services import CONFIRMATION_RATE_LIMIT, rate_limit_reset, rate_parse
from apps.inbox.models import Message
from tests.connectors.email.servers import SmtpCapture, make_certificate

from .conftest import VALID

pytestmark = pytest.mark.usefixtures("eager_celery")


@pytest.fixture(scope="module")
def certificate():
    with tempfile.TemporaryDirectory() as directory:
        yield make_certificate(Path(directory))


@pytest.fixture
def smtp_server(certificate):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    server = SmtpCapture(tls_context=context, username="forms@tienda.example", password="clave-smtp").start()
    yield server
    server.stop()


@pytest.fixture
def mail_account(make_account, smtp_server, certificate):
    return make_account(
        kind=ChannelKind.EMAIL,
        name="Support mailbox",
        settings={"address": "soporte@tienda.example", "display_name": "Soporte Tienda", "smtp_host": "127.0.0.1",
                  "smtp_port": smtp_server.port, "smtp_security": "starttls", "tls_ca_file": str(certificate[0])},
        secrets={"smtp_username": "forms@tienda.example", "smtp_password": "clave-smtp"},
    )


@pytest.fixture
def recipient():
    """A fresh address: the per-recipient confirmation limit lives in the shared cache."""
    def make(address):
        rate_limit_reset(scope="confirm", subject=address, rate=CONFIRMATION_RATE_LIMIT)
        return address

    return make


def post(client, capture, data, ip):
    with capture(execute=True):
        response = client.post("/f/contact/", data, REMOTE_ADDR=ip)
    inbound_drain()
    return response


def test_the_submitter_gets_a_confirmation_from_the_forms_email_account(
    client, django_capture_on_commit_callbacks, webform, mail_account, smtp_server, visitor_ip, recipient
):
    # given the form confirms by email through the support mailbox
    webform.confirmation_email_account = mail_account
    webform.save()
    address = recipient("ana.confirm@example.com")
    # when Ana submits it
    response = post(client, django_capture_on_commit_callbacks, {**VALID, "email": address}, visitor_ip())
    # then the real SMTP server received one mail for her, over TLS, after login
    assert response.status_code == 302
    (received,) = smtp_server.received
    assert received["rcpt_tos"] == [address] and received["mail_from"] == "soporte@tienda.example"
    assert received["tls"] and smtp_server.logins == ["forms@tienda.example:ok"]
    mail = email.message_from_bytes(received["data"], policy=policy.default)
    assert mail["To"] == f"Ana García <{address}>"
    assert mail["From"] == "Soporte Tienda <soporte@tienda.example>"
    assert mail["Subject"] == "We have received your message: Contact us"
    assert mail["Auto-Submitted"] == "auto-generated"  # no auto-responder answers it
    body = mail.get_content()
    assert webform.success_message in body
    assert "Topic: Billing" in body and "I was charged twice for order 1234." in body
    # and the submission itself is in the desk as usual
    message = Message.objects.get(kind="form")
    assert mail["Message-ID"] == f"<webform-{message.external_id}@tienda.example>"


def test_no_confirmation_without_an_email_account_and_at_most_a_few_per_address(
    client, django_capture_on_commit_callbacks, webform, mail_account, smtp_server, visitor_ip, recipient
):
    address = recipient("eva.confirm@example.com")
    # given no confirmation account: nothing is mailed
    post(client, django_capture_on_commit_callbacks, {**VALID, "email": address}, visitor_ip())
    assert smtp_server.received == []
    # given one, a stranger's address cannot be flooded through the form (from many IPs)
    webform.confirmation_email_account = mail_account
    webform.save()
    allowed, _ = rate_parse(CONFIRMATION_RATE_LIMIT)
    for _ in range(allowed + 2):
        assert post(client, django_capture_on_commit_callbacks, {**VALID, "email": address}, visitor_ip()).status_code == 302
    assert len(smtp_server.received) == allowed
    # while every submission still reached the desk
    assert Message.objects.filter(kind="form").count() == allowed + 3


def test_a_refused_confirmation_never_fails_the_visitors_submission(
    client, django_capture_on_commit_callbacks, webform, mail_account, smtp_server, visitor_ip, recipient, caplog
):
    webform.confirmation_email_account = mail_account
    webform.save()
    smtp_server.refuse_rcpt = "550 5.1.1 no such user"
    response = post(client, django_capture_on_commit_callbacks, {**VALID, "email": recipient("gone@example.com")}, visitor_ip())
    assert response.status_code == 302
    assert Message.objects.filter(kind="form").count() == 1
    assert "refused" in caplog.text and "550" in caplog.text


def test_rates_are_read_as_count_per_window():
    from django.core.exceptions import ImproperlyConfigured

    assert rate_parse("5/10m") == (5, 600)
    assert rate_parse("100/h") == (100, 3600)
    assert rate_parse(" 20 / 1d ") == (20, 86400)
    for bad in ("5", "5/10x", "0/1m", "five/m", ""):
        with pytest.raises(ImproperlyConfigured):
            rate_parse(bad)
