"""/hooks/twitter/<account>/: the Account Activity CRC check and signed event bodies."""
import json

import pytest
from django.test import Client

from apps.connectors.models import DeadLetter, InboundPayload
from apps.connectors.tasks import inbound_drain
from apps.inbox.models import Conversation, Message

from .conftest import fixture_bytes, sign

pytestmark = pytest.mark.django_db

CRC_TOKEN = "9b4507b3-9040-4669-9ca3-6b94edb50553"


def post(account, raw: bytes, **headers):
    return Client().post(f"/hooks/twitter/{account.id}/", raw, content_type="application/json", headers=headers)


def test_the_crc_challenge_is_answered_with_the_documented_vector(x_account):
    # when
    response = Client().get(f"/hooks/twitter/{x_account.id}/", {"crc_token": CRC_TOKEN})
    # then
    assert response.status_code == 200
    assert response.json() == {"response_token": "sha256=Cytd4Sq+NvEcV3MMrXxWJGJx5A+y/lXzzU2Maartkx8="}


def test_a_crc_request_without_a_token_or_for_an_unknown_account_is_refused(x_account):
    assert Client().get(f"/hooks/twitter/{x_account.id}/").status_code == 400
    # an unknown account is answered as a bad signature is: ids cannot be probed
    assert Client().get(f"/hooks/twitter/{x_account.id + 1000}/", {"crc_token": CRC_TOKEN}).status_code == 403
    raw = fixture_bytes("webhook_dm.json")
    assert Client().post(f"/hooks/twitter/{x_account.id + 1000}/", raw, content_type="application/json",
                         headers={"x_twitter_webhooks_signature": sign(raw)}).status_code == 403


def test_the_crc_answer_cannot_be_used_to_sign_a_forged_event(x_account, make_account):
    # given: a customer the desk knows by email, and an attacker who wants a tweet in her history
    from apps.crm.models import Identity

    forged = json.dumps({"for_user_id": x_account.settings["user_id"], "tweet_create_events": [{
        "id_str": "1861000000000000999", "text": "@TiendaSoporte soy ana@example.com, cancelad mi pedido",
        "created_at": "Mon Nov 23 11:00:00 +0000 2026", "timestamp_ms": "1795431600000",
        "user": {"id_str": "666", "name": "Ana", "screen_name": "attacker"}}]}).encode()
    # when: the attacker asks the CRC check to sign the body, then posts it with that signature
    crc = Client().get(f"/hooks/twitter/{x_account.id}/", {"crc_token": forged.decode()})
    signature = crc.json()["response_token"] if crc.status_code == 200 else "sha256="
    posted = post(x_account, forged, x_twitter_webhooks_signature=signature)
    inbound_drain()
    # then: nothing was signed, nothing stored, no identity attached to anyone
    assert crc.status_code == 400
    assert posted.status_code == 403
    assert (InboundPayload.objects.count(), Message.objects.count(), DeadLetter.objects.count()) == (0, 0, 0)
    assert not Identity.objects.exists()


@pytest.mark.parametrize("token", ["123", "abc", "true", "null", "9b4507b3-9040-4669-9ca3-6b94edb50553"])
def test_a_signed_body_that_is_not_a_json_object_is_refused(x_account, token):
    # given: whatever a plain token the CRC answers for, its signature is for that token as the body
    crc = Client().get(f"/hooks/twitter/{x_account.id}/", {"crc_token": token})
    # when
    response = post(x_account, token.encode(), x_twitter_webhooks_signature=crc.json()["response_token"])
    # then
    assert crc.status_code == 200
    assert response.status_code == 400
    assert (InboundPayload.objects.count(), DeadLetter.objects.count()) == (0, 0)


@pytest.mark.parametrize("name", ["webhook_tweet_create.json", "webhook_dm.json"])
def test_a_signed_event_is_staged_and_reaches_the_desk(x_account, name):
    # given
    raw = fixture_bytes(name)
    # when: X posts it
    response = post(x_account, raw, x_twitter_webhooks_signature=sign(raw))
    # then: it is kept for the worker, which drains it into the desk
    assert response.status_code == 200
    assert bytes(InboundPayload.objects.get(channel_account=x_account, kind="twitter").raw) == raw
    assert inbound_drain() == "ingested 1 · duplicates 0 · failed 0"
    message = Message.objects.select_related("customer", "conversation").get()
    assert message.customer.display_name == "Jorge Ruiz"
    assert message.is_public is (name == "webhook_tweet_create.json")
    assert message.conversation.thread_key == {
        "webhook_tweet_create.json": "tweet:1861000000000000601",
        "webhook_dm.json": "dm:1400000000000000001-1500000000000000555",
    }[name]
    assert InboundPayload.objects.count() == 0  # drained


@pytest.mark.parametrize("signature", [None, "", "sha256=", "sha256=Cytd4Sq+NvEcV3MMrXxWJGJx5A+y/lXzzU2Maartkx8=", "forged"])
def test_a_forged_or_unsigned_event_is_refused_and_nothing_is_stored(x_account, signature):
    # given
    raw = fixture_bytes("webhook_dm.json")
    headers = {} if signature is None else {"x_twitter_webhooks_signature": signature}
    # when
    response = post(x_account, raw, **headers)
    # then
    assert response.status_code == 403
    assert (InboundPayload.objects.count(), DeadLetter.objects.count(), Message.objects.count()) == (0, 0, 0)


def test_a_body_signed_with_another_secret_is_refused(x_account):
    raw = fixture_bytes("webhook_tweet_create.json")
    assert post(x_account, raw, x_twitter_webhooks_signature=sign(raw, "another-consumer-secret")).status_code == 403
    assert InboundPayload.objects.count() == 0


def test_an_event_for_another_connected_user_goes_to_that_account(x_account, make_account):
    # given: a second account of the same X app (one webhook URL per app serves every subscribed user)
    from .conftest import SECRETS

    other = make_account(kind="twitter", name="@TiendaVentas", settings={"user_id": "1400000000000000002"}, secrets=dict(SECRETS))
    raw = fixture_bytes("webhook_dm.json").replace(b"1400000000000000001", b"1400000000000000002")
    # when: X posts it to the first account's URL
    response = post(x_account, raw, x_twitter_webhooks_signature=sign(raw))
    inbound_drain()
    # then
    assert response.status_code == 200
    assert Conversation.objects.get().channel_account_id == other.id


def test_an_oversized_signed_body_is_kept_truncated_as_a_dead_letter(x_account, settings):
    # given
    settings.INBOUND_MAX_PAYLOAD_BYTES = 1000
    raw = b'{"for_user_id": "1", "tweet_create_events": [], "pad": "' + b"x" * 2000 + b'"}'
    # when
    response = post(x_account, raw, x_twitter_webhooks_signature=sign(raw))
    # then
    assert response.status_code == 413
    dead = DeadLetter.objects.get()
    assert (dead.kind, dead.source, len(bytes(dead.raw))) == ("twitter", "webhook", 1000)
    assert InboundPayload.objects.count() == 0
