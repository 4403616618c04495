"""Twitter / X polling: mentions and DM events -> parse -> ingest, then the cursors move.

Per account and poll, mentions first, then DM events (settings poll_dms, default on):
  1. fetch pages (bounded by settings max_pages): mentions with since_id = the stored
     mentions_since_id; DM events newest first until the stored dm_newest_id is reached
     (GET /2/dm_events has no since_id), keeping only the events newer than it;
  2. one transaction: payloads_import (parse + messages_ingest; dead letters for what cannot
     be parsed or stored) and the cursor moved to what was fetched — all or nothing.
A crash before 2 commits fetches the same pages next time (ingest dedupes anyway); nothing is
fetched again after it. Each body gets the account's own user id as "for_user_id" (the field
Account Activity webhooks carry), so parse can tell the brand's own tweets and DMs (echoes).

Errors: 429 pauses the account until X's x-rate-limit-reset (the task retries at that time);
401 says to reconnect the account; 5xx, other refusals and network errors are failures with
backoff (channel_accounts_due). All show in the account's health.
"""
import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import ClassVar

import requests
import tweepy
from django.db import transaction
from django.utils import timezone

from apps.connectors import services
from apps.connectors.drain import payloads_import
from apps.connectors.models import ChannelAccount, ChannelKind
from apps.core.parsing import digits_parse
from apps.connectors.services import (
    channel_account_pause,
    channel_account_poll,
    channel_account_record_failure,
    channel_accounts_due,
)

from .client import RECONNECT, BadBody, CredentialsMissing, XApi, error_text

logger = logging.getLogger(__name__)

DEFAULT_MAX_PAGES = 10  # 10 × 100: past the ~800 most recent mentions X lets anyone read
LOCK_SECONDS = 10 * 60  # one poll per account at a time; outlives a hung worker by this much
DEFAULT_RATE_WINDOW = timedelta(minutes=15)  # X's window, when a 429 comes without its reset header


@dataclass
class PollResult(services.PollResult):
    pages: int = 0
    retry_at: datetime | None = None  # rate limited: poll again at X's reset time
    LEAD: ClassVar[tuple[str, ...]] = ("pages",)


def twitter_accounts_due(*, now: datetime | None = None) -> list[int]:
    return channel_accounts_due(kind=ChannelKind.TWITTER, now=now)


def twitter_account_poll(*, account_id: int) -> PollResult | None:
    """Fetch and store the account's new mentions and DMs; None when disabled, paused or already polling."""
    return channel_account_poll(
        kind=ChannelKind.TWITTER, account_id=account_id, lock_seconds=LOCK_SECONDS, poll=_poll, skip_paused=True
    )


def _poll(account: ChannelAccount) -> PollResult:
    result = PollResult()
    try:
        api = XApi(secrets=account.secrets)
        own_id = _own_user_id(account, api)
        _poll_mentions(account, api, own_id, result)
        if account.settings.get("poll_dms", True):
            _poll_dms(account, api, own_id, result)
    except tweepy.TooManyRequests as exc:
        result.retry_at = _reset_time(exc)
        result.error = f"rate limited by X (429) until {result.retry_at.isoformat()}"
        channel_account_pause(account=account, until=result.retry_at, error=result.error)
    except tweepy.Unauthorized as exc:
        _failed(account, result, f"X refused the account's credentials ({error_text(exc)}): {RECONNECT}")
    except tweepy.HTTPException as exc:  # 5xx, 403 (access level, app permissions), 400
        _failed(account, result, error_text(exc))
    except (requests.RequestException, BadBody, CredentialsMissing) as exc:
        _failed(account, result, f"{exc.__class__.__name__}: {exc}")
    return result


def _failed(account, result: PollResult, error: str) -> PollResult:
    logger.warning("twitter poll of account %s failed: %s", account.id, error)
    result.error = error
    channel_account_record_failure(account=account, error=error)
    return result


