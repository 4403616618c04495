"""Twilio Voice status callbacks through the real Django stack: signature, staging, drain, threading."""
import pytest
from django.core.cache import cache
from twilio.request_validator import RequestValidator

from apps.connectors.models import DeadLetter, InboundPayload
from apps.connectors.services import DRAIN_NUDGE_KEY
from apps.connectors.drain import inbound_drain
from apps.inbox.models import Conversation, Message

from .conftest import AUTH_TOKEN, callback, post_signed

pytestmark = pytest.mark.django_db


def test_request_validator_matches_the_published_test_vector():
    # given Twilio's documented example
    validator = RequestValidator("12345")
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234", "From": "+14158675309", "To": "+18005551212"}
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    # then
    assert validator.compute_signature(url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert validator.validate(url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_a_signed_callback_is_staged_then_drained_into_a_call(client, phone_account):
    # when Twilio posts a signed no-answer callback
    response = post_signed(client, phone_account, callback("CA100", "no-answer"))
    # then it is acknowledged and staged, not yet a message
    assert response.status_code == 204
    assert InboundPayload.objects.filter(channel_account=phone_account, kind="twilio").count() == 1
    # when the worker drains
    counts = inbound_drain()
    # then one call message, and the staging table is empty
    assert (counts.ingested, counts.failed) == (1, 0)
    message = Message.objects.get(channel_account=phone_account)
    assert (message.external_id, message.kind, message.text) == ("twilio:CA100", "call", "Missed inbound call (no-answer)")
    assert message.details["call"]["needs_callback"] is True
    assert not InboundPayload.objects.exists()


@pytest.mark.parametrize("headers", [
    {},  # unsigned
    {"HTTP_X_TWILIO_SIGNATURE": "RSOYDt4T1cUTdK1PDd93/VVr8B8="},  # someone else's signature
])
def test_forged_or_unsigned_callbacks_are_refused_and_nothing_is_kept(client, phone_account, headers):
    # when
    response = client.post(f"/hooks/phone/{phone_account.id}/twilio/status/", callback("CA666"), **headers)
    # then
    assert response.status_code == 403
    assert not InboundPayload.objects.exists() and not DeadLetter.objects.exists() and not Message.objects.exists()


def test_a_callback_signed_with_another_token_or_tampered_is_refused(client, phone_account):
    assert post_signed(client, phone_account, callback("CA1"), token="not-the-token").status_code == 403
    # signed, then a field changed on the way
    fields = callback("CA2")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"http://testserver/hooks/phone/{phone_account.id}/twilio/status/", fields)
    response = client.post(f"/hooks/phone/{phone_account.id}/twilio/status/", {**fields, "CallStatus": "busy"},
                           HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 403
    assert not InboundPayload.objects.exists()


def test_an_account_without_auth_token_refuses_everything(client, make_account):
    from apps.connectors.models import ChannelKind

    bare = make_account(kind=ChannelKind.PHONE)
    assert post_signed(client, bare, callback(), token="").status_code == 403
    assert not InboundPayload.objects.exists()


@pytest.mark.parametrize("status", ["queued", "ringing", "in-progress"])
def test_intermediate_statuses_are_acknowledged_and_not_kept(client, phone_account, status):
    assert post_signed(client, phone_account, callback(status=status)).status_code == 204
    assert not InboundPayload.objects.exists()


def test_behind_a_proxy_public_base_url_is_the_url_that_was_signed(client, phone_account, settings):
    # given Twilio calls https://desk.example.com through a TLS-terminating proxy that talks http to us
    settings.PUBLIC_BASE_URL = "https://desk.example.com"
    fields = callback("CA300", "busy")
    # when signed for the public URL
    response = post_signed(client, phone_account, fields, url_base="https://desk.example.com")
    # then accepted; the URL Django sees (http://testserver) would not have matched
    assert response.status_code == 204
    assert post_signed(client, phone_account, callback("CA301", "busy")).status_code == 403
    assert InboundPayload.objects.count() == 1


def test_behind_a_proxy_the_forwarded_host_and_proto_are_used_only_when_trusted(client, phone_account, settings):
    # given the proxy forwards the public host and scheme
    forwarded = {"HTTP_X_FORWARDED_HOST": "desk.example.com", "HTTP_X_FORWARDED_PROTO": "https"}
    fields = callback("CA400", "failed")
    # when Django does not trust them, the signature over the public URL does not match
    assert post_signed(client, phone_account, fields, url_base="https://desk.example.com", **forwarded).status_code == 403
    # when it does (USE_X_FORWARDED_HOST, TRUST_X_FORWARDED_PROTO)
    settings.USE_X_FORWARDED_HOST = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = ["desk.example.com", "testserver"]
    assert post_signed(client, phone_account, fields, url_base="https://desk.example.com", **forwarded).status_code == 204
    assert InboundPayload.objects.count() == 1


def test_a_disabled_account_or_another_kind_is_refused(client, phone_account, make_account):
    other = make_account(secrets={"auth_token": AUTH_TOKEN})  # an API account: answered as a bad signature (no id oracle)
    assert post_signed(client, other, callback()).status_code == 403
    phone_account.enabled = False
    phone_account.save()
    assert post_signed(client, phone_account, callback()).status_code == 403
    assert not InboundPayload.objects.exists()


def test_redelivered_callbacks_make_one_message(client, phone_account):
    for _ in range(2):
        assert post_signed(client, phone_account, callback("CA500", "completed", duration=30)).status_code == 204
    counts = inbound_drain()
    assert (counts.ingested, counts.duplicates) == (1, 1)


def test_a_missed_call_waits_until_the_call_back_is_answered(client, phone_account):
    # given a missed inbound call
    post_signed(client, phone_account, callback("CA600", "no-answer", timestamp="Fri, 20 Nov 2026 09:00:00 +0000"))
    inbound_drain()
    conversation = Conversation.objects.get()
    assert (conversation.status, conversation.waiting_since.isoformat()) == ("open", "2026-11-20T09:00:00+00:00")
    # when the agent's first call-back is not answered
    post_signed(client, phone_account, callback("CA601", "no-answer", "outbound-api", timestamp="Fri, 20 Nov 2026 09:10:00 +0000"))
    inbound_drain()
    conversation.refresh_from_db()
    # then the customer still waits, on the same clock
    assert (conversation.waiting_since.isoformat(), conversation.first_response_at, conversation.message_count) == (
        "2026-11-20T09:00:00+00:00", None, 2
    )
    # when the second call-back is answered
    post_signed(client, phone_account, callback("CA602", "completed", "outbound-api", timestamp="Fri, 20 Nov 2026 09:25:00 +0000", duration=240))
    inbound_drain()
    conversation.refresh_from_db()
    # then it answered the customer: the clock stops, first response stamped at the call's start
    assert (conversation.waiting_since, conversation.first_response_at.isoformat()) == (None, "2026-11-20T09:21:00+00:00")
    assert list(conversation.messages.order_by("sent_at").values_list("direction", flat=True)) == ["in", "out", "out"]
    assert Conversation.objects.count() == 1


def test_an_answered_call_joins_the_open_conversation_and_alone_opens_no_work(client, phone_account):
    # given an answered call with nothing open: kept, resolved (nothing to do)
    post_signed(client, phone_account, callback("CA700", "completed", duration=60, timestamp="Fri, 20 Nov 2026 08:00:00 +0000"))
    inbound_drain()
    assert list(Conversation.objects.values_list("status", "waiting_since")) == [("resolved", None)]
    # when a missed call, then an answered one from the same person
    post_signed(client, phone_account, callback("CA701", "busy", timestamp="Fri, 20 Nov 2026 09:00:00 +0000"))
    post_signed(client, phone_account, callback("CA702", "completed", duration=60, timestamp="Fri, 20 Nov 2026 09:30:00 +0000"))
    inbound_drain()
    # then the answered call joined the open conversation of the missed one
    open_one = Conversation.objects.get(status="open")
    assert open_one.messages.count() == 2 and Conversation.objects.count() == 2


def test_a_callback_signed_with_hmac_sha256_and_its_settings_header_is_accepted(client, phone_account):
    # given Twilio's newer signing: X-Twilio-Webhooks-Signature-Settings names the algorithm
    fields = callback("CA800", "busy")
    path = f"/hooks/phone/{phone_account.id}/twilio/status/"
    signature = RequestValidator(AUTH_TOKEN).compute_signature("http://testserver" + path, fields, algorithm="HMAC_SHA256")
    settings_header = "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"
    # then accepted with the header, refused without it (the SHA-1 check does not match)
    assert client.post(path, fields, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 403
    assert client.post(path, fields, HTTP_X_TWILIO_SIGNATURE=signature,
                       HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS=settings_header).status_code == 204
    assert InboundPayload.objects.count() == 1


def test_an_oversize_body_is_refused_unread_and_not_kept(client, phone_account, settings):
    settings.INBOUND_MAX_PAYLOAD_BYTES = 2000
    response = post_signed(client, phone_account, callback("CA900", "busy", Padding="x" * 3000))
    assert response.status_code == 413
    assert not InboundPayload.objects.exists() and not DeadLetter.objects.exists()


def test_a_get_is_not_a_callback(client, phone_account):
    assert client.get(f"/hooks/phone/{phone_account.id}/twilio/status/").status_code == 405


def test_the_commit_of_a_staged_callback_nudges_the_drain_task(client, phone_account, eager_celery, django_capture_on_commit_callbacks):
    # given no drain queued and not yet started (an earlier test may have queued one nobody took)
    cache.delete(DRAIN_NUDGE_KEY)
    # when Twilio posts and the request's transaction commits (tasks run in-process here)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(client, phone_account, callback("CA950", "canceled")).status_code == 204
    # then the drain task already turned it into a call
    assert not InboundPayload.objects.exists()
    assert Message.objects.get().details["call"]["status"] == "canceled"
