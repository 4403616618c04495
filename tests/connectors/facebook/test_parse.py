"""parse(): webhook bodies and the poller's Graph API envelopes -> InboundMessage (pure, no database)."""
import json
from datetime import datetime, timezone

import pytest

from apps.connectors.facebook.parse import parse
from apps.connectors.registry import splitter_for
from apps.inbox.inbound import ParseError, SenderIdentity

from .conftest import PAGE_ID, fixture_bytes

split = splitter_for("facebook")  # the splitter the channel declares

PSID = "7481023395512345"


def test_messenger_messages_attachments_echoes_and_postbacks():
    # when
    messages = parse(fixture_bytes("messenger_message.json"), account_id=7)
    # then: the read receipt is skipped; the rest is one Messenger thread
    assert [m.external_id for m in messages] == [
        "mid:m_AG5Hz2Uq7qAo4oMhM0ZQ1qGl1vcgvEk3-FJjH1zsmJK4w", "mid:m_photo_5512", "mid:m_echo_from_page_5512", "mid:m_postback_5512",
    ]
    assert {m.thread_key for m in messages} == {f"psid:{PSID}"}
    assert [m.direction for m in messages] == ["in", "in", "out", "in"]
    assert not any(m.is_public for m in messages)
    first, photo, echo, postback = messages
    assert first.senders == [
        SenderIdentity("facebook", PSID), SenderIdentity("email", "lucia.fernandez@example.com"),
    ]
    assert first.sent_at == datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    assert first.metadata["facebook"] == {
        "mid": "m_AG5Hz2Uq7qAo4oMhM0ZQ1qGl1vcgvEk3-FJjH1zsmJK4w", "post_id": "", "psid": PSID,
        "hidden": False, "can_hide": False, "permalink": "",
    }
    # numeric ids come out as the same strings; media with a URL is an attachment, a location is named
    assert photo.senders == [SenderIdentity("facebook", PSID)]
    assert [(a.url, a.content_type) for a in photo.attachments] == [
        ("https://scontent.xx.fbcdn.net/v/t1.15752-9/broken-vase.jpg", "image/*"),
    ]
    assert photo.text == "[Pinned Location]"
    # the page's own message: out, and the customer (recipient) names the thread
    assert echo.senders == [SenderIdentity("facebook", PSID)]
    assert postback.text == "Hablar con una persona"
    assert postback.metadata["facebook"]["postback"] == {"title": "Hablar con una persona", "payload": "HUMAN_HANDOVER"}


def test_comments_with_from_and_the_older_sender_shape_are_one_thread():
    # when
    top, reply = parse(fixture_bytes("comment_add.json"), account_id=7)
    # then
    assert (top.external_id, reply.external_id) == ("comment:889900112233_4001", "comment:889900112233_4002")
    assert top.thread_key == reply.thread_key == "post:104857600123456_889900112233:889900112233_4001"
    assert reply.references == ["comment:889900112233_4001"]
    assert top.is_public and reply.is_public
    assert top.senders == reply.senders == [SenderIdentity("facebook", "5550001112223334", display_name="Marta Ruiz")]
    assert top.sent_at == datetime(2026, 11, 23, 11, 0, tzinfo=timezone.utc)
    assert top.metadata["facebook"] == {
        "comment_id": "889900112233_4001", "post_id": "104857600123456_889900112233", "from_id": "5550001112223334",
        "hidden": False, "can_hide": True,
        "permalink": "https://www.facebook.com/104857600123456_889900112233?comment_id=889900112233_4001",
    }
    assert [a.url for a in reply.attachments] == ["https://scontent.xx.fbcdn.net/v/t39.30808-6/sofa.jpg"]


def test_hide_remove_and_reactions_store_nothing_and_an_edit_keeps_the_comment_id():
    # when
    messages = parse(fixture_bytes("comment_moderation.json"), account_id=7)
    # then: only the edit, under the id of the comment it edits (a duplicate if that one is stored)
    assert [m.external_id for m in messages] == ["comment:889900112233_4001"]


def test_the_pages_own_comment_is_outbound_and_cannot_be_hidden():
    body = {"object": "page", "entry": [{"id": PAGE_ID, "changes": [{"field": "feed", "value": {
        "item": "comment", "verb": "add", "post_id": f"{PAGE_ID}_1", "comment_id": "1_2", "parent_id": "1_1",
        "from": {"id": PAGE_ID, "name": "Aurora Home"}, "message": "Te escribimos por privado", "created_time": 1795431600}}]}]}
    # when
    [message] = parse(json.dumps(body).encode(), account_id=7)
    # then
    assert (message.direction, message.thread_key, message.metadata["facebook"]["can_hide"]) == ("out", f"post:{PAGE_ID}_1:1_1", False)


