"""/hooks/facebook/<account>/: verify handshake, X-Hub-Signature-256, staging, drain; `manage.py ingest facebook`."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from apps.connectors.models import DeadLetter, InboundPayload
from apps.connectors.drain import inbound_drain
from apps.inbox.models import Conversation, Message

from .conftest import APP_SECRET, FIXTURES, VERIFY_TOKEN, fixture_bytes, sign

pytestmark = pytest.mark.django_db


def url(account) -> str:
    return f"/hooks/facebook/{account.id}/"


def post(account, raw: bytes, signature: str | None):
    headers = {"HTTP_X_HUB_SIGNATURE_256": signature} if signature is not None else {}
    return Client().post(url(account), data=raw, content_type="application/json", **headers)


def test_verify_handshake_answers_the_challenge_only_for_our_token(fb_account):
    # when
    good = Client().get(url(fb_account), {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    wrong = Client().get(url(fb_account), {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"})
    no_mode = Client().get(url(fb_account), {"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    # then
    assert (good.status_code, good.content) == (200, b"1158201444")
    assert (wrong.status_code, no_mode.status_code) == (403, 403)


def test_signed_posts_are_staged_then_drained_into_messenger_and_comment_conversations(fb_account):
    # given
    messenger, comments = fixture_bytes("messenger_message.json"), fixture_bytes("comment_add.json")
    # when
    responses = [post(fb_account, raw, sign(raw)) for raw in (messenger, comments)]
    staged = InboundPayload.objects.count()
    counts = inbound_drain()
    # then: staged first (nothing parsed in the request), then one conversation per thread
    assert [r.status_code for r in responses] == [200, 200]
    # (the body's read receipt also marks the page's own earlier message read: "updated 1")
    assert (staged, counts.summary()) == (2, "ingested 6 · duplicates 0 · failed 0 · updated 1")
    chat = Conversation.objects.get(thread_key="psid:7481023395512345")
    thread = Conversation.objects.get(thread_key="post:104857600123456_889900112233:889900112233_4001")
    assert (chat.is_public, chat.message_count, chat.team_id) == (False, 4, fb_account.team_id)
    assert list(chat.messages.order_by("sent_at").values_list("direction", flat=True)) == ["in", "in", "out", "in"]
    assert (thread.is_public, thread.message_count) == (True, 2)
    # a public complaint starts at a higher priority than the private question
    assert thread.priority > chat.priority
    assert Message.objects.get(external_id="comment:889900112233_4001").details["facebook"]["can_hide"] is True
    # the email written in the Messenger text is an identity of the same customer
    assert set(chat.customer.identities.values_list("kind", "value")) == {
        ("facebook", "7481023395512345"), ("email", "lucia.fernandez@example.com"),
    }


def test_the_same_body_delivered_twice_is_stored_once(fb_account):
    raw = fixture_bytes("comment_add.json")
    post(fb_account, raw, sign(raw))
    post(fb_account, raw, sign(raw))
    # when
    counts = inbound_drain()
    # then
    assert (counts.ingested, counts.duplicates, Message.objects.count()) == (2, 2, 2)


@pytest.mark.parametrize("signature", [
    None,  # unsigned
    "sha256=" + "0" * 64,  # forged
    sign(b"another body"),  # a real signature of something else
    sign(fixture_bytes("comment_add.json"), secret="not-the-app-secret"),
    "sha1=" + "a" * 40,  # the old header's scheme in the new header
])
def test_forged_or_unsigned_posts_are_refused_and_nothing_is_stored(fb_account, signature):
    # given
    raw = fixture_bytes("comment_add.json")
    before = (InboundPayload.objects.count(), Message.objects.count(), DeadLetter.objects.count())
    # when
    response = post(fb_account, raw, signature)
    inbound_drain()
    # then
    assert response.status_code == 403
    assert (InboundPayload.objects.count(), Message.objects.count(), DeadLetter.objects.count()) == before == (0, 0, 0)


def test_unknown_account_is_answered_as_a_bad_signature_and_an_account_without_secret_refuses_everything(fb_account, make_account):
    # given
    no_secret = make_account(kind="facebook", settings={"page_id": "1"}, secrets={"verify_token": ""})
    raw = fixture_bytes("comment_add.json")
    # then
    assert Client().post("/hooks/facebook/999999/", data=raw, content_type="application/json", headers={"X-Hub-Signature-256": sign(raw)}).status_code == 403
    assert Client().get("/hooks/facebook/999999/", {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}).status_code == 403
    assert post(no_secret, raw, sign(raw, secret="")).status_code == 403
    assert Client().get(url(no_secret), {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}).status_code == 403
    assert InboundPayload.objects.count() == 0


def test_a_signed_body_that_cannot_be_parsed_becomes_a_dead_letter(fb_account):
    raw = b'{"object": "page", "entry": "oops"}'
    # when
    response = post(fb_account, raw, sign(raw))
    counts = inbound_drain()
    # then
    assert (response.status_code, counts.failed) == (200, 1)
    dead = DeadLetter.objects.get()
    assert (dead.kind, dead.source, bytes(dead.raw)) == ("facebook", "webhook", raw)
    assert "entry list" in dead.error


def test_manage_py_ingest_facebook_replays_bodies(fb_account, tmp_path):
    # given: one body per file, and a JSON-lines file of two bodies
    lines = tmp_path / "replay.ndjson"
    lines.write_bytes(fixture_bytes("comment_add.json").replace(b"\n", b"") + b"\n"
                      + fixture_bytes("comment_moderation.json").replace(b"\n", b"") + b"\n")
    files = [str(FIXTURES / "messenger_message.json"), str(lines)]

    def ingest():
        out = StringIO()
        call_command("ingest", "facebook", *files, "--account", str(fb_account.id), "--no-progress", stdout=out, stderr=StringIO())
        return out.getvalue().strip().splitlines()[-1]

    # when
    first, second = ingest(), ingest()
    # then: the edit of a stored comment is a duplicate, a second run only duplicates
    # the read receipt marks the page's echo read once and the moderation body hides the comment it
    # names (replay applies it as the webhook's drain does); a second run changes nothing
    assert first == "ingested 6 · duplicates 1 · failed 0 · updated 2"
    assert second == "ingested 0 · duplicates 7 · failed 0"
    assert Message.objects.get(external_id="mid:m_echo_from_page_5512").delivery_status == "read"
    assert Message.objects.filter(channel_account=fb_account).count() == 6


def test_signature_helper_matches_the_documented_scheme():
    # sha256= + hex HMAC-SHA256(app secret, raw body): recomputed here with hashlib by hand
    import hashlib
    import hmac

    from apps.connectors.facebook.views import signature_ok

    raw = b'{"object":"page","entry":[]}'
    header = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert signature_ok(raw, header, APP_SECRET)
    assert signature_ok(raw, header.upper().replace("SHA256=", "sha256="), APP_SECRET)
    assert not signature_ok(raw + b" ", header, APP_SECRET)
