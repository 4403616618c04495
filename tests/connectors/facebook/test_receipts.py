"""What Messenger reports later (issue 16): delivery and read receipts, reactions, edits and
unsends, through the signed webhook and the drain, applied to the messages they concern."""
import json

import pytest
from django.utils import timezone

from apps.connectors.models import DeadLetter
from apps.accounts.models import Role
from apps.connectors.drain import inbound_drain
from apps.inbox.models import Message
from apps.inbox.services.replies import message_deliver, reply_create

from tests.builders import client_for

from .conftest import PAGE_ID, messenger_event, sign, webhook_body
from .test_replies import PSID, messenger_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(make_user, fb_account):
    return make_user(role=Role.AGENT, teams=[fb_account.team])


def deliver_webhook(client, account, *events) -> str:
    raw = webhook_body(*events)
    response = client.post(f"/hooks/facebook/{account.id}/", data=raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(raw))
    assert response.status_code == 200
    return inbound_drain().summary()


def event(**fields) -> dict:
    return {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, **fields}


def ms(dt) -> int:
    return int(dt.timestamp() * 1000)


@pytest.fixture
def sent_reply(fb_account, graph, agent):
    conversation = messenger_conversation(fb_account, hours_ago=1)
    reply = reply_create(conversation=conversation, author=agent, text="Hola Lucía, ya lo miramos")
    message_deliver(message_id=reply.id, final_attempt=False)
    reply.refresh_from_db()
    assert (reply.delivery_status, reply.external_id) == ("sent", "mid:m_sent_1")
    return reply


def test_a_delivery_receipt_without_timestamp_then_a_read_watermark_move_the_reply_forward(client, fb_account, sent_reply):
    # when: Messenger's delivery receipt (mids, no timestamp), as documented
    summary = deliver_webhook(client, fb_account, event(delivery={"mids": ["m_sent_1"], "watermark": ms(timezone.now())}))
    # then
    assert summary == "ingested 0 · duplicates 0 · failed 0 · updated 1"
    sent_reply.refresh_from_db()
    assert sent_reply.delivery_status == "delivered"
    assert not DeadLetter.objects.exists()

    # when: the read watermark covers it
    deliver_webhook(client, fb_account, event(timestamp=ms(timezone.now()), read={"watermark": ms(timezone.now())}))
    # then
    sent_reply.refresh_from_db()
    assert sent_reply.delivery_status == "read"

    # when: a late delivery receipt arrives after the read one
    deliver_webhook(client, fb_account, event(delivery={"watermark": ms(timezone.now())}))
    # then: delivery never moves back
    sent_reply.refresh_from_db()
    assert sent_reply.delivery_status == "read"


def test_a_watermark_covers_only_replies_sent_before_it(client, fb_account, graph, agent, sent_reply):
    # given: the watermark is a second before the reply was sent
    before = sent_reply.sent_at.timestamp() - 1
    # when
    summary = deliver_webhook(client, fb_account, event(read={"watermark": int(before * 1000)}))
    # then
    assert summary == "ingested 0 · duplicates 0 · failed 0"
    sent_reply.refresh_from_db()
    assert sent_reply.delivery_status == "sent"


def test_reactions_edits_and_unsends_update_the_customers_message(client, fb_account, graph, make_user):
    # given: the customer wrote
    now = timezone.now()
    deliver_webhook(client, fb_account, messenger_event(PSID, "m_c1", "Mi pedido no llega", at_ms=ms(now)))
    message = Message.objects.get(external_id="mid:m_c1")

    # when: she edits it, reacts to it, then unsends it
    deliver_webhook(client, fb_account, event(timestamp=ms(now) + 1000, message_edit={"mid": "m_c1", "text": "Mi pedido 4471 no llega", "num_edit": 1}))
    deliver_webhook(client, fb_account, event(timestamp=ms(now) + 2000, reaction={"mid": "m_c1", "action": "react", "reaction": "angry", "emoji": "😠"}))
    message.refresh_from_db()
    # then: the new text, the earlier one kept, the reaction shown
    assert message.text == "Mi pedido 4471 no llega"
    assert [e["text"] for e in message.details["edits"]] == ["Mi pedido no llega"]
    assert message.details["reactions"]["angry"]["emoji"] == "😠"

    # when: she unsends it
    deliver_webhook(client, fb_account, event(timestamp=ms(now) + 3000, message={"mid": "m_c1", "is_deleted": True}))
    message.refresh_from_db()
    # then: its text leaves the desk and the API, kept for audit only; no new message stored
    assert (message.text, "unsent" in message.details) == ("", True)
    assert message.metadata["unsent_text"] == "Mi pedido 4471 no llega"
    assert Message.objects.filter(conversation=message.conversation).count() == 1
    api = client_for(make_user(role=Role.SUPERVISOR)).get(f"/api/conversations/{message.conversation_id}/messages/")
    assert api.status_code == 200
    [shown] = api.json()["results"]
    assert (shown["text"], "unsent" in shown["details"]) == ("", True)
    assert "unsent_text" not in json.dumps(api.json())
