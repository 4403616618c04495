"""One hostile payload must never stop inbound processing: whatever a parser raises on it, the
payload becomes a dead letter with its error and everything staged after it is ingested."""
import json

import pytest

from apps.connectors.models import ChannelKind, DeadLetter, InboundPayload
from apps.connectors.services import payload_stage
from apps.connectors.drain import dead_letter_replay, inbound_drain, payloads_import
from apps.inbox.models import Message

pytestmark = pytest.mark.django_db

GOOD = {"external_id": "after-the-bad-one", "sender": {"email": "ana@example.com"}, "text": "¿Llegó mi pedido?"}

# Shapes a parser never met: each raised something other than ParseError/ValueError before the
# fix (AttributeError, TypeError, KeyError, RecursionError), rolled the drain back and stayed first in line.
HOSTILE = [
    ("facebook", {"object": "page", "entry": [{"id": "1", "messaging": [{"sender": "text", "recipient": {"id": "1"},
                                                                          "timestamp": 1, "message": {"mid": "m1", "text": "x"}}]}]}),
    ("facebook", {"object": "page", "entry": [{"id": "1", "changes": [{"field": "feed", "value": {
        "item": "comment", "verb": "add", "comment_id": "1_2", "post_id": "1_1", "from": "x", "message": "hola"}}]}]}),
    ("facebook", {"object": "page", "entry": "not a list"}),
    ("twitter", {"for_user_id": "1", "tweet_create_events": [{"id_str": "9", "text": "hola", "user": "x"}]}),
    ("twitter", {"for_user_id": "1", "direct_message_events": [{"type": "message_create", "id": "5", "message_create": "x"}]}),
    ("twitter", {"for_user_id": "1", "tweet_create_events": "x"}),
    ("api", [1, 2, 3]),
    ("webform", {"form": 3, "fields": "x"}),
    ("twilio", {"CallSid": ["x"], "From": {"a": 1}, "CallStatus": 7}),
]
DEEP = b"[" * 50_000 + b"]" * 50_000


@pytest.fixture
def api_account(make_account):
    return make_account(kind=ChannelKind.PUSH, name="Tienda CRM")


def stage_hostile(make_account) -> int:
    accounts = {}
    for kind, body in HOSTILE:
        account_kind = {"twilio": ChannelKind.PHONE}.get(kind, kind)
        accounts.setdefault(kind, make_account(kind=account_kind))
        payload_stage(account=accounts[kind], kind=kind, raw=json.dumps(body).encode())
    for kind in ("api", "facebook", "twitter", "webform", "twilio"):
        payload_stage(account=accounts[kind], kind=kind, raw=DEEP)
    return len(HOSTILE) + 5


def test_no_payload_of_any_shape_stops_the_drain(make_account, api_account):
    # given: hostile payloads on every channel staged first, then an ordinary message
    n_hostile = stage_hostile(make_account)
    payload_stage(account=api_account, kind="api", raw=json.dumps(GOOD).encode())
    # when
    counts = inbound_drain(batch_size=3)
    # then: the good message is in the desk, every hostile one is a dead letter with its error
    assert (counts.ingested, counts.failed) == (1, n_hostile)
    assert Message.objects.get().external_id == "after-the-bad-one"
    assert not InboundPayload.objects.exists()
    assert DeadLetter.objects.count() == n_hostile
    assert all(dead.error for dead in DeadLetter.objects.all())
    errors = " ".join(DeadLetter.objects.values_list("error", flat=True))
    assert "AttributeError" in errors or "TypeError" in errors  # the class of what the parser raised is kept


def test_a_replayed_hostile_dead_letter_stays_a_dead_letter_with_its_error(make_account):
    # given
    account = make_account(kind=ChannelKind.FACEBOOK)
    dead = DeadLetter.objects.create(channel_account=account, kind="facebook", source="webhook",
                                     raw=json.dumps(HOSTILE[0][1]).encode(), error="first try")
    # when
    counts = dead_letter_replay(dead_letter=dead)
    # then
    dead.refresh_from_db()
    assert counts.failed == 1 and not dead.resolved
    assert "first try" != dead.error and dead.replayed_at is not None


def test_an_import_goes_on_past_a_hostile_payload(make_account):
    # given
    account = make_account(kind=ChannelKind.TWITTER)
    good = {"for_user_id": "1", "tweet_create_events": [{
        "id_str": "77", "text": "@Tienda hola", "created_at": "Mon Nov 23 11:00:00 +0000 2026",
        "user": {"id_str": "55", "name": "Jorge", "screen_name": "jorge"}, "timestamp_ms": "1795431600000"}]}
    payloads = [("bad.json", json.dumps(HOSTILE[3][1]).encode()), ("deep.json", DEEP), ("good.json", json.dumps(good).encode())]
    # when
    counts = payloads_import(kind="twitter", account=account, payloads=payloads)
    # then
    assert (counts.ingested, counts.failed) == (1, 2)
    assert DeadLetter.objects.count() == 2


def test_a_nul_byte_in_an_error_or_text_does_not_stop_the_drain(api_account):
    # given: a message whose text and id carry NUL bytes (PostgreSQL text refuses them)
    payload_stage(account=api_account, kind="api", raw=json.dumps({**GOOD, "external_id": "n\u0000ul", "text": "a\u0000b"}).encode())
    payload_stage(account=api_account, kind="api", raw=json.dumps({**GOOD, "external_id": "fine"}).encode())
    # when
    inbound_drain()
    # then: nothing is left staged, and the ordinary message went through
    assert not InboundPayload.objects.exists()
    assert Message.objects.filter(external_id="fine").exists()
