"""Twitter / X bodies -> InboundMessage (pure: no database, no network).

Accepted bodies (one JSON object each):
  * API v2 responses: mentions timeline (GET /2/users/:id/mentions), tweet lookup
    (GET /2/tweets, /2/tweets/:id) and DM events (GET /2/dm_events): {"data", "includes",
    "errors", "meta"}. Tweets and DM events may be mixed; an event_type marks a DM event.
  * Account Activity webhook bodies: {"for_user_id", "tweet_create_events": [v1.1 tweets],
    "direct_message_events": [v1.1 message_create events], "users": {...}}; other events
    (favorites, follows, typing, …) carry no message and are skipped.
The account's own user id comes from "for_user_id" (the webhook sends it; the poller stamps
it on the API bodies it fetches). Without it nothing can be told apart as our own echo, so
every message counts as inbound — add it to a hand-made import file.

Threads: a tweet and the replies in its thread share thread_key "tweet:<conversation_id>"; a
DM conversation is "dm:<dm_conversation_id>" (a one-to-one one is "<lower id>-<higher id>",
computed from sender and recipient for webhook DMs, which do not carry it). v1.1 webhook tweets
have no conversation_id: the tweet they reply to is used (as reference and best-guess key).
Retweets are not messages to the brand and are skipped.
"""
import html
from datetime import datetime, timezone

from django.utils.dateparse import parse_datetime

from apps.connectors.social import emails_in_text, json_body
from apps.core.parsing import digits_parse
from apps.inbox.inbound import InboundMessage, ParseError, SenderIdentity

TWITTER_EPOCH_MS = 1288834974657  # snowflake ids carry their creation time after this epoch
API_KEYS = ("data", "includes", "errors", "meta")
WEBHOOK_KEYS = ("tweet_create_events", "direct_message_events")


# X's error answers (RFC 7807 problem objects: a 429, "TooManyConnections" on a stream, an
# authorization problem): recognised as what they are, never stored as messages.
PROBLEM_KEYS = ("title", "detail", "type")


def parse(raw: bytes, *, account_id: int) -> list[InboundMessage]:
    body = json_body(raw)
    if not isinstance(body, dict):
        raise ParseError("a Twitter body is a JSON object")
    if not any(key in body for key in (*API_KEYS, *WEBHOOK_KEYS, "for_user_id")) and any(k in body for k in PROBLEM_KEYS):
        # Kept as a dead letter like any payload that is no message, but named for what it is.
        title, detail = str(body.get("title") or "")[:100], str(body.get("detail") or body.get("status") or "")[:300]
        raise ParseError(f"an X error answer (problem object), not a payload: {title}: {detail}".rstrip(": "))
    own = str(body.get("for_user_id") or "")
    context = _Context(account_id=account_id, own=own)
    if any(key in body for key in WEBHOOK_KEYS) or ("for_user_id" in body and not any(k in body for k in API_KEYS)):
        return _webhook(body, context)
    if not any(key in body for key in API_KEYS):
        raise ParseError(f"not an X API v2 body nor an Account Activity event (keys: {', '.join(sorted(body)[:8])})")
    return _api_v2(body, context)


class _Context:
    def __init__(self, *, account_id, own):
        self.account_id = account_id
        self.own = own

    def senders(self, person_id: str, name: str, username: str, text: str, direction: str) -> list[SenderIdentity]:
        """The customer's identities: the author of an inbound message, the addressee of our own echo
        (as for a Messenger echo), so the brand never becomes a customer of its own."""
        if not person_id:
            return []  # no author_id asked for: the ingest marks the sender unknown
        handle = f"@{username}" if username else ""
        senders = [SenderIdentity("twitter", person_id, display_name=name, handle=handle)]
        if direction == "in":
            # An address written in the text joins this person's other channels (see apps/connectors/social.py).
            senders += [SenderIdentity("email", e, display_name=name) for e in emails_in_text(text)]
        return senders

    def direction(self, author_id: str) -> str:
        return "out" if self.own and author_id == self.own else "in"

    def other_in_dm(self, conversation: str) -> str:
        """The other participant of a one-to-one DM conversation ("<id>-<id>")."""
        others = [p for p in conversation.split("-") if p and p != self.own]
        return others[0] if len(others) == 1 else ""


# --- API v2 ---------------------------------------------------------------------------------


