"""The desk writes first on Messenger (issue 15): into the one conversation with that person,
within the 24-hour window; outside it without a tag, refused with the rule explained."""
import json

import pytest

from apps.accounts.models import Role
from apps.crm.models import Customer, Identity
from apps.inbox.models import Conversation, Message
from tests.builders import client_for

from .test_replies import PSID, messenger_conversation

pytestmark = pytest.mark.django_db


def start(client, customer, identity, account, text):
    return client.post("/api/conversations/", {"customer": customer.id, "identity": identity.id,
                                                "channel_account": account.id, "text": text}, format="json")


def test_a_person_who_never_wrote_cannot_be_messaged_first_and_the_rule_says_why(fb_account, graph, make_user):
    # given: a Messenger customer who never wrote to this page
    customer = Customer.objects.create(display_name="Lucía")
    psid = Identity.objects.create(customer=customer, kind="facebook", value=PSID)
    supervisor = client_for(make_user(role=Role.SUPERVISOR))
    # when
    response = start(supervisor, customer, psid, fb_account, "Hola Lucía, ¿te llegó el pedido?")
    # then: refused, saying which Messenger rule applies; nothing created, nothing sent
    assert response.status_code == 400
    assert response.json()["message"] == "The customer has not written on Messenger yet: the Page cannot start the conversation."
    assert not Conversation.objects.exists() and graph.posts("/me/messages") == []


def test_within_the_window_the_message_goes_into_the_persons_conversation(fb_account, graph, make_user, eager_celery,
                                                                        django_capture_on_commit_callbacks):
    # given: Lucía wrote two hours ago, and the conversation was resolved
    conversation = messenger_conversation(fb_account, hours_ago=2)
    Conversation.objects.filter(pk=conversation.pk).update(status="resolved")
    psid = Identity.objects.get(kind="facebook", value=PSID)
    supervisor = client_for(make_user(role=Role.SUPERVISOR))
    # when: an agent writes first from her customer sidebar
    with django_capture_on_commit_callbacks(execute=True):
        response = start(supervisor, psid.customer, psid, fb_account, "Hola Lucía, el repartidor pasa mañana")
    # then: the same conversation, reopened, and the Send API got the message
    assert response.status_code == 201, response.json()
    assert response.json()["id"] == conversation.id
    assert Conversation.objects.get(pk=conversation.pk).status == "open"
    [call] = graph.posts("/me/messages")
    assert json.loads(call["form"]["recipient"]) == {"id": PSID}
    assert Message.objects.get(conversation=conversation, direction="out").delivery_status == "sent"


def test_a_week_after_her_last_message_it_is_refused_with_the_window_rule(fb_account, graph, make_user):
    # given: Lucía wrote eight days ago
    conversation = messenger_conversation(fb_account, hours_ago=8 * 24)
    psid = Identity.objects.get(kind="facebook", value=PSID)
    # when
    response = start(client_for(make_user(role=Role.SUPERVISOR)), psid.customer, psid, fb_account, "¿Seguimos?")
    # then: Messenger's windows (24 hours, then 7 days with the human-agent tag) are named
    assert response.status_code == 400
    assert response.json()["message"].startswith("The 7-day human-agent window closed on ")
    assert response.json()["message"].endswith("you cannot reply on Messenger until the customer writes again")
    assert not conversation.messages.filter(direction="out").exists()
