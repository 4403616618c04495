"""Facebook Page: the polling fallback and comment moderation.

Webhooks are the main path (views.py stages them). The poll picks up what a webhook missed
(the desk was down, Facebook gave up retrying): recent Messenger conversations and the
comments on recent posts, fetched with the Graph API since the cursor, parsed by the same
parse() and stored by the connectors' one ingest-with-fallback (services.parsed_ingest: the
batch, else payload by payload, one that will not go in kept as a dead letter). Message ids are
the same both ways, so overlap with webhooks is dropped as duplicates. The cursor ({"since": epoch seconds}) moves only in the
transaction that stored what was fetched: a failed poll fetches the same window again.
"""
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from django.db import transaction
from django.utils.translation import gettext as _
from django.db.models.functions import Substr
from django.utils import timezone

from apps.connectors import services
from apps.connectors.models import ChannelAccount, ChannelKind
from apps.connectors.services import (
    Parsed,
    channel_account_pause,
    channel_account_poll,
    channel_account_record_failure,
    channel_accounts_due,
    dead_letter_keep,
    parsed_ingest,
)
from apps.core.errors import ApplicationError
from apps.inbox.channels import PermanentSendError, TemporarySendError
from apps.inbox.inbound import ParseError
from apps.crm.services import customer_name_fill
from apps.inbox.models import Conversation, Message
from apps.inbox.services.moderation import message_visibility_set

from .client import FacebookError, graph_for
from .parse import graph_time, parse

logger = logging.getLogger(__name__)

LOCK_SECONDS = 10 * 60
OVERLAP_SECONDS = 120  # the next poll looks back this far: Graph's clock and ours differ a little
INITIAL_LOOKBACK_HOURS = 24
# Bounds of one poll (a fallback behind webhooks, which Facebook itself retries for hours): the
# conversations updated since the cursor, newest first, each with its latest messages.
MAX_CONVERSATIONS = 1000
MESSAGES_PER_CONVERSATION = 50
POSTS_PER_POLL = 25
COMMENTS_PER_POST = 100
PROFILE_LOOKUPS_PER_POLL = 20
PROFILES_MISSING_KEPT = 500
PERMISSION_CODES = {10, *range(200, 300)}  # the app or Page lacks the permission

CONVERSATION_FIELDS = (
    f"id,updated_time,messages.limit({MESSAGES_PER_CONVERSATION})"
    "{id,message,from,to,created_time,attachments}"
)
FEED_FIELDS = (
    f"id,updated_time,permalink_url,comments.filter(stream).order(reverse_chronological).limit({COMMENTS_PER_POST})"
    "{id,message,from,created_time,parent{id},permalink_url,attachment,is_hidden}"
)


@dataclass
class PollResult(services.PollResult):
    fetched: int = 0
    named: int = 0
    LEAD: ClassVar[tuple[str, ...]] = ("fetched",)
    TAIL: ClassVar[tuple[str, ...]] = ("named",)


def facebook_accounts_due(*, now: datetime | None = None) -> list[int]:
    return channel_accounts_due(kind=ChannelKind.FACEBOOK, now=now)


def facebook_account_poll(*, account_id: int) -> PollResult | None:
    """Fetch and store what the Page received since the cursor; None when disabled or already polling."""
    return channel_account_poll(kind=ChannelKind.FACEBOOK, account_id=account_id, lock_seconds=LOCK_SECONDS, poll=_poll)


def _poll(account: ChannelAccount) -> PollResult:
    result = PollResult()
    started = timezone.now()
    try:
        _store(account, _fetch(account, _since(account)), started, result)
        _names_fill(account, result)
    except FacebookError as exc:
        result.error = str(exc)
        account_unhealthy(account, exc)
    return result


def account_unhealthy(account: ChannelAccount, exc: FacebookError) -> None:
    """Show a Graph API failure in the account's health; the due list then waits before the next poll."""
    logger.warning("facebook account %s: %s", account.id, exc)
    if exc.kind == "rate_limit":
        channel_account_pause(account=account, until=timezone.now() + timedelta(seconds=exc.retry_after or 0), error=str(exc))
    else:  # expired token, 5xx, network: recorded, retried with the usual backoff
        channel_account_record_failure(account=account, error=str(exc))


def _since(account: ChannelAccount) -> int:
    since = (account.cursor or {}).get("since")
    if isinstance(since, (int, float)):
        return int(since)
    return int((timezone.now() - timedelta(hours=INITIAL_LOOKBACK_HOURS)).timestamp())


def _page_id(account: ChannelAccount) -> str:
    page_id = str((account.settings or {}).get("page_id") or "").strip()
    if not page_id:
        raise FacebookError("this Facebook account has no page_id (settings)", kind="permanent")
    return page_id


def _fetch(account: ChannelAccount, since: int) -> list[tuple[str, bytes]]:
    """Graph API answers, each wrapped in the envelope parse() reads (the page id says who is "us")."""
    graph, page_id = graph_for(account), _page_id(account)
    payloads = []

    def keep(edge: str, items: list):
        envelope = {"source": "graph", "edge": edge, "page_id": page_id, "response": {"data": items}}
        payloads.append((f"poll:{edge}", json.dumps(envelope).encode()))

    # Newest conversations first: stop at the first one not updated since the cursor.
    conversations = []
    for conversation in graph.all_connections(page_id, "conversations", fields=CONVERSATION_FIELDS, platform="messenger", limit=25):
        if _epoch(conversation.get("updated_time")) < since:
            break
        if len(conversations) >= MAX_CONVERSATIONS:
            logger.warning("facebook account %s: over %d conversations since the cursor; older ones are left to webhooks",
                           account.id, MAX_CONVERSATIONS)
            break
        conversation["messages"] = {"data": [m for m in (conversation.get("messages") or {}).get("data", [])
                                             if _epoch(m.get("created_time")) >= since]}
        conversations.append(conversation)
    if conversations:
        keep("conversations", conversations)

    # A comment on an old post counts too, so posts are not filtered by date; their comments are.
    posts = graph.call("get_connections", page_id, "feed", fields=FEED_FIELDS, limit=POSTS_PER_POLL).get("data", [])
    recent = []
    for post in posts:
        comments = [c for c in (post.get("comments") or {}).get("data", []) if _epoch(c.get("created_time")) >= since]
        if comments:
            recent.append({**post, "comments": {"data": comments}})
    if recent:
        keep("feed", recent)
    return payloads


