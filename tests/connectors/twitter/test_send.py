"""Replies from the desk go out on X, public or private, with the real tweepy.Client against a loopback X API."""
import time

import pytest

from apps.accounts.models import Role
from apps.connectors.twitter import services
from apps.inbox.channels import TemporarySendError
from apps.inbox.models import Conversation, Message
from apps.inbox.services import replies
from tests.builders import client_for

from .x_server import OWN_ID

pytestmark = pytest.mark.django_db

LUCIA = "1500000000000000777"
THREAD = "1861000000000000101"


@pytest.fixture
def polled(x_api, x_account):
    """Lucía's complaint and her reply in its thread, and a DM from her, polled into the desk."""
    x_api.user(LUCIA, "Lucía Romero", "lucia_romero")
    x_api.mention(THREAD, LUCIA, "@TiendaSoporte mi pedido no ha llegado", created_at="2026-11-23T10:00:00.000Z")
    x_api.mention("1861000000000000203", LUCIA, "@TiendaSoporte ¿hola?", conversation_id=THREAD, replied_to=THREAD,
                  created_at="2026-11-23T10:05:00.000Z")
    x_api.dm("1861000000000000520", LUCIA, "Os escribo por privado")
    services.twitter_account_poll(account_id=x_account.id)
    return {
        "thread": Conversation.objects.get(thread_key=f"tweet:{THREAD}"),
        "dm": Conversation.objects.get(thread_key=f"dm:{OWN_ID}-{LUCIA}"),
    }


@pytest.fixture
def agent(make_user):
    return client_for(make_user(role=Role.SUPERVISOR))


def reply(agent, conversation, text, *, public=None, capture):
    with capture(execute=True):  # the delivery task is queued on commit; eager here
        response = agent.post(f"/api/conversations/{conversation.id}/messages/", {"text": text, "public": public}, format="json")
    return response


def test_a_public_reply_is_a_tweet_in_reply_to_the_latest_tweet(polled, x_api, agent, eager_celery, django_capture_on_commit_callbacks):
    # when: the agent answers the complaint with the default visibility
    response = reply(agent, polled["thread"], "Hola Lucía, lo revisamos ahora mismo", capture=django_capture_on_commit_callbacks)
    # then: X got a reply to her latest tweet of the thread, and the reply is sent with X's id
    assert response.status_code == 201, response.json()
    post = x_api.calls_to("POST", "/2/tweets")[0]
    assert post["json"] == {"text": "Hola Lucía, lo revisamos ahora mismo", "reply": {"in_reply_to_tweet_id": "1861000000000000203"}}
    assert post["authorization"].startswith("OAuth ")
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.is_public, message.delivery_status, message.external_id) == (True, "sent", "tweet:1861000000000009001")


def test_a_private_reply_in_a_dm_thread_is_a_direct_message_into_that_conversation(
    polled, x_api, agent, eager_celery, django_capture_on_commit_callbacks
):
    # when
    response = reply(agent, polled["dm"], "Te escribimos por aquí", capture=django_capture_on_commit_callbacks)
    # then
    assert response.status_code == 201, response.json()
    post = x_api.calls_to("POST", "/2/dm_conversations/")[0]
    assert (post["path"], post["json"]) == (f"/2/dm_conversations/{OWN_ID}-{LUCIA}/messages", {"text": "Te escribimos por aquí"})
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.is_public, message.delivery_status, message.external_id) == (False, "sent", "dm:1861000000000009001")
    # and the next poll sees our DM among the events: the same message, not a second one
    result = services.twitter_account_poll(account_id=polled["dm"].channel_account_id)
    assert (result.ingested, result.duplicates) == (0, 1)
    assert polled["dm"].messages.count() == 2


def test_a_private_reply_in_a_tweet_thread_is_a_direct_message_to_the_author(
    polled, x_api, agent, eager_celery, django_capture_on_commit_callbacks
):
    # when
    response = reply(agent, polled["thread"], "Te escribimos por privado", public=False, capture=django_capture_on_commit_callbacks)
    # then
    assert response.status_code == 201, response.json()
    assert x_api.calls_to("POST", "/2/dm_conversations/")[0]["path"] == f"/2/dm_conversations/with/{LUCIA}/messages"
    assert Message.objects.get(pk=response.json()["id"]).delivery_status == "sent"


