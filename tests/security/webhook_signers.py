"""How each provider signs a delivery, for tests/security/test_webhook_signatures.py.

One Signer per webhook route of the channel registry (apps/connectors/*/channel.py `webhooks`).
The suite fails for a webhook route of any channel that has no Signer here and is not declared a
public page in PUBLIC_PAGES, so a new channel's webhook is covered the day it is added.

A Signer knows the provider's scheme only (as the provider's own documentation states it,
PROVIDERS.md; test_the_signers_reproduce_the_providers_published_vectors proves each against
the published vectors): it makes the account (with its secret), a realistic delivery carrying ONE
new message, and signs any request with any secret.
"""
import base64
import hashlib
import hmac
import itertools
import json
from dataclasses import dataclass
from typing import Callable

from twilio.request_validator import RequestValidator

from apps.connectors.models import ChannelAccount, ChannelKind

_ids = itertools.count(1)
X_USER_ID = "1400000000000000001"
PAGE_ID = "104857600123456"


@dataclass
class Delivery:
    path: str
    body: bytes
    content_type: str
    headers: dict  # Django test-client style: HTTP_X_...
    url_base: str = "http://testserver"


@dataclass(frozen=True)
class Signer:
    make_account: Callable[[int], ChannelAccount]  # (n) -> an account holding `secret`
    secret: str
    delivery: Callable[[ChannelAccount, int], Delivery]  # (account, n) -> an unsigned delivery of one message
    sign: Callable[[Delivery, str], dict]  # (delivery, secret) -> the headers carrying the signature
    binds_body: bool = True  # False: a bearer token, not a signature of the bytes (tampering is not its job)
    # GET queries that answer with something computed from a secret (a challenge-response):
    # the suite asks them to "sign" a forged body and proves the answer is refused as a signature.
    oracle: Callable[[ChannelAccount, bytes], dict] | None = None
    # For a provider that signs a timestamp (none of today's four: X and Facebook sign the body,
    # Twilio the URL and fields, the API channel is a bearer token): (delivery) -> the same
    # delivery stamped outside the provider's replay window. The suite then expects a refusal.
    stale: Callable[[Delivery], Delivery] | None = None


def x_signature(raw: bytes, secret: str) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def _x_delivery(account, n) -> Delivery:
    tweet_id = str(1861000000000000000 + n)
    body = {"for_user_id": X_USER_ID, "tweet_create_events": [{
        "created_at": "Mon Nov 23 11:00:00 +0000 2026", "id": int(tweet_id), "id_str": tweet_id,
        "text": f"@TiendaSoporte mi pedido {n} no ha llegado",
        "user": {"id": 1500000000000000000 + n, "id_str": str(1500000000000000000 + n), "name": "Lucía", "screen_name": f"lucia{n}"},
    }]}
    return Delivery(f"/hooks/twitter/{account.id}/", json.dumps(body).encode(), "application/json", {})


def _x_oracle(account, raw: bytes) -> dict:
    """X's CRC: GET ?crc_token=T answers HMAC(consumer secret, T), the very construction of a POST signature."""
    from django.test import Client

    response = Client().get(f"/hooks/twitter/{account.id}/", {"crc_token": raw.decode("latin1")})
    token = response.json().get("response_token", "") if response.status_code == 200 else ""
    return {"HTTP_X_TWITTER_WEBHOOKS_SIGNATURE": token}


def _facebook_delivery(account, n) -> Delivery:
    body = {"object": "page", "entry": [{"id": PAGE_ID, "time": 1795428000123, "messaging": [{
        "sender": {"id": str(7481023395500000 + n)}, "recipient": {"id": PAGE_ID}, "timestamp": 1795428000000,
        "message": {"mid": f"m_signed_{n}", "text": "Hola, mi pedido llegó roto"}}]}]}
    return Delivery(f"/hooks/facebook/{account.id}/", json.dumps(body).encode(), "application/json", {})


def _facebook_oracle(account, raw: bytes) -> dict:
    """The verify handshake echoes hub.challenge, but only to a caller who knows the verify token."""
    from django.test import Client

    response = Client().get(f"/hooks/facebook/{account.id}/", {"hub.mode": "subscribe", "hub.verify_token": "guess",
                                                                "hub.challenge": raw.decode("latin1")})
    return {"HTTP_X_HUB_SIGNATURE_256": "sha256=" + response.content.decode("latin1")}


