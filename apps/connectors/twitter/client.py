"""The X API v2 through tweepy.Client, and nothing else.

A twitter ChannelAccount holds
    settings: user_id, username — the connected account (filled in from GET /2/users/me on the
              first poll when missing); poll_dms (default true); max_pages (default 10)
    secrets:  consumer_key, consumer_secret, access_token, access_token_secret — OAuth 1.0a user
              context (mentions, DMs, replies); or bearer_token — an OAuth 2.0 user access token
              with tweet.read tweet.write users.read dm.read dm.write. consumer_secret also signs
              the Account Activity webhook (CRC and x-twitter-webhooks-signature).
    cursor:   mentions_since_id, dm_newest_id (written by services.twitter_account_poll)

Reads return the bytes X sent (return_type=requests.Response): the poller stores X's own body
(plus "for_user_id"), so a dead letter is what `manage.py ingest twitter` can replay.
tweepy never sleeps on a rate limit here (wait_on_rate_limit=False): TooManyRequests reaches
the caller, which pauses the account until the reset time.
"""
import json
from collections.abc import Callable

import requests
import tweepy
from requests.adapters import HTTPAdapter

from apps.core.parsing import json_parse

API_HOST = "https://api.twitter.com"  # fixed inside tweepy's BaseClient.request
TIMEOUT = 30  # seconds: tweepy passes none, and a hung connection must not hold a worker
MAX_RESULTS = 100
TWEET_FIELDS = ["created_at", "conversation_id", "in_reply_to_user_id", "author_id", "referenced_tweets", "note_tweet"]
USER_FIELDS = ["username", "name"]
DM_EVENT_FIELDS = ["id", "text", "event_type", "created_at", "sender_id", "dm_conversation_id", "participant_ids"]

# Called with each new client's requests.Session: the tests mount a transport adapter that
# sends API_HOST to a loopback server; a deployment could mount a proxy the same way.
SESSION_HOOKS: list[Callable[[requests.Session], None]] = []


class _DefaultTimeout(HTTPAdapter):
    def send(self, request, **kwargs):
        kwargs["timeout"] = kwargs.get("timeout") or TIMEOUT
        return super().send(request, **kwargs)


RECONNECT = "reconnect the account: put a new access token (and secret) in its secrets in the admin"


class CredentialsMissing(Exception):
    pass


class XApi:
    """The few calls Centralita makes; reads return (raw bytes, decoded body)."""

    def __init__(self, *, secrets: dict):
        secrets = secrets or {}
        oauth1 = [secrets.get(k) for k in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")]
        self.user_auth = all(oauth1)
        if not self.user_auth and not secrets.get("bearer_token"):
            raise CredentialsMissing(
                "no credentials: set consumer_key, consumer_secret, access_token and access_token_secret "
                "(OAuth 1.0a) or a user bearer_token (OAuth 2.0) in the account's secrets"
            )
        self.client = tweepy.Client(
            bearer_token=secrets.get("bearer_token"),
            consumer_key=secrets.get("consumer_key"),
            consumer_secret=secrets.get("consumer_secret"),
            access_token=secrets.get("access_token"),
            access_token_secret=secrets.get("access_token_secret"),
            return_type=requests.Response,
            wait_on_rate_limit=False,
        )
        self.client.session.mount("https://", _DefaultTimeout())
        for hook in SESSION_HOOKS:
            hook(self.client.session)

    def me(self) -> dict:
        _, body = _read(self.client.get_me(user_auth=self.user_auth, user_fields=USER_FIELDS))
        return body.get("data") or {}

    def mentions(self, *, user_id: str, since_id: str | None, pagination_token: str | None) -> tuple[bytes, dict]:
        return _read(self.client.get_users_mentions(
            user_id, user_auth=self.user_auth, since_id=since_id, pagination_token=pagination_token,
            max_results=MAX_RESULTS, expansions=["author_id", "referenced_tweets.id"],
            tweet_fields=TWEET_FIELDS, user_fields=USER_FIELDS,
        ))

    def dm_events(self, *, pagination_token: str | None) -> tuple[bytes, dict]:
        return _read(self.client.get_direct_message_events(
            user_auth=self.user_auth, pagination_token=pagination_token, max_results=MAX_RESULTS,
            event_types=["MessageCreate"], expansions=["sender_id"], dm_event_fields=DM_EVENT_FIELDS,
            user_fields=USER_FIELDS,
        ))

    def tweet(self, *, text: str, in_reply_to_tweet_id: str | None) -> str:
        _, body = _read(self.client.create_tweet(text=text, in_reply_to_tweet_id=in_reply_to_tweet_id, user_auth=self.user_auth))
        return str(body["data"]["id"])

    def direct_message(self, *, text: str, participant_id: str | None = None, dm_conversation_id: str | None = None) -> str:
        response = self.client.create_direct_message(
            text=text, participant_id=participant_id, dm_conversation_id=dm_conversation_id, user_auth=self.user_auth
        )
        _, body = _read(response)
        return str(body["data"]["dm_event_id"])


def _read(response: requests.Response) -> tuple[bytes, dict]:
    raw = response.content
    try:
        body = json_parse(raw) if raw else {}
    except json.JSONDecodeError as exc:
        raise BadBody(f"X answered {response.status_code} with a body that is not JSON") from exc
    return raw, body if isinstance(body, dict) else {}


class BadBody(Exception):
    pass


def error_text(exc: tweepy.HTTPException) -> str:
    """What X said (status, then its messages), for the account's health and the agent."""
    response = exc.response
    status = getattr(response, "status_code", "?")
    details = "; ".join(str(m) for m in exc.api_messages) or getattr(response, "reason", "") or str(exc)
    return f"X API {status}: {details}"
