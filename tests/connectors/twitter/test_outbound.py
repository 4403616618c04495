"""The desk writes first on X by direct message (issue 15), and the customer's DM answer threads
back into the same conversation."""
import pytest

from apps.accounts.models import Role
from apps.connectors.twitter import services
from apps.crm.models import Customer, Identity
from apps.inbox.models import Conversation, Message
from tests.builders import client_for

from .x_server import OWN_ID

pytestmark = pytest.mark.django_db

MARTA = "1500000000000000888"


def test_a_direct_message_starts_a_conversation_and_the_answer_threads_into_it(
    x_api, x_account, make_user, eager_celery, django_capture_on_commit_callbacks
):
    # given: a customer known by her X account (say, from a public complaint on another account)
    customer = Customer.objects.create(display_name="Marta Ruiz")
    handle = Identity.objects.create(customer=customer, kind="twitter", value=MARTA, handle="@marta_ruiz")
    supervisor = client_for(make_user(role=Role.SUPERVISOR))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = supervisor.post("/api/conversations/", {
            "customer": customer.id, "identity": handle.id, "channel_account": x_account.id,
            "text": "Hola Marta, te escribimos por tu pedido 4471",
        }, format="json")
    # then: a DM to her user id, the conversation keyed as X's one-to-one DM conversation
    assert response.status_code == 201, response.json()
    conversation = Conversation.objects.get(pk=response.json()["id"])
    assert conversation.thread_key == f"dm:{OWN_ID}-{MARTA}"
    [call] = x_api.calls_to("POST", f"/2/dm_conversations/with/{MARTA}/messages")
    assert call["json"] == {"text": "Hola Marta, te escribimos por tu pedido 4471"}
    assert Message.objects.get(conversation=conversation).delivery_status == "sent"

    # when: she answers by DM and the account is polled
    x_api.user(MARTA, "Marta Ruiz", "marta_ruiz")
    x_api.dm("1861000000000000999", MARTA, "¡Gracias! ¿Mañana por la mañana?")
    services.twitter_account_poll(account_id=x_account.id)
    # then: into the same conversation
    assert Conversation.objects.count() == 1
    assert conversation.messages.filter(direction="in").get().text == "¡Gracias! ¿Mañana por la mañana?"
