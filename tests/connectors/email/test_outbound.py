"""The desk writes first by email (issue 15): POST /api/conversations/ to a customer's address,
delivered through the real SMTP server, and the customer's answer threads back."""
import pytest

from apps.accounts.models import Role
from apps.connectors.email import services
from apps.crm.models import Customer, Identity
from apps.inbox.models import Conversation, Message
from tests.builders import client_for

from .test_send import answer, captured, desk  # noqa: F401  (the SMTP-ready account fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def laura():
    """A customer known only from a web form: an email address, no mail conversation yet."""
    customer = Customer.objects.create(display_name="Laura Gómez")
    return customer, Identity.objects.create(customer=customer, kind="email", value="laura@cliente.example.es")


def test_an_agent_starts_an_email_conversation_and_the_answer_threads_into_it(desk, laura, customer_box, smtp_server):
    account, _ = desk
    customer, address = laura
    supervisor = client_for(type(desk[1]).objects.create_user(username="marta", role=Role.SUPERVISOR))
    # when: the supervisor writes to Laura's address from the support mailbox
    options = supervisor.get(f"/api/customers/{customer.id}/outbound/").json()
    response = supervisor.post("/api/conversations/", {
        "customer": customer.id, "identity": address.id, "channel_account": account.id,
        "subject": "Tu factura 2026-118", "text": "Hola Laura, ya hemos anulado el cargo duplicado.",
    }, format="json")
    # then: the address can be reached from this account, a conversation exists, the mail left
    assert [(o["identity"]["value"], [a["id"] for a in o["accounts"]]) for o in options] == [("laura@cliente.example.es", [account.id])]
    assert response.status_code == 201, response.json()
    conversation = Conversation.objects.get(pk=response.json()["id"])
    assert (conversation.customer_id, conversation.assignee.username, conversation.subject) == (customer.id, "marta", "Tu factura 2026-118")
    first = conversation.messages.get()
    first.refresh_from_db()
    assert (first.direction, first.delivery_status) == ("out", "sent")
    sent = captured(smtp_server)
    assert sent["To"].addresses[0].addr_spec == "laura@cliente.example.es"
    assert sent["Subject"] == f"Tu factura 2026-118 [#{conversation.id}]"  # the first word: no "Re:"
    assert "In-Reply-To" not in sent

    # when: Laura answers from her mail client
    customer_box.deliver(answer(sent, "¡Gracias! Ya lo veo en el banco.").replace(
        b"From: =?utf-8?q?Luc=C3=ADa_Fern=C3=A1ndez?= <lucia@example.com>", b"From: Laura <laura@cliente.example.es>"))
    services.email_account_poll(account_id=account.id)
    # then: into the same conversation, from the same customer
    assert Conversation.objects.count() == 1
    latest = conversation.messages.get(direction="in")
    assert (latest.text, latest.customer_id) == ("¡Gracias! Ya lo veo en el banco.", customer.id)


def test_an_identity_the_account_cannot_reach_is_refused_with_the_reason(desk, make_account):
    account, _ = desk
    customer = Customer.objects.create(display_name="Lucía")
    psid = Identity.objects.create(customer=customer, kind="facebook", value="7481023395512345")
    supervisor = client_for(type(desk[1]).objects.create_user(username="marta", role=Role.SUPERVISOR))
    # when: a Messenger identity from the mailbox
    response = supervisor.post("/api/conversations/", {
        "customer": customer.id, "identity": psid.id, "channel_account": account.id, "text": "Hola",
    }, format="json")
    # then
    assert response.status_code == 400
    assert response.json()["message"] == f"{account.name} cannot write to this facebook identity"
    assert not Conversation.objects.exists() and not Message.objects.exists()