def test_a_duplicate_tweet_fails_with_xs_reason(polled, x_api, agent, eager_celery, django_capture_on_commit_callbacks):
    # given: the same text was tweeted before
    x_api.posted_texts.add("Lo sentimos")
    # when
    response = reply(agent, polled["thread"], "Lo sentimos", capture=django_capture_on_commit_callbacks)
    # then
    message = Message.objects.get(pk=response.json()["id"])
    assert message.delivery_status == "failed"
    assert message.delivery_error == "X API 403: You are not allowed to create a Tweet with duplicate content."


@pytest.mark.parametrize("status", [429, 503])
def test_rate_limits_and_server_errors_are_temporary(polled, x_api, make_user, status):
    # given: a queued public reply, and X answering 429 (reset in 5 minutes) or 503
    reset = int(time.time()) + 300
    if status == 429:
        x_api.rate_limit("/2/tweets", reset=reset)
    else:
        x_api.fail("/2/tweets", status=503)
    message = replies.reply_create(conversation=polled["thread"], author=make_user(), text="Ya está", is_public=True)
    # when: a worker delivers it (not the final attempt)
    with pytest.raises(TemporarySendError) as error:
        replies.message_deliver(message_id=message.id, final_attempt=False)
    # then: it stays queued for the retry, which waits for X's reset time when X gave one
    message.refresh_from_db()
    assert message.delivery_status == "queued" and message.delivery_error.startswith("temporary failure, will retry: ")
    if status == 429:
        assert reset - time.time() - 5 < error.value.retry_after <= reset - time.time() + 1
    else:
        assert error.value.retry_after is None
    # and the retry goes out once X answers again
    assert replies.message_deliver(message_id=message.id, final_attempt=False).delivery_status == "sent"


# --- the composer ------------------------------------------------------------------------------


def test_the_composer_offers_a_public_reply_in_a_tweet_thread_and_refuses_281_characters(polled, agent):
    # when
    rules = agent.get(f"/api/conversations/{polled['thread'].id}/composer/").json()
    too_long = agent.post(f"/api/conversations/{polled['thread'].id}/messages/", {"text": "x" * 281}, format="json")
    just_right = agent.post(f"/api/conversations/{polled['thread'].id}/messages/", {"text": "x" * 280}, format="json")
    # then
    assert rules == {"visibilities": ["public", "private"], "default_visibility": "public", "max_chars": 280, "url_chars": 23,
                     "can_reply": True, "notice": "Public reply as @TiendaSoporte in the thread — everyone can see it; "
                     "choose private for a direct message", "extra": {}}
    assert too_long.status_code == 400
    assert too_long.json()["message"] == "The reply is 281 characters; this channel allows 280"
    assert just_right.status_code == 201 and just_right.json()["is_public"] is True


def test_links_count_23_characters_like_x_counts_them(polled, agent):
    # given: 250 characters of text and a 60-character link (X counts it as 23: 274)
    text = "y" * 250 + " https://tienda.example/pedidos/5512?utm_source=twitter&x=123"
    # when
    response = agent.post(f"/api/conversations/{polled['thread'].id}/messages/", {"text": text}, format="json")
    # then
    assert len(text) > 280 and response.status_code == 201


def test_a_dm_thread_takes_private_replies_only(polled, agent):
    # when
    rules = agent.get(f"/api/conversations/{polled['dm'].id}/composer/").json()
    public = agent.post(f"/api/conversations/{polled['dm'].id}/messages/", {"text": "hola", "public": True}, format="json")
    # then
    assert (rules["visibilities"], rules["default_visibility"], rules["notice"]) == (["private"], "private", "Direct message from @TiendaSoporte")
    assert public.status_code == 400 and public.json()["message"] == "A public reply is not possible here"
