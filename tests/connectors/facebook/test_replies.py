"""Replies (Send API windows, comment replies public and private), the composer, and hiding comments."""
import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Role
from apps.connectors.facebook.parse import parse
from apps.connectors.models import ChannelAccount
from apps.connectors.drain import inbound_drain
from apps.inbox.models import Conversation, ConversationEvent, Message
from apps.inbox.services.ingest import messages_ingest
from apps.inbox.services.replies import message_deliver, reply_create

from tests.builders import client_for

from .conftest import PAGE_ID, fixture_bytes, messenger_event, sign, webhook_body

pytestmark = pytest.mark.django_db

PSID = "7481023395512345"
COMMENT_THREAD = f"post:{PAGE_ID}_889900112233:889900112233_4001"


def messenger_conversation(account, *, hours_ago: float) -> Conversation:
    """A customer wrote on Messenger `hours_ago` (through the real parser and ingest)."""
    at_ms = int((timezone.now() - timedelta(hours=hours_ago)).timestamp() * 1000)
    messages_ingest(messages=parse(webhook_body(messenger_event(PSID, f"m_in_{hours_ago}", "¿Dónde está mi pedido?", at_ms=at_ms)),
                                   account_id=account.id))
    return Conversation.objects.get(channel_account=account, thread_key=f"psid:{PSID}")


def comment_conversation(account) -> Conversation:
    messages_ingest(messages=parse(fixture_bytes("comment_add.json"), account_id=account.id))
    return Conversation.objects.get(channel_account=account, thread_key=COMMENT_THREAD)


@pytest.fixture
def agent(make_user, fb_account):
    return make_user(role=Role.AGENT, teams=[fb_account.team])


def composer(agent, conversation) -> dict:
    response = client_for(agent).get(f"/api/conversations/{conversation.id}/composer/")
    assert response.status_code == 200
    return response.json()


def deliver(message: Message) -> Message:
    message_deliver(message_id=message.id, final_attempt=False)
    return Message.objects.get(pk=message.pk)


# --- Messenger windows ---------------------------------------------------------------------------


def test_inside_24_hours_a_standard_response(fb_account, graph, agent):
    # given: the customer wrote 18 h 50 min ago
    conversation = messenger_conversation(fb_account, hours_ago=18 + 50 / 60)
    # when
    rules = composer(agent, conversation)
    reply = deliver(reply_create(conversation=conversation, author=agent, text="Hola Lucía, ya lo miramos"))
    # then
    assert (rules["visibilities"], rules["can_reply"], rules["max_chars"]) == ([], True, 2000)
    assert rules["notice"] == "Standard 24-hour window: open for 5 h more"
    [call] = graph.posts("/me/messages")
    assert call["path"] == "/v19.0/me/messages"
    assert (json.loads(call["form"]["recipient"]), call["form"]["messaging_type"], "tag" in call["form"]) == ({"id": PSID}, "RESPONSE", False)
    assert json.loads(call["form"]["message"]) == {"text": "Hola Lucía, ya lo miramos"}
    assert (reply.delivery_status, reply.external_id) == ("sent", "mid:m_sent_1")


def test_the_pages_echo_of_a_sent_reply_is_not_stored_twice(fb_account, graph, agent, client):
    # given
    conversation = messenger_conversation(fb_account, hours_ago=1)
    deliver(reply_create(conversation=conversation, author=agent, text="Hola"))
    raw = webhook_body(messenger_event(PSID, "m_sent_1", "Hola", at_ms=int(timezone.now().timestamp() * 1000), echo=True))
    # when
    client.post(f"/hooks/facebook/{fb_account.id}/", data=raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(raw))
    counts = inbound_drain()
    # then
    assert (counts.ingested, counts.duplicates) == (0, 1)
    assert conversation.messages.filter(direction="out").count() == 1


