"""POST /api/inbound/<account>/: the API channel, from the HTTP request to the customer history."""
import json
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from apps.connectors.models import ChannelKind, DeadLetter, InboundPayload
from apps.connectors.services import channel_account_rotate_token, payload_stage
from apps.connectors.drain import inbound_drain
from apps.crm.models import Customer
from apps.inbox.models import Attachment, Conversation, Message

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "api"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def api_account(make_account):
    account = make_account(kind=ChannelKind.PUSH, name="Tienda CRM")
    account.token = channel_account_rotate_token(account=account)
    return account


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """POST a raw body as a provider would; on-commit hooks run (the drain nudge), as after a real commit."""

    def send(account, body: bytes, *, token=None, header="Authorization"):
        client = APIClient()
        headers = {}
        if token is not None:
            headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if header == "Authorization" else {"HTTP_X_CENTRALITA_TOKEN": token}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"/api/inbound/{account.id}/", body, content_type="application/json", **headers)

    return send


# --- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_a_missing_or_wrong_token_is_401_and_nothing_is_kept(api_account, post, token):
    # when
    response = post(api_account, fixture("web_form.json"), token=token)
    # then
    assert response.status_code == 401
    assert response.json() == {"message": "Unknown account or invalid token", "extra": {}}
    assert not InboundPayload.objects.exists() and not DeadLetter.objects.exists()


def test_another_accounts_token_is_401(api_account, make_account, post):
    # given
    other = make_account(kind=ChannelKind.PUSH, name="Otro")
    other_token = channel_account_rotate_token(account=other)
    # when
    response = post(api_account, fixture("web_form.json"), token=other_token)
    # then
    assert response.status_code == 401


def test_a_non_api_account_is_401_even_with_its_token(make_account, post):
    # given
    mailbox = make_account(kind=ChannelKind.EMAIL, name="Soporte")
    token = channel_account_rotate_token(account=mailbox)
    # when
    response = post(mailbox, fixture("web_form.json"), token=token)
    # then
    assert response.status_code == 401


def test_a_disabled_account_is_403(api_account, post):
    # given
    api_account.enabled = False
    api_account.save()
    # when
    response = post(api_account, fixture("web_form.json"), token=api_account.token)
    # then
    assert response.status_code == 403
    assert not InboundPayload.objects.exists()


# --- bad payloads: a clear error and a dead letter --------------------------------------------


def test_malformed_json_is_400_with_the_reason_and_a_dead_letter(api_account, post):
    # given
    body = fixture("malformed.json")
    # when
    response = post(api_account, body, token=api_account.token)
    # then
    assert response.status_code == 400
    data = response.json()
    assert data["message"].startswith("not JSON: ")
    dead = DeadLetter.objects.get()
    assert data["extra"] == {"dead_letter_id": dead.id}
    assert (bytes(dead.raw), dead.error, dead.kind, dead.source) == (body, data["message"], "api", "api")
    assert dead.channel_account == api_account
    assert not InboundPayload.objects.exists() and not Message.objects.exists()


@pytest.mark.parametrize(
    "item, reason",
    [
        ({"sender": {"email": "a@example.com"}, "text": "hola"}, "message 0: external_id is required"),
        ({"external_id": "x", "sender": {"name": "Ana"}, "text": "hola"}, "message 0: sender needs at least one of"),
        ({"external_id": "x", "sender": {"email": "a@example.com"}}, "message 0: a message needs text, html or attachments"),
        ({"external_id": "x", "sender": {"email": "a@example.com"}, "text": "hola", "sent_at": "ayer"}, "message 0: sent_at is not an ISO 8601"),
        ([], "no messages in payload"),
    ],
)
def test_a_payload_breaking_the_schema_is_400_naming_the_problem(api_account, post, item, reason):
    # when
    response = post(api_account, json.dumps(item).encode(), token=api_account.token)
    # then
    assert response.status_code == 400
    assert response.json()["message"].startswith(reason)
    assert DeadLetter.objects.get().error.startswith(reason)


@pytest.mark.parametrize("sent_at", ["2026-02-30T10:00:00Z", "2026-11-20T25:00:00Z"])
def test_an_impossible_date_is_400_naming_it_and_kept(api_account, post, sent_at):
    # given a well-formed date-time that no calendar has (30 February, hour 25)
    item = {"external_id": "x", "sender": {"email": "a@example.com"}, "text": "hola", "sent_at": sent_at}
    # when
    response = post(api_account, json.dumps(item).encode(), token=api_account.token)
    # then the client is told which field, and the payload is kept as a dead letter
    assert response.status_code == 400
    assert response.json()["message"] == f"message 0: sent_at is not an ISO 8601 date-time: {sent_at!r}"
    assert DeadLetter.objects.get().error == response.json()["message"]
    assert not InboundPayload.objects.exists()


def test_json_nested_past_any_sense_is_400_and_kept(api_account, post):
    # given a body 50,000 arrays deep (Python's json decoder recurses once per level)
    body = b"[" * 50_000 + b"]" * 50_000
    # when
    response = post(api_account, body, token=api_account.token)
    # then
    assert response.status_code == 400
    assert response.json()["message"] == "not JSON: nested too deeply"
    assert bytes(DeadLetter.objects.get().raw) == body


def test_body_not_utf8_is_400_and_kept(api_account, post):
    # when
    response = post(api_account, '{"text": "año"}'.encode("latin-1"), token=api_account.token)
    # then
    assert response.status_code == 400
    assert response.json()["message"].startswith("body is not UTF-8")
    assert bytes(DeadLetter.objects.get().raw) == '{"text": "año"}'.encode("latin-1")


