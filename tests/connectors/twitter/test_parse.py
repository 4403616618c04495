"""parse(): X API v2 bodies and Account Activity bodies -> InboundMessage (pure: no database)."""
import json
import re
from datetime import datetime, timezone

import pytest

from apps.connectors.registry import splitter_for
from apps.connectors.twitter.parse import parse
from apps.inbox.inbound import ParseError, SenderIdentity

from .conftest import fixture_bytes

split = splitter_for("twitter")  # the splitter the channel declares

OWN = "1400000000000000001"
LUCIA = "1500000000000000777"


def test_a_mention_and_its_reply_share_the_thread_of_their_conversation_id():
    # when
    messages = parse(fixture_bytes("mentions_page.json"), account_id=7)
    # then: the retweet is left out; both tweets thread on the conversation id, the reply references its parent
    assert [(m.external_id, m.thread_key, m.references) for m in messages] == [
        ("tweet:1861000000000000203", "tweet:1861000000000000101", ["tweet:1861000000000000101"]),
        ("tweet:1861000000000000101", "tweet:1861000000000000101", []),
    ]
    reply = messages[0]
    assert (reply.account_id, reply.direction, reply.is_public) == (7, "in", True)
    assert reply.sent_at == datetime(2026, 11, 23, 10, 5, tzinfo=timezone.utc)
    assert reply.text == "@TiendaSoporte sigo esperando & nadie contesta. Escribidme a lucia.romero@example.com"
    assert reply.senders == [
        SenderIdentity("twitter", LUCIA, display_name="Lucía Romero", handle="@lucia_romero"),
        SenderIdentity("email", "lucia.romero@example.com", display_name="Lucía Romero"),
    ]
    assert reply.metadata == {"twitter": {
        "tweet_id": "1861000000000000203", "conversation_id": "1861000000000000101", "author_id": LUCIA,
        "author_handle": "@lucia_romero", "url": "https://x.com/lucia_romero/status/1861000000000000203",
    }}


def test_a_body_without_includes_or_fields_still_parses_with_what_it_has():
    # when: no expansions, no tweet.fields asked
    [message] = parse(fixture_bytes("mentions_no_includes.json"), account_id=1)
    # then: no author known (the ingest marks it unknown), the time comes from the snowflake id
    assert message.senders == []
    assert message.thread_key == "tweet:1861000000000000300"
    assert message.sent_at == datetime(2024, 11, 25, 10, 52, 30, 365000, tzinfo=timezone.utc)
    assert message.metadata["twitter"]["url"] == "https://x.com/i/web/status/1861000000000000300"


def test_an_author_id_without_includes_is_an_identity_by_id_only():
    body = {"data": [{"id": "1861000000000000400", "text": "hola", "author_id": LUCIA}]}
    [message] = parse(json.dumps(body).encode(), account_id=1)
    assert message.senders == [SenderIdentity("twitter", LUCIA)]
    assert message.metadata["twitter"]["author_handle"] == ""


def test_dm_events_thread_by_dm_conversation_and_the_brands_own_are_echoes():
    # when: a page stamped with the account's own user id (as the poller stores it)
    messages = parse(fixture_bytes("dm_events.json"), account_id=1)
    # then: ParticipantsJoin carries no message; ours is "out" and names the customer, not the brand
    assert [(m.external_id, m.direction, m.is_public, m.thread_key) for m in messages] == [
        ("dm:1861000000000000520", "in", False, f"dm:{OWN}-{LUCIA}"),
        ("dm:1861000000000000510", "out", False, f"dm:{OWN}-{LUCIA}"),
    ]
    assert [s.kind for s in messages[0].senders] == ["twitter", "email"]
    assert messages[1].senders == [SenderIdentity("twitter", LUCIA, display_name="Lucía Romero", handle="@lucia_romero")]
    assert messages[1].metadata["twitter"] == {"dm_event_id": "1861000000000000510", "conversation_id": f"{OWN}-{LUCIA}",
                                               "author_id": OWN, "author_handle": "@TiendaSoporte",
                                               "url": f"https://x.com/messages/{OWN}-{LUCIA}"}


def test_a_tweet_lookup_with_errors_for_deleted_tweets_keeps_the_found_ones():
    [message] = parse(fixture_bytes("tweet_lookup.json"), account_id=1)
    assert (message.external_id, message.text) == ("tweet:1861000000000000401", "@TiendaSoporte la app se cierra al pagar 😡")