def _api_v2(body: dict, context: _Context) -> list[InboundMessage]:
    data = body.get("data")
    if data is None:
        return []  # nothing new (result_count 0), or only errors such as a deleted tweet
    # data beside errors (a partial answer: one referenced tweet deleted, one user suspended):
    # the good part is kept; the errors concern objects that are not messages here.
    items = data if isinstance(data, list) else [data]
    includes = body.get("includes") if isinstance(body.get("includes"), dict) else {}
    users = {str(u.get("id")): u for u in includes.get("users") or [] if isinstance(u, dict)}
    messages = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not item.get("id"):
            raise ParseError(f"data[{index}]: an item needs an id")
        if "event_type" in item or "dm_conversation_id" in item:
            message = _dm_v2(item, users, context)
        else:
            message = _tweet_v2(item, users, context)
        if message is not None:
            messages.append(message)
    return messages


def _tweet_v2(item: dict, users: dict, context: _Context) -> InboundMessage | None:
    tweet_id = str(item["id"])
    references = [r for r in item.get("referenced_tweets") or [] if isinstance(r, dict)]
    if any(r.get("type") == "retweeted" for r in references):
        return None
    replied_to = next((str(r["id"]) for r in references if r.get("type") == "replied_to" and r.get("id")), "")
    author = str(item.get("author_id") or "")
    user = users.get(author, {})
    # Long posts keep the full text in note_tweet; v2 text escapes &, < and > as HTML entities.
    text = html.unescape((item.get("note_tweet") or {}).get("text") or item.get("text") or "")
    conversation = str(item.get("conversation_id") or replied_to or tweet_id)
    return _message(
        context, kind="tweet", item_id=tweet_id, author=author, username=user.get("username") or "", text=text,
        sent_at=_iso_time(item.get("created_at"), tweet_id), conversation=conversation, replied_to=replied_to,
        person=_person(context, author, str(item.get("in_reply_to_user_id") or ""), users),
    )


def _dm_v2(item: dict, users: dict, context: _Context) -> InboundMessage | None:
    if item.get("event_type", "MessageCreate") != "MessageCreate":
        return None  # ParticipantsJoin / ParticipantsLeave
    event_id = str(item["id"])
    sender = str(item.get("sender_id") or "")
    conversation = str(item.get("dm_conversation_id") or "") or dm_pair(context.own, sender)
    return _message(
        context, kind="dm", item_id=event_id, author=sender, username=(users.get(sender) or {}).get("username") or "",
        text=item.get("text") or "", sent_at=_iso_time(item.get("created_at"), event_id), conversation=conversation,
        person=_person(context, sender, context.other_in_dm(conversation), users),
    )


# --- Account Activity webhook (v1.1 objects) ---------------------------------------------------


def _webhook(body: dict, context: _Context) -> list[InboundMessage]:
    messages = []
    for index, tweet in enumerate(_list(body, "tweet_create_events")):
        if not isinstance(tweet, dict) or not (tweet.get("id_str") or tweet.get("id")):
            raise ParseError(f"tweet_create_events[{index}]: a tweet needs an id")
        message = _tweet_v1(tweet, context)
        if message is not None:
            messages.append(message)
    users = body.get("users") if isinstance(body.get("users"), dict) else {}
    for index, event in enumerate(_list(body, "direct_message_events")):
        if not isinstance(event, dict) or not event.get("id"):
            raise ParseError(f"direct_message_events[{index}]: an event needs an id")
        if event.get("type") != "message_create":
            continue
        message_create = event.get("message_create") or {}
        sender = str(message_create.get("sender_id") or "")
        recipient = str((message_create.get("target") or {}).get("recipient_id") or "")
        v2_users = {uid: {"name": u.get("name"), "username": u.get("screen_name")} for uid, u in users.items() if isinstance(u, dict)}
        messages.append(_message(
            context, kind="dm", item_id=str(event["id"]), author=sender, username=(v2_users.get(sender) or {}).get("username") or "",
            text=(message_create.get("message_data") or {}).get("text") or "",
            sent_at=_epoch_ms_time(event.get("created_timestamp"), str(event["id"])), conversation=dm_pair(sender, recipient),
            person=_person(context, sender, recipient, v2_users),
        ))
    return messages


