"""Replies on the API channel: POST the message as JSON to the account's outbound_url.

The receiver checks X-Centralita-Signature: sha256=<hex HMAC-SHA256(outbound_secret, raw body)>.
A 2xx answer may carry {"external_id": "..."} (or "id"): the provider's id for the message.
"""
import hashlib
import hmac
import json

import requests

from apps.connectors.services import channel_account_record_failure
from apps.inbox.channels import PermanentSendError, TemporarySendError

TIMEOUT = (5, 20)  # connect, read (seconds)


def send(*, message, account) -> str | None:
    url = (account.settings or {}).get("outbound_url")
    if not url:
        raise PermanentSendError("this API channel has no outbound_url to send replies to")
    secret = (account.secrets or {}).get("outbound_secret")
    if not secret:
        raise PermanentSendError("this API channel has no outbound_secret to sign replies with")
    body = json.dumps(_payload(message), separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Centralita",
        "X-Centralita-Signature": "sha256=" + signature(secret, body),
    }
    try:
        response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    except (requests.Timeout, requests.ConnectionError) as exc:
        _unhealthy(account, f"reply to {url}: {exc.__class__.__name__}")
        raise TemporarySendError(f"{url}: {exc.__class__.__name__}") from exc
    except requests.RequestException as exc:  # malformed URL and the like: fixing needs an admin
        raise PermanentSendError(f"{url}: {exc}") from exc
    if response.status_code in (401, 403) or response.status_code >= 500:
        # The receiver is down or refuses our signature: every reply will fail, the account's health says so.
        _unhealthy(account, f"reply to {url}: HTTP {response.status_code}")
    if response.status_code == 429 or response.status_code >= 500:
        raise TemporarySendError(f"HTTP {response.status_code} from {url}", retry_after=_retry_after(response))
    if not 200 <= response.status_code < 300:
        raise PermanentSendError(f"HTTP {response.status_code} from {url}: {response.text[:300]}")
    return _external_id(response)


def _unhealthy(account, error: str) -> None:
    channel_account_record_failure(account=account, error=error)


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _payload(message) -> dict:
    conversation = message.conversation
    in_reply_to = (
        conversation.messages.filter(direction="in", external_id__isnull=False)
        .order_by("-sent_at", "-id")
        .values_list("external_id", flat=True)
        .first()
    )
    customer = message.customer
    return {
        "message_id": message.id,
        "conversation_id": conversation.id,
        "thread_key": conversation.thread_key,
        "in_reply_to": in_reply_to,
        "customer": {
            "id": customer.id,
            "display_name": customer.display_name,
            "identities": [{"kind": k, "value": v} for k, v in customer.identities.values_list("kind", "value")],
        },
        "author": message.author.username if message.author else None,
        "subject": message.subject,
        "text": message.text,
        "public": message.is_public,
        "sent_at": message.sent_at.isoformat(),
    }


def _retry_after(response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None  # an HTTP-date or nothing: the task's own backoff applies


def _external_id(response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    if isinstance(data, dict):
        value = data.get("external_id") or data.get("id")
        return str(value) if value not in (None, "") else None
    return None


class PingFailed(Exception):
    pass


def ping(*, account) -> str:
    """The admin's connection test: POST {"type": "ping"} signed like a reply; any 2xx passes.
    Receivers tell a ping from a reply by its "type" (docs/admin-channels.md)."""
    url = (account.settings or {}).get("outbound_url")
    if not url:
        return "Inbound only (no outbound URL): nothing to call; POST a message to the inbound URL with the token"
    secret = (account.secrets or {}).get("outbound_secret")
    if not secret:
        raise PingFailed("set the outbound secret first: replies are signed with it")
    body = json.dumps({"type": "ping"}, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Centralita",
               "X-Centralita-Signature": "sha256=" + signature(secret, body)}
    response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    if not 200 <= response.status_code < 300:
        raise PingFailed(f"{url} answered HTTP {response.status_code}: {response.text[:200]}")
    return f"{url} answered HTTP {response.status_code} to a signed ping"
