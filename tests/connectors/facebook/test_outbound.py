"""The desk writes first on Messenger (issue 15): into the one conversation with that person,
within the 24-hour window; outside it without a tag, refused with the rule explained."""
import json
import time

import pytest
from django.test import Client

from apps.accounts.models import Role
from apps.crm.models import Customer, Identity
from apps.inbox.models import Conversation, Message
from tests.builders import client_for

from .conftest import messenger_event, sign, webhook_body
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
    # when: the desk asks where it can write, then tries anyway
    [option] = supervisor.get(f"/api/customers/{customer.id}/outbound/").json()
    response = start(supervisor, customer, psid, fb_account, "Hola Lucía, ¿te llegó el pedido?")
    # then: the dialog is told the rule before the agent writes ...
    assert [(a["id"], a["can_send"], a["notice"]) for a in option["accounts"]] == [
        (fb_account.id, False, "The customer has not written on Messenger yet: the Page cannot start the conversation.")]
    # ... and the API refuses, saying which Messenger rule applies; nothing created, nothing sent
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
    supervisor = client_for(make_user(role=Role.SUPERVISOR))
    # when
    [option] = supervisor.get(f"/api/customers/{psid.customer_id}/outbound/").json()
    response = start(supervisor, psid.customer, psid, fb_account, "¿Seguimos?")
    # then: Messenger's windows (24 hours, then 7 days with the human-agent tag) are named
    assert response.status_code == 400
    assert response.json()["message"].startswith("The 7-day human-agent window closed on ")
    assert response.json()["message"].endswith("you cannot reply on Messenger until the customer writes again")
    assert not conversation.messages.filter(direction="out").exists()
    [account] = option["accounts"]
    assert (account["can_send"], account["conversation_id"]) == (False, conversation.id)
    assert account["notice"] == response.json()["message"]


def test_the_persons_answer_to_a_message_the_desk_started_threads_back_into_it(fb_account, graph, make_user, eager_celery,
                                                                              django_capture_on_commit_callbacks):
    # given: Lucía wrote yesterday evening (inside the window), the conversation was resolved; the desk writes first
    conversation = messenger_conversation(fb_account, hours_ago=20)
    Conversation.objects.filter(pk=conversation.pk).update(status="resolved")
    psid = Identity.objects.get(kind="facebook", value=PSID)
    delivered = []
    graph.on_message = lambda recipient, text: delivered.append((recipient, text))  # what the demo's customer reads
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = start(client_for(make_user(role=Role.SUPERVISOR)), psid.customer, psid, fb_account, "¿Te llegó el pedido?")
    finally:
        graph.on_message = None
    assert response.status_code == 201 and delivered == [(PSID, "¿Te llegó el pedido?")]
    # when: she answers on Messenger (the Page's webhook, signed) and the staged payload is drained
    raw = webhook_body(messenger_event(PSID, "m_answer_1", "¡Sí, gracias!", at_ms=int(time.time() * 1000)))
    with django_capture_on_commit_callbacks(execute=True):
        hook = Client().post(f"/hooks/facebook/{fb_account.id}/", data=raw, content_type="application/json",
                             HTTP_X_HUB_SIGNATURE_256=sign(raw))
    # then: into the same conversation, open again
    assert hook.status_code == 200
    assert Conversation.objects.filter(channel_account=fb_account).count() == 1
    conversation.refresh_from_db()
    assert conversation.status == "open"
    assert conversation.messages.order_by("sent_at").last().text == "¡Sí, gracias!"