def _twilio_fields(n) -> dict:
    return {"CallSid": f"CAsigned{n:06d}", "AccountSid": "AC0001", "From": f"+3460011{n:04d}", "To": "+34910000000",
            "Caller": f"+3460011{n:04d}", "Called": "+34910000000", "CallStatus": "completed", "Direction": "inbound",
            "CallDuration": "42", "Timestamp": "Fri, 20 Nov 2026 09:04:12 +0000"}


def _twilio_delivery(account, n) -> Delivery:
    from urllib.parse import urlencode

    return Delivery(f"/hooks/phone/{account.id}/twilio/status/", urlencode(_twilio_fields(n)).encode(),
                    "application/x-www-form-urlencoded", {})


def _twilio_sign(delivery: Delivery, secret: str) -> dict:
    from urllib.parse import parse_qsl

    fields = dict(parse_qsl(delivery.body.decode()))
    return {"HTTP_X_TWILIO_SIGNATURE": RequestValidator(secret).compute_signature(delivery.url_base + delivery.path, fields)}


def _api_account(n) -> ChannelAccount:
    account = ChannelAccount.objects.create(kind=ChannelKind.PUSH, name=f"signed API {n}")
    account.inbound_token_hash = ChannelAccount.hash_token(SIGNERS_API_TOKEN)
    account.save(update_fields=["inbound_token_hash"])
    return account


SIGNERS_API_TOKEN = "ct_signed_suite_token_0123456789"


def _api_delivery(account, n) -> Delivery:
    body = {"external_id": f"signed-{n}", "sender": {"email": f"cliente{n}@example.com"}, "text": "¿Dónde está mi pedido?"}
    return Delivery(f"/api/inbound/{account.id}/", json.dumps(body).encode(), "application/json", {})


SIGNERS: dict[str, Signer] = {
    "api-inbound": Signer(
        make_account=_api_account, secret=SIGNERS_API_TOKEN, delivery=_api_delivery,
        sign=lambda d, secret: {"HTTP_AUTHORIZATION": f"Bearer {secret}"}, binds_body=False,
    ),
    "twitter-webhook": Signer(
        make_account=lambda n: ChannelAccount.objects.create(
            kind=ChannelKind.TWITTER, name=f"@signed{n}", settings={"user_id": X_USER_ID},
            secrets={"consumer_secret": "z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu"}),
        secret="z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu",
        delivery=_x_delivery,
        sign=lambda d, secret: {"HTTP_X_TWITTER_WEBHOOKS_SIGNATURE": x_signature(d.body, secret)},
        oracle=_x_oracle,
    ),
    "facebook-webhook": Signer(
        make_account=lambda n: ChannelAccount.objects.create(
            kind=ChannelKind.FACEBOOK, name=f"Page {n}", settings={"page_id": PAGE_ID},
            secrets={"app_secret": "3f5c0a9d8e7b6a5f4e3d2c1b0a998877", "verify_token": "centralita-verify-7b1e"}),
        secret="3f5c0a9d8e7b6a5f4e3d2c1b0a998877",
        delivery=_facebook_delivery,
        sign=lambda d, secret: {"HTTP_X_HUB_SIGNATURE_256": "sha256=" + hmac.new(secret.encode(), d.body, hashlib.sha256).hexdigest()},
        oracle=_facebook_oracle,
    ),
    "phone-twilio-status": Signer(
        make_account=lambda n: ChannelAccount.objects.create(
            kind=ChannelKind.PHONE, name=f"Twilio {n}", secrets={"auth_token": "12345"}, settings={"phone_number": "+34910000000"}),
        secret="12345",
        delivery=_twilio_delivery,
        sign=_twilio_sign,
    ),
}

# Routes a channel mounts that no provider calls: public pages with their own protection.
PUBLIC_PAGES = {
    "webform:form": "the public contact form: Django's CSRF token, a per-address rate limit, allowed embedding origins",
    "webform:thanks": "the form's thank-you page: no input",
}