def _tweet_v1(tweet: dict, context: _Context) -> InboundMessage | None:
    if tweet.get("retweeted_status"):
        return None
    tweet_id = str(tweet.get("id_str") or tweet["id"])
    user = tweet.get("user") or {}
    replied_to = str(tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id") or "")
    text = (tweet.get("extended_tweet") or {}).get("full_text") or tweet.get("full_text") or tweet.get("text") or ""
    author = str(user.get("id_str") or user.get("id") or "")
    addressee = str(tweet.get("in_reply_to_user_id_str") or tweet.get("in_reply_to_user_id") or "")
    users = {author: {"name": user.get("name"), "username": user.get("screen_name")},
             addressee: {"name": "", "username": tweet.get("in_reply_to_screen_name")}}
    return _message(
        context, kind="tweet", item_id=tweet_id, author=author, username=user.get("screen_name") or "", text=html.unescape(text),
        sent_at=_v1_time(tweet.get("created_at"), tweet_id), conversation=str(tweet.get("conversation_id") or replied_to or tweet_id),
        replied_to=replied_to, person=_person(context, author, addressee, users),
    )


# --- shared ------------------------------------------------------------------------------------


def _person(context, author: str, addressee: str, users: dict) -> tuple[str, str, str]:
    """(id, name, username) of the customer: the author, or the addressee of our own message."""
    person = addressee if context.direction(author) == "out" else author
    user = users.get(person) or {}
    return person, user.get("name") or "", user.get("username") or ""


def _message(context, *, kind: str, item_id, author, username, text, sent_at, conversation, person, replied_to="") -> InboundMessage:
    """kind "tweet" (public, threaded by conversation_id) or "dm" (private, by dm_conversation_id)."""
    direction = context.direction(author)
    if kind == "tweet":
        id_key, public = "tweet_id", True
        url = f"https://x.com/{username}/status/{item_id}" if username else f"https://x.com/i/web/status/{item_id}"
    else:
        id_key, public = "dm_event_id", False
        url = f"https://x.com/messages/{conversation}" if conversation else ""
    return InboundMessage(
        account_id=context.account_id,
        external_id=f"{kind}:{item_id}",
        senders=context.senders(*person, text, direction),
        sent_at=sent_at,
        text=text,
        thread_key=f"{kind}:{conversation}" if conversation else "",
        references=[f"tweet:{replied_to}"] if replied_to else [],
        direction=direction,
        is_public=public,
        metadata={"twitter": {id_key: item_id, "conversation_id": conversation, "author_id": author,
                              "author_handle": f"@{username}" if username else "", "url": url}},
    )


def _list(body: dict, key: str) -> list:
    value = body.get(key) or []
    if not isinstance(value, list):
        raise ParseError(f"{key} must be a list")
    return value


def dm_pair(a: str, b: str) -> str:
    """X's id of a one-to-one DM conversation: both user ids, lower first."""
    if not (a and b) or a == b or digits_parse(a) is None or digits_parse(b) is None:
        return f"{a or b}" if (a or b) else ""
    return "-".join(sorted((a, b), key=digits_parse))


def _snowflake_time(object_id: str) -> datetime:
    """When created_at was not asked for: X ids carry their creation time (ms since 2010-11-04)."""
    number = digits_parse(object_id)
    if number is None:
        raise ParseError(f"id {object_id!r} is not numeric and the item has no creation time")
    return datetime.fromtimestamp(((number >> 22) + TWITTER_EPOCH_MS) / 1000, tz=timezone.utc)


def _iso_time(value, object_id: str) -> datetime:
    if value:
        parsed = parse_datetime(str(value))
        if parsed is None:
            raise ParseError(f"created_at {value!r} is not an ISO 8601 time")
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return _snowflake_time(object_id)


def _v1_time(value, object_id: str) -> datetime:
    if value:
        try:
            return datetime.strptime(str(value), "%a %b %d %H:%M:%S %z %Y")
        except ValueError as exc:
            raise ParseError(f"created_at {value!r} is not a v1.1 time") from exc
    return _snowflake_time(object_id)


def _epoch_ms_time(value, object_id: str) -> datetime:
    if value:
        try:
            return datetime.fromtimestamp(int(value) / 1000, tz=timezone.utc)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ParseError(f"created_timestamp {value!r} is not epoch milliseconds") from exc
    return _snowflake_time(object_id)