def test_account_activity_bodies():
    [tweet] = parse(fixture_bytes("webhook_tweet_create.json"), account_id=1)
    [dm] = parse(fixture_bytes("webhook_dm.json"), account_id=1)
    assert (tweet.external_id, tweet.thread_key, tweet.is_public, tweet.text) == (
        "tweet:1861000000000000601", "tweet:1861000000000000601", True,
        "@TiendaSoporte el repartidor dejó el paquete bajo la lluvia <3 gracias")
    assert tweet.senders == [SenderIdentity("twitter", "1500000000000000555", display_name="Jorge Ruiz", handle="@jorgeruiz")]
    assert tweet.sent_at == datetime(2026, 11, 23, 11, 0, tzinfo=timezone.utc)
    assert (dm.external_id, dm.thread_key, dm.is_public, dm.direction) == (
        "dm:1861000000000000701", "dm:1400000000000000001-1500000000000000555", False, "in")
    assert dm.sent_at == datetime(2026, 11, 23, 11, 10, tzinfo=timezone.utc)


def test_account_activity_own_tweets_and_other_events():
    # given: the brand's own reply (author = for_user_id), and an event that is no message
    own_reply = {"id_str": "1861000000000000602", "created_at": "Mon Nov 23 11:05:00 +0000 2026", "text": "@jorgeruiz lo vemos",
                 "in_reply_to_status_id_str": "1861000000000000601", "in_reply_to_user_id_str": "1500000000000000555",
                 "in_reply_to_screen_name": "jorgeruiz", "user": {"id_str": OWN, "name": "Tienda Soporte", "screen_name": "TiendaSoporte"}}
    body = {"for_user_id": OWN, "tweet_create_events": [own_reply]}
    favorite = {"for_user_id": OWN, "favorite_events": [{"id": "a7ba59eab0bfcba386f7acedac279542"}]}
    # when
    [message] = parse(json.dumps(body).encode(), account_id=1)
    # then: an echo in the thread of the tweet it answers, addressed to the customer
    assert (message.direction, message.thread_key, message.references) == (
        "out", "tweet:1861000000000000601", ["tweet:1861000000000000601"])
    assert message.senders == [SenderIdentity("twitter", "1500000000000000555", handle="@jorgeruiz")]
    assert parse(json.dumps(favorite).encode(), account_id=1) == []


def test_an_empty_page_has_no_messages():
    assert parse(b'{"meta": {"result_count": 0}}', account_id=1) == []


@pytest.mark.parametrize("raw, error", [
    (b"\xff\xfe", "body is not UTF-8"),
    (b"<html>rate limited</html>", "not JSON"),
    (b"[1, 2]", "a Twitter body is a JSON object"),
    (b'{"title": "Unauthorized", "status": 401}', "an X error answer (problem object), not a payload: Unauthorized: 401"),
    (b'{"ok": true}', "not an X API v2 body nor an Account Activity event"),
    (b'{"data": [{"text": "no id"}]}', "data[0]: an item needs an id"),
    (b'{"data": {"id": "1", "text": "x", "created_at": "ayer"}}', "created_at 'ayer' is not an ISO 8601 time"),
    (b'{"for_user_id": "1", "tweet_create_events": {"id": 1}}', "tweet_create_events must be a list"),
])
def test_what_cannot_be_parsed_says_why(raw, error):
    with pytest.raises(ParseError, match=re.escape(error)):
        parse(raw, account_id=1)


def test_split_reads_one_body_a_list_of_bodies_or_ndjson():
    one = fixture_bytes("mentions_page.json")
    bodies = [json.loads(one), json.loads(fixture_bytes("dm_events.json"))]
    assert list(split("one.json", one)) == [("one.json", one)]
    assert [name for name, _ in split("list.json", json.dumps(bodies).encode())] == ["list.json[0]", "list.json[1]"]
    ndjson = "\n".join(json.dumps(b) for b in bodies).encode()
    assert [json.loads(raw) for _, raw in split("x.ndjson", ndjson)] == bodies
    assert list(split("bad.json", b"{nope")) == [("bad.json", b"{nope")]


def test_x_error_answers_are_recognised_never_messages_nor_unknown_bodies():
    # a stream's "too many connections" problem object, as X documents it
    problem = {
        "title": "ConnectionException",
        "detail": "This stream is currently at the maximum allowed connection limit.",
        "connection_issue": "TooManyConnections",
        "type": "https://api.twitter.com/2/problems/streaming-connection",
    }
    with pytest.raises(ParseError, match="an X error answer \\(problem object\\), not a payload: ConnectionException: This stream"):
        parse(json.dumps(problem).encode(), account_id=1)
    # a 200 with both data and errors keeps the good part
    partial = {
        "data": [{"id": "1460323737035677698", "text": "@tienda mi pedido no llega", "author_id": "2244994945",
                  "conversation_id": "1460323737035677698", "created_at": "2026-12-01T10:00:00.000Z"}],
        "errors": [{"value": "1460323737035677699", "detail": "Could not find tweet with ids: [1460323737035677699].",
                    "title": "Not Found Error", "resource_type": "tweet", "parameter": "ids",
                    "type": "https://api.twitter.com/2/problems/resource-not-found"}],
    }
    assert [m.external_id for m in parse(json.dumps(partial).encode(), account_id=1)] == ["tweet:1460323737035677698"]