def test_at_30_hours_the_human_agent_tag(fb_account, graph, agent):
    # given
    conversation = messenger_conversation(fb_account, hours_ago=30 + 10 / 60)
    last_in = conversation.messages.get().sent_at
    # when
    rules = composer(agent, conversation)
    reply = deliver(reply_create(conversation=conversation, author=agent, text="Perdona la espera"))
    # then
    until = timezone.localtime(last_in + timedelta(days=7)).strftime("%d %b %Y %H:%M %Z")
    assert rules["notice"] == f"24-hour window closed 6 h ago: replies go out with the HUMAN_AGENT tag until {until}"
    assert (rules["can_reply"], rules["extra"]) == (True, {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"})
    [call] = graph.posts("/me/messages")
    assert (call["form"]["messaging_type"], call["form"]["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    assert reply.delivery_status == "sent"


def test_after_7_days_the_composer_says_so_and_replies_are_refused(fb_account, graph, agent):
    # given
    conversation = messenger_conversation(fb_account, hours_ago=8 * 24)
    # when
    rules = composer(agent, conversation)
    response = client_for(agent).post(f"/api/conversations/{conversation.id}/messages/", {"text": "¿Sigues ahí?"}, format="json")
    # then
    assert rules["can_reply"] is False
    assert re.fullmatch(r"The 7-day human-agent window closed on \d\d \w{3} \d{4} \d\d:\d\d UTC: you cannot reply on Messenger "
                        r"until the customer writes again", rules["notice"])
    assert (response.status_code, response.json()["message"]) == (400, rules["notice"])
    assert graph.posts("/me/messages") == []
    assert conversation.messages.filter(direction="out").count() == 0


def test_a_reply_queued_before_the_window_closed_fails_with_the_reason(fb_account, graph, agent):
    # given: queued inside the window; by delivery time the last message is 8 days old
    conversation = messenger_conversation(fb_account, hours_ago=2)
    reply = reply_create(conversation=conversation, author=agent, text="Hola")
    conversation.messages.filter(direction="in").update(sent_at=timezone.now() - timedelta(days=8))
    # when
    reply = deliver(reply)
    # then
    assert reply.delivery_status == "failed"
    assert reply.delivery_error.startswith("The 7-day human-agent window closed on")
    assert graph.posts("/me/messages") == []


def test_messenger_replies_are_at_most_2000_characters(fb_account, graph, agent):
    conversation = messenger_conversation(fb_account, hours_ago=1)
    response = client_for(agent).post(f"/api/conversations/{conversation.id}/messages/", {"text": "x" * 2001}, format="json")
    assert (response.status_code, response.json()["extra"]) == (400, {"max_chars": 2000, "length": 2001})


def test_a_send_api_rate_limit_retries_later_and_pauses_the_account(fb_account, graph, agent):
    # given
    conversation = messenger_conversation(fb_account, hours_ago=1)
    reply = reply_create(conversation=conversation, author=agent, text="Hola")
    graph.fail("/me/messages", status=400, code=613, message="Calls to this api have exceeded the rate limit.")
    # when
    from apps.inbox.channels import TemporarySendError

    with pytest.raises(TemporarySendError) as raised:
        message_deliver(message_id=reply.id, final_attempt=False)
    # then: still queued, retried at the pause's end; the health shows why
    assert raised.value.retry_after == 15 * 60
    reply.refresh_from_db()
    assert (reply.delivery_status, reply.delivery_error.startswith("temporary failure, will retry")) == ("queued", True)
    assert ChannelAccount.objects.get(pk=fb_account.pk).paused_until is not None
    # when: the next attempt goes through
    assert deliver(reply).delivery_status == "sent"


def test_a_5xx_on_send_is_temporary_and_a_refusal_is_permanent(fb_account, graph, agent):
    conversation = messenger_conversation(fb_account, hours_ago=1)
    first = reply_create(conversation=conversation, author=agent, text="uno")
    graph.fail("/me/messages", status=503, html="<html>Service Unavailable</html>")
    from apps.inbox.channels import TemporarySendError

    with pytest.raises(TemporarySendError):
        message_deliver(message_id=first.id, final_attempt=False)
    # given: Facebook refuses the recipient (the person blocked the Page)
    second = reply_create(conversation=conversation, author=agent, text="dos")
    graph.fail("/me/messages", status=400, code=551, message="This person isn't available right now.")
    # when
    second = deliver(second)
    # then
    assert second.delivery_status == "failed"
    assert "This person isn't available right now" in second.delivery_error


def test_an_expired_token_fails_the_reply_and_shows_in_the_health(fb_account, graph, agent):
    conversation = messenger_conversation(fb_account, hours_ago=1)
    reply = reply_create(conversation=conversation, author=agent, text="Hola")
    graph.fail("/me/messages", status=400, code=190, message="Error validating access token: Session has expired.")
    # when
    reply = deliver(reply)
    # then
    assert reply.delivery_status == "failed"
    assert reply.delivery_error.startswith("Page token expired: reconnect")
    assert ChannelAccount.objects.get(pk=fb_account.pk).last_error.startswith("Page token expired: reconnect")


# --- comments -----------------------------------------------------------------------------------


def test_comment_composer_offers_public_and_private(fb_account, graph, agent):
    rules = composer(agent, comment_conversation(fb_account))
    assert (rules["visibilities"], rules["default_visibility"], rules["max_chars"], rules["can_reply"]) == (
        ["public", "private"], "public", 8000, True)


def test_public_comment_reply_goes_under_the_top_level_comment(fb_account, graph, agent, client):
    # given
    conversation = comment_conversation(fb_account)
    # when: the default visibility of a comment thread is public
    reply = deliver(reply_create(conversation=conversation, author=agent, text="Marta, te escribimos por privado"))
    # then
    [call] = graph.posts("/comments")
    assert (call["path"], call["form"]["message"]) == ("/v19.0/889900112233_4001/comments", "Marta, te escribimos por privado")
    assert (reply.is_public, reply.delivery_status, reply.external_id) == (True, "sent", "comment:889900112233_901")
    # when: the feed webhook reports the Page's own comment
    raw = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "changes": [{"field": "feed", "value": {
        "item": "comment", "verb": "add", "post_id": f"{PAGE_ID}_889900112233", "comment_id": "889900112233_901",
        "parent_id": "889900112233_4001", "from": {"id": PAGE_ID, "name": "Aurora Home"},
        "message": "Marta, te escribimos por privado", "created_time": int(timezone.now().timestamp())}}]}]}).encode()
    client.post(f"/hooks/facebook/{fb_account.id}/", data=raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(raw))
    # then: recognised as the reply already stored
    assert inbound_drain().duplicates == 1