def _reset_time(exc: tweepy.TooManyRequests) -> datetime:
    reset = exc.response.headers.get("x-rate-limit-reset") if exc.response is not None else None
    now = timezone.now()
    try:
        when = datetime.fromtimestamp(int(reset), tz=dt_timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return now + DEFAULT_RATE_WINDOW
    return max(when, now)


def _own_user_id(account: ChannelAccount, api: XApi) -> str:
    """The connected account's user id: from its settings, else asked once (GET /2/users/me) and kept."""
    user_id = str(account.settings.get("user_id") or "")
    if user_id:
        return user_id
    me = api.me()
    if not me.get("id"):
        raise BadBody("GET /2/users/me returned no user id")
    account.settings = {**account.settings, "user_id": str(me["id"]), "username": me.get("username") or ""}
    ChannelAccount.objects.filter(pk=account.pk).update(settings=account.settings)
    return str(me["id"])


def _max_pages(account) -> int:
    try:
        return max(1, int(account.settings.get("max_pages") or DEFAULT_MAX_PAGES))
    except (TypeError, ValueError):
        return DEFAULT_MAX_PAGES


def _poll_mentions(account, api: XApi, own_id: str, result: PollResult) -> None:
    since_id = (account.cursor or {}).get("mentions_since_id")
    pages, newest, token = [], None, None
    with _kept_on_failure(account, pages, result):
        for _ in range(_max_pages(account)):
            raw, body = api.mentions(user_id=own_id, since_id=since_id, pagination_token=token)
            meta = body.get("meta") or {}
            newest = newest or meta.get("newest_id")  # the first page holds the newest of all
            if body.get("data"):
                pages.append(_stamped(raw, body, own_id))
            token = meta.get("next_token")
            if not token:
                break
    _store(account, pages, {"mentions_since_id": str(newest)} if newest else {}, result)


def _poll_dms(account, api: XApi, own_id: str, result: PollResult) -> None:
    seen = int((account.cursor or {}).get("dm_newest_id") or 0)
    pages, newest, token = [], seen, None
    with _kept_on_failure(account, pages, result):
        for _ in range(_max_pages(account)):
            raw, body = api.dm_events(pagination_token=token)
            events = [e for e in body.get("data") or [] if isinstance(e, dict)]
            numbered = [(e, digits_parse(str(e.get("id", "")))) for e in events]
            ids = [number for _, number in numbered if number is not None]
            fresh = [e for e, number in numbered if number is None or number > seen]
            newest = max([newest, *ids])
            if fresh:
                # Only the events newer than the cursor: the ones at and past it are stored already.
                whole = len(fresh) == len(events)
                pages.append(_stamped(raw, body, own_id) if whole else _stamped(b"", {**body, "data": fresh}, own_id))
            token = (body.get("meta") or {}).get("next_token")
            if not token or any(i <= seen for i in ids):
                break
    _store(account, pages, {"dm_newest_id": str(newest)} if newest > seen else {}, result)


@contextmanager
def _kept_on_failure(account, pages: list[bytes], result: PollResult):
    """X failed part-way through the pages (429, 5xx): store what was read, but leave the cursor —
    it moves only after a complete pass, so the pages not reached are never skipped (the next
    poll reads the stored ones again and drops them as duplicates)."""
    try:
        yield
    except (tweepy.HTTPException, requests.RequestException):
        if pages:
            _store(account, pages, {}, result)
        raise


def _stamped(raw: bytes, body: dict, own_id: str) -> bytes:
    """The body as X sent it, with the account's own id added as "for_user_id" (see module docstring)."""
    if raw and body.get("for_user_id") == own_id:
        return raw
    return json.dumps({"for_user_id": own_id, **body}, ensure_ascii=False).encode()


def _store(account, pages: list[bytes], cursor_update: dict, result: PollResult) -> None:
    """Ingest the pages and move the cursor in one transaction (see the module docstring)."""
    result.pages += len(pages)
    with transaction.atomic():
        locked = ChannelAccount.objects.select_for_update().get(pk=account.pk)
        if pages:
            counts = payloads_import(
                kind="twitter", account=locked, payloads=[(f"poll page {i + 1}", raw) for i, raw in enumerate(pages)]
            )
            result.add(counts)
        if cursor_update:
            locked.cursor = {**(locked.cursor or {}), **cursor_update}
            locked.save(update_fields=["cursor"])
            account.cursor = locked.cursor
