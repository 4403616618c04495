"""Signatures on every webhook of the channel registry: forged, missing, tampered, replayed,
oracle-assisted and probing deliveries refused with nothing stored; the providers' own vectors
and correctly signed deliveries accepted, a replay ingested once.

Driven by apps/connectors/registry.py: every URL a channel mounts (channel.py `webhooks`) must
have a Signer (tests/security/webhook_signers.py) or be declared a public page, so a new
channel's webhook is covered by this suite the day it is registered."""
import base64
import hashlib
import hmac
import itertools

import pytest
from django.test import Client
from django.urls import URLResolver
from twilio.request_validator import RequestValidator

from apps.connectors.drain import inbound_drain
from apps.connectors.models import DeadLetter, InboundPayload
from apps.connectors.registry import CHANNELS
from apps.connectors.twitter.views import crc_response
from apps.inbox.models import Message

from .webhook_signers import PUBLIC_PAGES, SIGNERS, Delivery

pytestmark = pytest.mark.django_db
_n = itertools.count(1)


def _route_names(patterns, namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _route_names(entry.url_patterns, entry.namespace or namespace)
        else:
            yield f"{namespace}:{entry.name}" if namespace else entry.name


def webhook_routes() -> list[tuple[str, str]]:
    """(channel kind, URL name) of every route each registered channel mounts."""
    routes = []
    for channel in CHANNELS.values():
        for _prefix, module in channel.webhooks:
            namespace = getattr(module, "app_name", "")
            routes += [(channel.kind, name) for name in _route_names(module.urlpatterns, namespace)]
    return routes


SIGNED_ROUTES = [name for _, name in webhook_routes() if name not in PUBLIC_PAGES]


def test_every_webhook_of_every_channel_has_a_signer_or_is_a_declared_public_page():
    routes = webhook_routes()
    assert routes, "the registry mounts no webhook at all?"
    uncovered = [f"{kind}: {name}" for kind, name in routes if name not in SIGNERS and name not in PUBLIC_PAGES]
    assert not uncovered, (
        f"webhooks without a Signer: {uncovered}. Add one to tests/security/webhook_signers.py (how the provider "
        "signs a delivery), or declare the route in PUBLIC_PAGES with what protects it."
    )
    known = {name for _, name in routes}
    assert not (set(SIGNERS) | set(PUBLIC_PAGES)) - known, "signers for routes no channel mounts any more"


def test_the_signers_reproduce_the_providers_published_vectors():
    # X (PROVIDERS.md): HMAC-SHA256(consumer secret, crc_token), base64, the POST signature's construction
    vector = "sha256=Cytd4Sq+NvEcV3MMrXxWJGJx5A+y/lXzzU2Maartkx8="
    x = SIGNERS["twitter-webhook"]
    token = b"9b4507b3-9040-4669-9ca3-6b94edb50553"
    assert x.sign(Delivery("/", token, "", {}), x.secret) == {"HTTP_X_TWITTER_WEBHOOKS_SIGNATURE": vector}
    assert crc_response(token.decode(), x.secret) == vector  # and the view answers X's challenge with it
    # Twilio (PROVIDERS.md): base64 HMAC-SHA1(auth token, URL + sorted name+value pairs)
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234", "From": "+14158675309",
              "To": "+18005551212"}
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert RequestValidator("12345").compute_signature(url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    twilio = SIGNERS["phone-twilio-status"]
    from urllib.parse import urlencode

    delivery = Delivery("/myapp.php?foo=1&bar=2", urlencode(params).encode(), "", {}, url_base="https://mycompany.com")
    assert twilio.sign(delivery, "12345") == {"HTTP_X_TWILIO_SIGNATURE": "RSOYDt4T1cUTdK1PDd93/VVr8B8="}
    # Facebook (PROVIDERS.md gives no vector): "sha256=" + hex HMAC-SHA256(app secret, raw body)
    fb = SIGNERS["facebook-webhook"]
    expected = "sha256=" + hmac.new(b"3f5c0a9d8e7b6a5f4e3d2c1b0a998877", b"{}", hashlib.sha256).hexdigest()
    assert fb.sign(Delivery("/", b"{}", "", {}), fb.secret) == {"HTTP_X_HUB_SIGNATURE_256": expected}
    assert base64  # (kept for symmetry with the signers' own imports)


def _post(delivery: Delivery, headers: dict):
    return Client().post(delivery.path, data=delivery.body, content_type=delivery.content_type, **headers)


def _stored() -> tuple[int, int, int]:
    return InboundPayload.objects.count(), DeadLetter.objects.count(), Message.objects.count()


def _setup(name):
    signer = SIGNERS[name]
    n = next(_n)
    account = signer.make_account(n)
    return signer, account, signer.delivery(account, n)


@pytest.mark.parametrize("name", SIGNED_ROUTES)
def test_a_correctly_signed_delivery_is_accepted_and_a_replay_adds_nothing(name):
    signer, account, delivery = _setup(name)
    headers = signer.sign(delivery, signer.secret)
    # when the provider delivers it, then delivers it again (a retry, or someone replaying a captured request)
    first, replay = _post(delivery, headers), _post(delivery, headers)
    # then both are acknowledged (a provider retries on an error), and the drain makes ONE message of them
    assert 200 <= first.status_code < 300 and 200 <= replay.status_code < 300, (first.content, replay.content)
    inbound_drain()
    assert Message.objects.filter(channel_account=account).count() == 1
    assert not DeadLetter.objects.exists()
    if signer.stale is not None:  # a provider with a signed timestamp: an old one is refused
        stale = signer.stale(delivery)
        assert _post(stale, signer.sign(stale, signer.secret)).status_code in (400, 401, 403)


FORGERIES = {
    "missing": lambda signer, d: {},
    "wrong secret": lambda signer, d: signer.sign(d, signer.secret[::-1] + "x"),
    "empty": lambda signer, d: {k: "" for k in signer.sign(d, signer.secret)},
    "garbage": lambda signer, d: {k: "sha256=" + "0" * 64 for k in signer.sign(d, signer.secret)},
}


@pytest.mark.parametrize("forgery", FORGERIES)
@pytest.mark.parametrize("name", SIGNED_ROUTES)
def test_a_forged_or_missing_signature_is_refused_and_nothing_is_stored(name, forgery):
    signer, account, delivery = _setup(name)
    before = _stored()
    response = _post(delivery, FORGERIES[forgery](signer, delivery))
    assert response.status_code in (401, 403), (response.status_code, response.content)
    inbound_drain()
    assert _stored() == before


@pytest.mark.parametrize("name", [n for n in SIGNED_ROUTES if SIGNERS[n].binds_body])
def test_a_body_changed_after_signing_is_refused_and_nothing_is_stored(name):
    signer, account, delivery = _setup(name)
    headers = signer.sign(delivery, signer.secret)
    tampered = Delivery(delivery.path, delivery.body.replace(b"pedido", b"PEDIDO").replace(b"42", b"43"),
                        delivery.content_type, {})
    assert tampered.body != delivery.body
    before = _stored()
    assert _post(tampered, headers).status_code in (401, 403)
    assert _stored() == before


@pytest.mark.parametrize("name", SIGNED_ROUTES)
def test_an_unknown_account_is_answered_exactly_as_a_bad_signature(name):
    # given a caller holding a valid secret of SOME account, probing ids
    signer, account, delivery = _setup(name)
    missing_id = account.id + 100_000
    probe = Delivery(delivery.path.replace(f"/{account.id}/", f"/{missing_id}/"), delivery.body, delivery.content_type, {})
    unknown = _post(probe, signer.sign(probe, signer.secret))
    forged = _post(delivery, signer.sign(delivery, "not-the-secret"))
    # then nothing tells an unknown id from a known one
    assert (unknown.status_code, unknown.content) == (forged.status_code, forged.content)
    assert unknown.status_code in (401, 403)


@pytest.mark.parametrize("name", [n for n in SIGNED_ROUTES if SIGNERS[n].oracle])
def test_a_challenge_answer_cannot_sign_a_forged_delivery(name):
    # given an attacker who has the webhook's GET handshake "sign" the body they mean to post
    signer, account, delivery = _setup(name)
    headers = signer.oracle(account, delivery.body)
    before = _stored()
    # when they post that body with the handshake's answer as its signature
    response = _post(delivery, headers)
    # then it is refused and nothing is stored
    assert response.status_code in (400, 401, 403), (response.status_code, response.content)
    inbound_drain()
    assert _stored() == before
