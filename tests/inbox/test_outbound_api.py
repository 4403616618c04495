"""Who may start a conversation, from which account, with whom (issue 15)."""
import email
from email import policy

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.models import Role
from apps.connectors.models import ChannelKind
from apps.crm.models import Customer, Identity
from apps.inbox.models import Conversation, Message
from tests.builders import client_for
from tests.connectors.email.servers import SmtpCapture

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting(make_account, make_user, team):
    other_team = type(team).objects.create(name="Ventas")
    ours = make_account(kind=ChannelKind.EMAIL, team=team, settings={"address": "soporte@tienda.example"})
    theirs = make_account(kind=ChannelKind.EMAIL, team=other_team, settings={"address": "ventas@tienda.example"})
    customer = Customer.objects.create(display_name="Laura")
    address = Identity.objects.create(customer=customer, kind="email", value="laura@cliente.example.es")
    # the agent sees Laura through a conversation of her team
    Conversation.objects.create(customer=customer, channel_account=ours, team=team, last_activity_at="2026-12-01T10:00:00Z")
    return {"agent": make_user(role=Role.AGENT, teams=[team]), "ours": ours, "theirs": theirs, "customer": customer, "address": address}


def start(user, s, account, **extra):
    return client_for(user).post("/api/conversations/", {"customer": s["customer"].id, "identity": s["address"].id,
                                                           "channel_account": account.id, "text": "Hola", **extra}, format="json")


def test_an_agent_writes_only_from_the_accounts_of_their_teams(setting, django_capture_on_commit_callbacks):
    # when
    refused = start(setting["agent"], setting, setting["theirs"])
    options = client_for(setting["agent"]).get(f"/api/customers/{setting['customer'].id}/outbound/").json()
    # then
    assert (refused.status_code, refused.json()["message"]) == (400, "You cannot write from that channel account")
    assert [a["id"] for a in options[0]["accounts"]] == [setting["ours"].id]


def test_a_customer_the_agent_cannot_see_is_not_found(setting, make_user):
    stranger = make_user(role=Role.AGENT)  # no team
    assert start(stranger, setting, setting["ours"]).status_code == 404
    assert client_for(stranger).get(f"/api/customers/{setting['customer'].id}/outbound/").status_code == 404


def test_an_identity_of_another_customer_is_refused(setting):
    other = Customer.objects.create(display_name="Otra")
    foreign = Identity.objects.create(customer=other, kind="email", value="otra@example.com")
    response = start(setting["agent"], setting, setting["ours"], identity=foreign.id)
    assert (response.status_code, response.json()["message"]) == (400, "Pick one of the customer's addresses or accounts")


def test_anonymous_gets_403(client, setting):
    assert client.post("/api/conversations/", {}, content_type="application/json").status_code == 403


def test_a_new_conversation_carries_its_attachments_in_the_first_mail(make_account, make_user, team, settings, tmp_path, eager_celery,
                                                                        django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = str(tmp_path)
    smtp = SmtpCapture().start()
    try:
        account = make_account(kind=ChannelKind.EMAIL, team=team, settings={
            "address": "soporte@tienda.example", "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none"})
        customer = Customer.objects.create(display_name="Laura")
        address = Identity.objects.create(customer=customer, kind="email", value="laura@cliente.example.es")
        supervisor = make_user(role=Role.SUPERVISOR)
        # when: the first message is sent as multipart with a file
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(supervisor).post("/api/conversations/", {
                "customer": customer.id, "identity": address.id, "channel_account": account.id, "subject": "Su factura",
                "text": "Le adjuntamos la factura.",
                "files[]": [SimpleUploadedFile("factura.pdf", b"%PDF-1.4 factura", content_type="application/pdf")],
            }, format="multipart")
        # then: the conversation's first message keeps the file and the mail that left carries it
        assert response.status_code == 201, response.content
        first = Message.objects.get(conversation_id=response.json()["id"])
        assert (first.delivery_status, [a.filename for a in first.attachments.all()]) == ("sent", ["factura.pdf"])
        (envelope,) = smtp.received
        mail = email.message_from_bytes(envelope["data"], policy=policy.default)
        (attached,) = list(mail.iter_attachments())
        assert (attached.get_filename(), attached.get_content()) == ("factura.pdf", b"%PDF-1.4 factura")
        assert envelope["rcpt_tos"] == ["laura@cliente.example.es"]
    finally:
        smtp.stop()
