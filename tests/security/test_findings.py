"""Regressions of issue 10's probe findings that the earlier fixes left open.

The findings fixed before have their regression tests beside the code they exercise (listed in
docs/testing.md, "The probe's findings"); these are the ones closed in this round:
- JSON nested past the decoder's recursion limit anywhere untrusted JSON is read (a websocket
  frame, a provider body, a keyset cursor) is an ordinary malformed document, never a RecursionError;
- a digit `str.isdigit()` accepts but `int()` refuses ("²", "١") is "not a number" in every parser.
"""
import base64
import json

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from apps.accounts.models import Role
from apps.connectors.drain import inbound_drain
from apps.connectors.facebook.parse import graph_time
from apps.connectors.models import ChannelKind, DeadLetter, InboundPayload
from apps.connectors.phone.parse import parse_asterisk
from apps.connectors.services import payload_stage
from apps.connectors.social import json_body
from apps.connectors.twitter import parse as twitter_parse
from apps.core.parsing import digits_parse, json_parse
from apps.inbox.inbound import ParseError
from apps.inbox.models import Message
from tests.builders import client_for, conversations
from tests.inbox.test_realtime import _communicator, _headers

DEEP = "[" * 50_000 + "]" * 50_000
SHALLOW_BUT_TOO_DEEP = "[" * 1_000 + "]" * 1_000  # already past the decoder's limit: ~1.3 KB
NOT_ASCII_DIGITS = ["²", "١٢", "1²", "٣", "1_000", " 1", "-1", "", "9" * 5000]


@pytest.mark.parametrize("raw", [DEEP, SHALLOW_BUT_TOO_DEEP, DEEP.encode()])
def test_json_too_deep_is_a_malformed_document_not_a_recursion_error(raw):
    with pytest.raises(json.JSONDecodeError, match="nested too deeply"):
        json_parse(raw)
    with pytest.raises(ParseError, match="nested too deeply"):
        json_body(raw if isinstance(raw, bytes) else raw.encode())


@pytest.mark.parametrize("raw", NOT_ASCII_DIGITS)
def test_only_ascii_digits_are_numbers(raw):
    assert digits_parse(raw) is None
    assert digits_parse("0042") == 42 and digits_parse(7) == 7 and digits_parse(True) is None


@pytest.mark.django_db(transaction=True)
def test_a_websocket_frame_nested_too_deeply_is_ignored_and_the_socket_lives_on(make_user):
    # given an agent's desk socket
    headers = _headers(make_user(role=Role.AGENT))

    async def scenario():
        socket = _communicator(headers)
        connected, _ = await socket.connect()
        assert connected
        assert (await socket.receive_json_from(timeout=5))["type"] == "hello"
        # when a frame 50,000 arrays deep (then one 1,000 deep) arrives
        await socket.send_to(text_data=DEEP)
        await socket.send_to(text_data=SHALLOW_BUT_TOO_DEEP)
        # then the socket is still up and answers the next ping
        await socket.send_json_to({"type": "ping"})
        answer = await socket.receive_json_from(timeout=5)
        await socket.disconnect()
        return answer

    assert async_to_sync(scenario)() == {"type": "pong"}


@pytest.mark.django_db
@pytest.mark.parametrize("kind,account_kind", [("facebook", ChannelKind.FACEBOOK), ("twitter", ChannelKind.TWITTER),
                                               ("twilio", ChannelKind.PHONE)])
def test_a_provider_body_nested_too_deeply_becomes_a_dead_letter_and_the_drain_goes_on(make_account, kind, account_kind):
    # given a too-deep body of the channel, then a good API message
    account, api = make_account(kind=account_kind), make_account(kind=ChannelKind.PUSH)
    payload_stage(account=account, kind=kind, raw=SHALLOW_BUT_TOO_DEEP.encode())
    good = {"external_id": "after", "sender": {"email": "ana@example.com"}, "text": "hola"}
    payload_stage(account=api, kind="api", raw=json.dumps(good).encode())
    # when the drain runs
    inbound_drain()
    # then the deep body is a dead letter saying why, and the good one is a message
    assert "nested too deeply" in DeadLetter.objects.get(kind=kind).error
    assert list(Message.objects.values_list("external_id", flat=True)) == ["after"]
    assert not InboundPayload.objects.exists()