def test_an_oversize_payload_is_413_and_kept_truncated(api_account, post, settings):
    # given
    settings.INBOUND_MAX_PAYLOAD_BYTES = 1000
    body = json.dumps({"external_id": "big", "sender": {"email": "a@example.com"}, "text": "x" * 5000}).encode()
    # when
    response = post(api_account, body, token=api_account.token)
    # then
    assert response.status_code == 413
    data = response.json()
    assert data["message"] == f"payload of {len(body)} bytes is over the 1000 byte limit"
    dead = DeadLetter.objects.get()
    assert data["extra"] == {"dead_letter_id": dead.id}
    assert bytes(dead.raw) == body[:1000] and "over the 1000 byte limit" in dead.error
    assert not InboundPayload.objects.exists()


# --- good payloads: 202, then the worker drains them into the history -------------------------------


def test_a_web_form_is_accepted_and_lands_in_one_customer_history(api_account, post):
    # when
    response = post(api_account, fixture("web_form.json"), token=api_account.token)
    inbound_drain()  # the worker's job (already done in-process when Celery runs eagerly)
    # then
    assert response.status_code == 202
    assert response.json() == {"status": "accepted", "payload_id": response.json()["payload_id"], "messages": 1}
    assert not InboundPayload.objects.exists()
    message = Message.objects.get()
    assert (message.external_id, message.kind, message.subject) == ("form-2026-11-20-0007", "form", "Devolución del pedido 4471")
    assert message.metadata == {"api": {"form": "contacto", "page": "https://tienda.example.es/ayuda"}}
    customer = Customer.objects.get()
    assert customer.display_name == "Lucía Fernández"
    assert set(customer.identities.values_list("kind", "value")) == {
        ("email", "lucia.fernandez@example.es"),
        ("phone", "+34612345678"),
    }


def test_a_batch_is_threaded_sanitized_and_keeps_attachments(api_account, post, settings, tmp_path):
    # given
    settings.MEDIA_ROOT = str(tmp_path)
    # when
    response = post(api_account, fixture("crm_batch.json"), token=api_account.token)
    inbound_drain()
    # then
    assert (response.status_code, response.json()["messages"]) == (202, 3)
    assert Message.objects.count() == 3
    order = Conversation.objects.get(thread_key="order-5512")
    assert order.message_count == 2 and order.subject == "Order 5512 arrived damaged"
    first = Message.objects.get(external_id="crm-981")
    assert "<script" not in first.html and "onerror" not in first.html and "<b>5512</b>" in first.html
    assert {(a.filename, a.url) for a in Attachment.objects.all()} == {
        ("box.jpg", "https://files.example.com/box.jpg"),
        ("albaran.txt", ""),
    }
    assert Attachment.objects.get(filename="albaran.txt").file.read() == "Albarán 5512".encode()
    # the reference to an unknown message still lands, on Marta's own conversation
    marta = Message.objects.get(external_id="crm-983")
    assert marta.conversation.customer == marta.customer and marta.conversation.thread_key is None
    assert Customer.objects.count() == 2


def test_json_lines_and_the_token_header_are_accepted(api_account, post):
    # when
    response = post(api_account, fixture("jsonl_stream.json"), token=api_account.token, header="X-Centralita-Token")
    inbound_drain()
    # then
    assert (response.status_code, response.json()["messages"]) == (202, 2)
    assert Conversation.objects.get().message_count == 2


def test_the_same_payload_pushed_twice_gives_one_message(api_account, post):
    # when
    first = post(api_account, fixture("web_form.json"), token=api_account.token)
    second = post(api_account, fixture("web_form.json"), token=api_account.token)
    counts = inbound_drain()
    # then
    assert (first.status_code, second.status_code) == (202, 202)
    assert Message.objects.count() == 1
    assert not InboundPayload.objects.exists()
    assert counts.failed == 0


def test_the_drain_dead_letters_a_bad_staged_payload_and_ingests_the_rest(api_account):
    # given: payloads staged by webhooks, one of which cannot be parsed
    payload_stage(account=api_account, kind="api", raw=fixture("web_form.json"))
    payload_stage(account=api_account, kind="api", raw=fixture("malformed.json"))
    payload_stage(account=api_account, kind="api", raw=fixture("jsonl_stream.json"))
    # when
    counts = inbound_drain(batch_size=2)
    # then
    assert (counts.ingested, counts.duplicates, counts.failed) == (3, 0, 1)
    assert Message.objects.count() == 3
    dead = DeadLetter.objects.get()
    assert (bytes(dead.raw), dead.source) == (fixture("malformed.json"), "webhook")
    assert dead.error.startswith("not JSON")
    assert not InboundPayload.objects.exists()


def test_the_drain_bounds_a_batch_by_messages_and_still_drains_a_payload_bigger_than_that(api_account):
    # given: a payload of 5 messages, then two of 1, with batches of 2 messages
    big = [{"external_id": f"big-{i}", "sender": {"email": f"p{i}@example.com"}, "text": "hola"} for i in range(5)]
    payload_stage(account=api_account, kind="api", raw=json.dumps(big).encode())
    payload_stage(account=api_account, kind="api", raw=fixture("web_form.json"))
    payload_stage(account=api_account, kind="api", raw=fixture("jsonl_stream.json"))
    # when
    counts = inbound_drain(batch_size=2)
    # then: everything went through once, nothing is left behind
    assert (counts.ingested, counts.duplicates, counts.failed) == (8, 0, 0)
    assert Message.objects.count() == 8
    assert not InboundPayload.objects.exists()
