"""Agent replies through the real API-channel sender to a loopback HTTP server."""
import hashlib
import hmac
import json
import os
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler

import pytest
from django.utils import timezone

from apps.inbox.channels import TemporarySendError
from apps.inbox.models import Conversation, ConversationEvent, Message
from apps.inbox.services.replies import message_deliver, replies_requeue_stale, reply_create, retry_countdown
from tests.builders import client_for, conversations, events_heard
from tests.celery_routing import start_test_worker, tasks_routed_to
from tests.loopback import LoopbackServer

SECRET = "out-secret-ñ-42"


class Receiver(LoopbackServer):
    """A loopback HTTP server standing for the customer's system: records requests, answers as told."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, dict, bytes]] = []  # (status, headers, body), used in order

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver = self.server.owner
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, headers, answer = (
                    receiver.answers.pop(0) if receiver.answers else (200, {}, b'{"external_id": "ext-out-%d"}' % len(receiver.requests))
                )
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        super().__init__(Handler)
        self.url = f"http://127.0.0.1:{self.port}/centralita/replies"
        self.start()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def api_conversation(make_account, inbound, receiver, db):
    account = make_account(settings={"outbound_url": receiver.url}, secrets={"outbound_secret": SECRET})
    (conversation,) = conversations(inbound, account, 1, thread_key="order-77", subject="Pedido 77")
    return conversation


def _reply(client, conversation, text="Hola Ana, ya está en camino", **extra):
    return client.post(f"/api/conversations/{conversation.id}/messages/", {"text": text, **extra}, format="json")


@pytest.mark.django_db
def test_reply_is_delivered_signed_to_the_api_channel(
    make_user, api_conversation, receiver, eager_celery, django_capture_on_commit_callbacks
):
    # given an agent and a conversation on an API channel with an outbound URL
    agent = make_user()
    # when the agent replies
    with django_capture_on_commit_callbacks(execute=True):
        response = _reply(client_for(agent), api_conversation)
    # then the API answers with the queued reply…
    assert response.status_code == 201, response.content
    assert (response.json()["delivery_status"], response.json()["kind"]) == ("queued", "message")
    # …which the deliver task sent, signed, and recorded as sent with the provider's id
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.delivery_status, message.external_id, message.delivery_error) == ("sent", "ext-out-1", "")
    (request,) = receiver.requests
    expected = "sha256=" + hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Centralita-Signature"] == expected
    assert request["path"] == "/centralita/replies"
    sent = json.loads(request["body"])
    assert sent["text"] == "Hola Ana, ya está en camino"
    assert (sent["conversation_id"], sent["thread_key"], sent["author"]) == (api_conversation.id, "order-77", agent.username)
    assert sent["in_reply_to"] == api_conversation.messages.get(direction="in").external_id
    assert sent["customer"]["identities"][0]["kind"] == "email"
    assert sent["subject"] == "Re: Pedido 77"
    # and the conversation shows the answer
    conv = Conversation.objects.get(pk=api_conversation.pk)
    # (stamped when the reply was sent on the channel, not when the agent wrote it)
    assert conv.waiting_since is None and conv.first_response_at >= message.sent_at
    assert (conv.message_count, conv.last_message_preview) == (2, "Hola Ana, ya está en camino")
    assert ConversationEvent.objects.filter(conversation=conv, kind="replied", actor=agent, data__message_id=message.id).exists()


@pytest.mark.django_db
def test_permanent_failure_is_shown_and_a_retry_delivers(
    make_user, api_conversation, receiver, eager_celery, django_capture_on_commit_callbacks
):
    # given a receiving system that refuses the first reply
    receiver.answers.append((422, {}, b'{"error": "unknown customer"}'))
    agent = make_user()
    client = client_for(agent)
    # when the agent replies
    with django_capture_on_commit_callbacks(execute=True):
        message_id = _reply(client, api_conversation).json()["id"]
    # then the thread shows the failure and why
    shown = client.get(f"/api/conversations/{api_conversation.id}/messages/").json()["results"][-1]
    assert shown["id"] == message_id
    assert shown["delivery_status"] == "failed"
    assert "HTTP 422" in shown["delivery_error"] and "unknown customer" in shown["delivery_error"]
    # when the agent retries once the other side is fixed
    with django_capture_on_commit_callbacks(execute=True):
        retried = client.post(f"/api/messages/{message_id}/retry/")
    # then it is queued again and then sent
    assert retried.status_code == 202, retried.content
    assert retried.json()["delivery_status"] == "queued"
    message = Message.objects.get(pk=message_id)
    assert (message.delivery_status, message.delivery_error, message.external_id) == ("sent", "", "ext-out-2")
    assert len(receiver.requests) == 2
    # and a sent message cannot be retried
    assert client.post(f"/api/messages/{message_id}/retry/").status_code == 409


@pytest.mark.django_db
def test_delivery_updates_are_published(make_user, api_conversation, receiver, eager_celery, django_capture_on_commit_callbacks):
    # given a listener on the desk's all-seeing group
    def reply():
        with django_capture_on_commit_callbacks(execute=True):
            _reply(client_for(make_user()), api_conversation)

    # when a reply is made and delivered
    heard = events_heard(["desk.all"], reply)
    # then the desk hears it created (queued), the conversation updated, then the message sent
    kinds = [(e["type"], e.get("message", {}).get("delivery_status")) for e in heard]
    assert ("message.created", "queued") in kinds
    assert ("conversation.updated", None) in kinds
    # the message sent, then the conversation answered (its wait and SLA clock end only now)
    assert kinds[-2:] == [("message.updated", "sent"), ("conversation.updated", None)]


@pytest.mark.django_db
def test_missing_outbound_url_fails_permanently(make_user, make_account, inbound, eager_celery, django_capture_on_commit_callbacks):
    account = make_account(secrets={"outbound_secret": SECRET})
    (conversation,) = conversations(inbound, account, 1)
    with django_capture_on_commit_callbacks(execute=True):
        message_id = _reply(client_for(make_user()), conversation).json()["id"]
    message = Message.objects.get(pk=message_id)
    assert message.delivery_status == "failed"
    assert "outbound_url" in message.delivery_error


@pytest.mark.django_db
def test_channel_without_outbound_refuses_the_reply_up_front(make_user, make_account, inbound, eager_celery):
    # given a phone conversation (a call log: nothing can be sent on it)
    (conversation,) = conversations(inbound, make_account(kind="phone"), 1)
    # when an agent posts a reply, then it is refused with the reason and nothing is stored
    response = _reply(client_for(make_user()), conversation)
    assert response.status_code == 400
    assert "call the customer back" in response.json()["message"]
    assert not Message.objects.filter(conversation=conversation, direction="out").exists()


def test_a_sender_missing_for_the_kind_fails_the_delivery_clearly(make_user, make_account, inbound, eager_celery, django_capture_on_commit_callbacks):
    # given a conversation whose channel is not registered (any more): the composer has no rules
    # for it, and no sender can be found (a plugin uninstalled with its conversations still open)
    from apps.connectors import registry

    (conversation,) = conversations(inbound, make_account(kind="api"), 1)
    saved = registry.channel_for("api")
    registry.unregister("api")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            message_id = _reply(client_for(make_user()), conversation).json()["id"]
    finally:
        registry.register(saved)
    message = Message.objects.get(pk=message_id)
    assert (message.delivery_status, message.delivery_error) == ("failed", "channel 'api' cannot send replies")


@pytest.mark.django_db
def test_temporary_failure_keeps_it_queued_and_asks_for_a_retry(make_user, api_conversation, receiver):
    # given a reply and a receiver that is down for maintenance, asking for 7 s
    message = reply_create(conversation=api_conversation, author=make_user(), text="¿Sigue ahí?")
    receiver.answers.append((503, {"Retry-After": "7"}, b"maintenance"))
    # when a non-final attempt runs
    with pytest.raises(TemporarySendError) as caught:
        message_deliver(message_id=message.id, final_attempt=False)
    # then the message waits, saying why, and the task would retry in the asked 7 s
    message.refresh_from_db()
    assert message.delivery_status == "queued"
    assert "HTTP 503" in message.delivery_error
    assert caught.value.retry_after == 7
    assert retry_countdown(retry_after=caught.value.retry_after, attempt=0) == 7
    # and exponential backoff applies when the provider says nothing
    assert 12 <= retry_countdown(retry_after=None, attempt=0) <= 18
    assert 48 <= retry_countdown(retry_after=None, attempt=2) <= 72
    # when the final attempt fails the same way, it is failed for good and shown
    receiver.answers.append((502, {}, b""))
    message_deliver(message_id=message.id, final_attempt=True)
    message.refresh_from_db()
    assert message.delivery_status == "failed"
    assert message.delivery_error.startswith("gave up after retries: HTTP 502")


@pytest.mark.django_db
def test_a_second_delivery_of_the_task_sends_nothing(make_user, api_conversation, receiver):
    # given a reply already delivered (acks_late may run a task twice)
    message = reply_create(conversation=api_conversation, author=make_user(), text="Hecho")
    message_deliver(message_id=message.id)
    # when the task runs again
    message_deliver(message_id=message.id)
    # then one request only
    assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_timeouts_and_unreachable_hosts_are_temporary(make_user, make_account, inbound):
    # given an outbound URL nobody listens on
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    account = make_account(settings={"outbound_url": f"http://127.0.0.1:{port}/"}, secrets={"outbound_secret": SECRET})
    (conversation,) = conversations(inbound, account, 1)
    message = reply_create(conversation=conversation, author=make_user(), text="Hola")
    # then
    with pytest.raises(TemporarySendError):
        message_deliver(message_id=message.id, final_attempt=False)


# --- the real worker -------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_retries_with_backoff_then_delivers(make_user, api_conversation, receiver):
    # given a Celery worker on the test database and Redis, and a receiver that fails once (Retry-After: 1)
    receiver.answers.append((503, {"Retry-After": "1"}, b"busy"))
    # A queue of its own, so parallel test processes sharing this Redis never swap tasks.
    queue = f"test-deliver-{os.getpid()}-{api_conversation.id}"
    routing = tasks_routed_to(queue, "apps.inbox.tasks.message_deliver")
    routing.__enter__()
    worker = start_test_worker(queue)
    try:
        # when the agent replies (the task goes to Redis, the worker picks it up)
        message = reply_create(conversation=api_conversation, author=make_user(), text="Hola desde el worker")
        # then, within a generous bound, it is sent after one retry (the bound covers the worker's
        # start on a machine running a whole suite: 60 s once ran out there)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            message.refresh_from_db()
            if message.delivery_status != "queued":
                break
            time.sleep(0.2)
    finally:
        routing.__exit__(None, None, None)
        worker.terminate()
        _, errors = worker.communicate(timeout=30)
    assert message.delivery_status == "sent", errors.decode()[-2000:]
    assert len(receiver.requests) == 2
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]


@pytest.mark.django_db
def test_a_reply_whose_task_was_lost_is_requeued_by_the_sweep(
    make_user, api_conversation, receiver, eager_celery, django_capture_on_commit_callbacks
):
    # given a reply saved two hours ago whose delivery task never ran (the broker was down at commit)
    message = Message.objects.create(
        conversation=api_conversation, customer_id=api_conversation.customer_id,
        channel_account_id=api_conversation.channel_account_id, direction="out", kind="message",
        author=make_user(), text="Perdón por la espera", sent_at=api_conversation.last_activity_at,
        delivery_status="queued",
    )
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(hours=2))
    fresh = reply_create(conversation=api_conversation, author=make_user(), text="Recién escrita")
    # when the beat sweep runs
    with django_capture_on_commit_callbacks(execute=True):
        requeued = replies_requeue_stale()
    # then only the stale one was queued again, and it is delivered
    assert requeued == 1
    message.refresh_from_db()
    assert message.delivery_status == "sent"
    assert [json.loads(r["body"])["text"] for r in receiver.requests] == ["Perdón por la espera"]
    assert Message.objects.get(pk=fresh.pk).delivery_status == "queued"