def _epoch(value) -> float:
    """A Graph API time as epoch seconds; 0 (older than any cursor) when missing or unreadable."""
    try:
        return graph_time(value).timestamp()
    except ParseError:
        return 0


def _store(account: ChannelAccount, payloads: list[tuple[str, bytes]], started: datetime, result: PollResult) -> None:
    """Parse, ingest and move the cursor in one transaction: all of it, or a retry next time."""
    with transaction.atomic():
        locked = ChannelAccount.objects.select_for_update().get(pk=account.pk)
        parsed = []
        for name, raw in payloads:
            try:
                messages = parse(raw, account_id=account.id)
            except ParseError as exc:
                dead_letter_keep(kind="facebook", raw=raw, error=f"{name}: {exc}", source="poll", account=account)
                result.failed += 1
                continue
            result.fetched += len(messages)
            parsed.append(Parsed(kind="facebook", raw=raw, messages=messages, source="poll", account=account, name=name))
        if parsed:
            # The connectors' one ingest-with-fallback: the batch, else payload by payload (a bad one is a dead letter).
            result.add(parsed_ingest(parsed))
        # Everything up to the poll's start is stored: the next poll begins there (with an overlap).
        locked.cursor = {**(locked.cursor or {}), "since": int(started.timestamp()) - OVERLAP_SECONDS}
        locked.save(update_fields=["cursor"])


# --- names -----------------------------------------------------------------------------------------


def _names_fill(account: ChannelAccount, result: PollResult) -> None:
    """Messenger webhooks carry only the PSID, so a customer first seen that way is named by it.
    Ask the User Profile API (GET /<PSID>?fields=first_name,last_name) for a few such customers per
    poll. A profile Facebook will not give is not asked again; without the permission at all, no
    lookups for a day. Both are noted in the cursor."""
    cursor = ChannelAccount.objects.get(pk=account.pk).cursor or {}
    if cursor.get("profiles_paused_until", 0) > timezone.now().timestamp():
        return
    missing = list(cursor.get("profiles_missing") or [])
    unnamed = list(
        Conversation.objects.filter(channel_account=account, thread_key__startswith="psid:")
        .filter(customer__display_name=Substr("thread_key", len("psid:") + 1))
        .exclude(thread_key__in=[f"psid:{p}" for p in missing])
        .order_by("id").values_list("thread_key", "customer_id")[:PROFILE_LOOKUPS_PER_POLL]
    )
    if not unnamed:
        return
    graph, changes = graph_for(account), {}
    try:
        for thread_key, customer_id in unnamed:
            psid = thread_key.removeprefix("psid:")
            try:
                profile = graph.call("get_object", psid, fields="first_name,last_name,name")
            except FacebookError as exc:
                if exc.kind != "permanent":
                    raise  # rate limit, 5xx: the poll's own handling
                if exc.code in PERMISSION_CODES:
                    changes = {"profiles_paused_until": int(timezone.now().timestamp()) + 24 * 3600, "profiles_error": str(exc)[:300]}
                    logger.info("facebook account %s: no profile lookups for a day: %s", account.id, exc)
                    return
                missing = (missing + [psid])[-PROFILES_MISSING_KEPT:]
                changes["profiles_missing"] = missing
                continue
            name = " ".join(p for p in (profile.get("first_name"), profile.get("last_name")) if p) or profile.get("name") or ""
            if name:
                customer_name_fill(customer_id=customer_id, kind="facebook", value=psid, name=name)
                result.named += 1
    finally:
        if changes:
            with transaction.atomic():
                locked = ChannelAccount.objects.select_for_update().get(pk=account.pk)
                locked.cursor = {**(locked.cursor or {}), **changes}
                locked.save(update_fields=["cursor"])


# --- moderation ------------------------------------------------------------------------------------


def comment_hide(*, message: Message, actor) -> Message:
    """Hide a customer's comment on the Page (an agent's click); the write is the inbox's
    message_visibility_set, which calls the channel's moderate (moderate.py). Facebook hides it
    from everyone but its author and their friends; the desk keeps it, marked hidden. Hiding an
    already hidden comment asks Facebook again (harmless) and records nothing new."""
    if message.channel_account.kind != ChannelKind.FACEBOOK:
        raise ApplicationError(_("Only a Facebook comment can be hidden"), extra={"message_id": message.id})
    try:
        return message_visibility_set(message=message, hidden=True, actor=actor)
    except TemporarySendError as exc:
        raise ApplicationError(str(exc), extra={"kind": "temporary"}, status_code=503) from exc
    except PermanentSendError as exc:
        raise ApplicationError(str(exc), extra={"kind": "permanent"}, status_code=502) from exc


# Comments hidden or shown on Facebook itself (the Page's moderators, Facebook's filters).