def test_private_reply_to_a_commenter_uses_the_comment_id(fb_account, graph, agent):
    # given
    conversation = comment_conversation(fb_account)
    # when
    response = client_for(agent).post(f"/api/conversations/{conversation.id}/messages/",
                                      {"text": "Hola Marta, ¿nos pasas tu número de pedido?", "public": False}, format="json")
    reply = deliver(Message.objects.get(pk=response.json()["id"]))
    # then: to the customer's latest comment, on Messenger, without a messaging window
    [call] = graph.posts("/me/messages")
    assert json.loads(call["form"]["recipient"]) == {"comment_id": "889900112233_4002"}
    assert (reply.is_public, reply.delivery_status, reply.external_id) == (False, "sent", "mid:m_private_1")
    assert graph.posts("/comments") == []


# --- moderation ------------------------------------------------------------------------------------


def test_hide_a_comment(fb_account, graph, agent):
    # given
    comment = comment_conversation(fb_account).messages.get(external_id="comment:889900112233_4001")
    # when
    response = client_for(agent).post(f"/api/messages/{comment.id}/hide/")
    # then
    assert response.status_code == 200
    assert response.json()["details"]["facebook"]["hidden"] is True
    [call] = graph.posts("/889900112233_4001")
    assert (call["path"], call["form"]["is_hidden"]) == ("/v19.0/889900112233_4001", "true")
    event = ConversationEvent.objects.get(conversation=comment.conversation, kind="moderated")
    assert (event.actor, event.data["action"], event.data["message_id"]) == (agent, "comment_hidden", comment.id)
    # a second hide records nothing new
    assert client_for(agent).post(f"/api/messages/{comment.id}/hide/").status_code == 200
    assert ConversationEvent.objects.filter(kind="moderated").count() == 1


def test_hide_is_404_for_an_agent_who_cannot_see_the_conversation(fb_account, graph, make_user, team):
    # given: an agent of another team
    comment = comment_conversation(fb_account).messages.get(external_id="comment:889900112233_4001")
    other_team = type(team).objects.create(name="Soporte")
    outsider = make_user(role=Role.AGENT, teams=[other_team])
    # when
    response = client_for(outsider).post(f"/api/messages/{comment.id}/hide/")
    # then
    assert response.status_code == 404
    assert graph.calls == []
    comment.refresh_from_db()
    assert comment.metadata["facebook"]["hidden"] is False


def test_only_comments_can_be_hidden(fb_account, graph, agent):
    message = messenger_conversation(fb_account, hours_ago=1).messages.get()
    response = client_for(agent).post(f"/api/messages/{message.id}/hide/")
    assert (response.status_code, response.json()["message"]) == (400, "Only a Facebook comment can be hidden")
    assert graph.calls == []


def test_when_facebook_refuses_to_hide_nothing_changes(fb_account, graph, agent):
    comment = comment_conversation(fb_account).messages.get(external_id="comment:889900112233_4001")
    graph.fail("/889900112233_4001", status=400, code=4, message="(#4) Application request limit reached")
    # when
    response = client_for(agent).post(f"/api/messages/{comment.id}/hide/")
    # then
    assert response.status_code == 503
    assert "request limit reached" in response.json()["message"]
    comment.refresh_from_db()
    assert comment.metadata["facebook"]["hidden"] is False
    assert not ConversationEvent.objects.filter(kind="moderated").exists()


def test_a_messenger_conversation_without_a_psid_key_replies_to_the_customers_facebook_identity(fb_account, graph, agent, inbound):
    # given: a conversation stored without the psid: key (older data, an import), the customer known by PSID
    from apps.inbox.inbound import SenderIdentity

    messages_ingest(messages=[inbound(fb_account, senders=[SenderIdentity("facebook", PSID)],
                                      sent_at=timezone.now() - timedelta(hours=1), thread_key="6600")])
    conversation = Conversation.objects.get(channel_account=fb_account, thread_key="6600")
    # when
    reply = deliver(reply_create(conversation=conversation, author=agent, text="Hola"))
    # then
    [call] = graph.posts("/me/messages")
    assert (json.loads(call["form"]["recipient"]), reply.delivery_status) == ({"id": PSID}, "sent")