def test_graph_envelopes_from_the_poller():
    conversations = {"source": "graph", "edge": "conversations", "page_id": PAGE_ID, "response": {"data": [{
        "id": "t_10223", "updated_time": "2026-11-23T10:00:00+0000",
        "messages": {"data": [
            {"id": "m_poll_2", "message": "¿Hay alguien?", "created_time": "2026-11-23T10:00:00+0000",
             "from": {"id": PSID, "name": "Lucía Fernández", "email": f"{PSID}@facebook.com"},
             "to": {"data": [{"id": PAGE_ID, "name": "Aurora Home"}]}},
            {"id": "m_poll_1", "message": "Buenos días", "created_time": "2026-11-23T09:58:00+0000",
             "from": {"id": PAGE_ID, "name": "Aurora Home"},
             "to": {"data": [{"id": PSID, "name": "Lucía Fernández"}]}},
        ]}}]}}
    feed = {"source": "graph", "edge": "feed", "page_id": PAGE_ID, "response": {"data": [{
        "id": f"{PAGE_ID}_889900112233", "comments": {"data": [
            {"id": "889900112233_4003", "message": "¿Respuesta?", "created_time": "2026-11-23T10:05:00+0000",
             "from": {"id": "5550001112223334", "name": "Marta Ruiz"}, "parent": {"id": "889900112233_4001"},
             "permalink_url": "https://www.facebook.com/aurora/posts/889900112233?comment_id=889900112233_4003",
             "is_hidden": False}]}}]}}
    # when
    customer, page = parse(json.dumps(conversations).encode(), account_id=7)
    [comment] = parse(json.dumps(feed).encode(), account_id=7)
    # then: the same ids and threads a webhook gives, so the two overlap safely
    assert (customer.external_id, customer.direction, customer.thread_key) == ("mid:m_poll_2", "in", f"psid:{PSID}")
    assert customer.senders == [SenderIdentity("facebook", PSID, display_name="Lucía Fernández")]
    assert (page.external_id, page.direction, page.thread_key) == ("mid:m_poll_1", "out", f"psid:{PSID}")
    assert comment.thread_key == f"post:{PAGE_ID}_889900112233:889900112233_4001"
    assert comment.metadata["facebook"]["permalink"].endswith("comment_id=889900112233_4003")


@pytest.mark.parametrize("raw, error", [
    (b"\xff\xfe", "not UTF-8"),
    (b"{not json", "not JSON"),
    (b'{"object": "instagram", "entry": []}', "not a Facebook Page webhook"),
    (b'{"object": "page", "entry": [{"id": "1", "messaging": [{"sender": {"id": "2"}, "timestamp": "yesterday", '
     b'"message": {"mid": "m_1", "text": "x"}}]}]}', "epoch milliseconds"),
    (b'{"object": "page", "entry": [{"id": "1", "changes": [{"field": "feed", "value": {"item": "comment", '
     b'"verb": "add", "post_id": "1_2", "message": "x", "created_time": 1}}]}]}', "needs comment_id"),
    (b'{"source": "graph", "edge": "inbox", "page_id": "1", "response": {"data": []}}', "unknown edge"),
])
def test_bad_bodies_say_why(raw, error):
    with pytest.raises(ParseError, match=error):
        parse(raw, account_id=7)


def test_split_one_body_a_list_or_json_lines():
    body = fixture_bytes("comment_add.json")
    one = json.loads(body)
    assert list(split("a.json", body)) == [("a.json", body)]
    assert [n for n, _ in split("b.json", json.dumps([one, one]).encode())] == ["b.json[0]", "b.json[1]"]
    lines = (json.dumps(one) + "\n" + json.dumps(one) + "\n").encode()
    assert [json.loads(raw) for _, raw in split("c.ndjson", lines)] == [one, one]


def test_a_comment_without_its_author_is_kept_with_an_unknown_sender():
    body = {"object": "page", "entry": [{"id": PAGE_ID, "changes": [{"field": "feed", "value": {
        "item": "comment", "verb": "add", "post_id": f"{PAGE_ID}_1", "comment_id": "1_7", "parent_id": f"{PAGE_ID}_1",
        "message": "Nadie responde", "created_time": 1795431600}}]}]}
    # when
    [message] = parse(json.dumps(body).encode(), account_id=7)
    # then: ingest marks it unknown_sender; it is not a dead letter
    assert (message.senders, message.direction, message.metadata["facebook"]["from_id"]) == ([], "in", "")


def test_receipts_and_reactions_without_a_timestamp_are_recognised_not_dead_letters():
    # given: Messenger's delivery receipt as documented (no timestamp: its watermark says when),
    # a read receipt and a reaction, in one body
    body = {"object": "page", "entry": [{"id": PAGE_ID, "time": 1764600000000, "messaging": [
        {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID},
         "delivery": {"mids": ["m_AG5Hz2Uq7qAo4oMhM0ZQ1qGl1vcgvEk3"], "watermark": 1764600000000}},
        {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "read": {"watermark": 1764600001000}},
        {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": 1764600002000,
         "reaction": {"mid": "m_AG5Hz2Uq7qAo4oMhM0ZQ1qGl1vcgvEk3", "action": "react", "reaction": "love", "emoji": "❤"}},
    ]}]}
    # when / then: nothing to store, and no ParseError
    assert parse(json.dumps(body).encode(), account_id=7) == []