@pytest.mark.django_db
def test_a_signed_twitter_event_nested_too_deeply_is_refused_not_a_500(make_account):
    from tests.connectors.twitter.conftest import sign  # X's own signature scheme

    account = make_account(kind=ChannelKind.TWITTER, secrets={"consumer_secret": "s3cret"}, settings={"user_id": "1"})
    raw = ('{"for_user_id": ' + SHALLOW_BUT_TOO_DEEP + "}").encode()
    response = Client().post(f"/hooks/twitter/{account.id}/", raw, content_type="application/json",
                             HTTP_X_TWITTER_WEBHOOKS_SIGNATURE=sign(raw, "s3cret"))
    # staged as any signed event is (the drain keeps it as a dead letter), never a server error
    assert response.status_code == 200
    inbound_drain()
    assert "nested too deeply" in DeadLetter.objects.get(kind="twitter").error


@pytest.mark.django_db
def test_a_keyset_cursor_nested_too_deeply_is_refused_like_any_tampered_cursor(make_user, make_account, inbound):
    conversations(inbound, make_account(), 1)
    cursor = base64.urlsafe_b64encode(SHALLOW_BUT_TOO_DEEP.encode()).decode().rstrip("=")
    response = client_for(make_user(role=Role.SUPERVISOR)).get("/api/conversations/", {"cursor": cursor})
    assert response.status_code == 404 and response.json()["message"] == "Invalid cursor"


def _dm_body(event_id: str, **fields) -> bytes:
    return json.dumps({"for_user_id": "1400000000000000001", "data": [
        {"id": event_id, "event_type": "MessageCreate", "text": "hola", "sender_id": "1500000000000000777", **fields}]}).encode()


@pytest.mark.parametrize("event_id", ["²²²", "١٢٣"])
def test_an_x_id_of_unicode_digits_is_a_parse_error_not_a_crash(event_id):
    # with no created_at the time comes from the id (a snowflake): "²".isdigit() is True, int("²") raises
    with pytest.raises(ParseError, match="not numeric"):
        twitter_parse.parse(_dm_body(event_id), account_id=1)
    # a one-to-one DM's conversation id is built from both user ids: a unicode digit is not sorted as a number
    (message,) = twitter_parse.parse(_dm_body("1861000000000000520", sender_id="²", created_at="2026-11-23T10:20:00.000Z"),
                                     account_id=1)
    assert message.thread_key == "dm:1400000000000000001"  # the one id that is a number


def test_a_facebook_time_of_unicode_digits_is_a_parse_error():
    with pytest.raises(ParseError, match="not a date"):
        graph_time("١٧٩٥٠٠٠٠٠٠")
    assert graph_time("1795000000").year == 2026


def test_an_asterisk_duration_of_unicode_digits_is_refused_with_the_reason():
    row = ('"","600112233","100","from-pstn","Ana <600112233>","PJSIP/a","PJSIP/b","Dial","x",'
           '"2026-11-20 10:00:00","2026-11-20 10:00:05","2026-11-20 10:04:17",²,²,"ANSWERED","DOCUMENTATION"\n')
    with pytest.raises(ParseError, match="whole seconds"):
        parse_asterisk(row.encode(), account_id=1)


@pytest.mark.django_db
def test_the_ingest_command_takes_an_account_named_in_unicode_digits_as_a_name(make_account, tmp_path):
    make_account(kind=ChannelKind.PUSH, name="Tienda")
    payload = tmp_path / "one.json"
    payload.write_text(json.dumps({"external_id": "x", "sender": {"email": "a@example.com"}, "text": "hola"}))
    with pytest.raises(CommandError, match="no single channel account '²'"):
        call_command("ingest", "api", str(payload), "--account", "²")
