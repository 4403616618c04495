"""Channel accounts' health and polls, staging, dead letters, and one ingest-with-fallback.

Channel packages build on this module; drain.py (which needs every channel's parser, through
the registry) builds on them. So nothing here may import the registry.
"""
import functools
import logging
import secrets as token_generator
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from celery import current_app
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.utils import timezone

from apps.inbox.inbound import InboundMessage, ParseError
from apps.inbox.models import DeadLetter
from apps.inbox.services.ingest import messages_ingest

from .models import ChannelAccount, InboundPayload

logger = logging.getLogger(__name__)

DRAIN_NUDGE_KEY = "centralita:inbound-drain-queued"
DRAIN_NUDGE_TIMEOUT = 30
DRAIN_TASK = "apps.connectors.tasks.inbound_drain"


@dataclass
class ImportCounts:
    ingested: int = 0
    duplicates: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, other: "ImportCounts") -> None:
        self.ingested += other.ingested
        self.duplicates += other.duplicates
        self.failed += other.failed
        self.failures += other.failures

    def summary(self) -> str:
        return f"ingested {self.ingested} · duplicates {self.duplicates} · failed {self.failed}"


# --- accounts ----------------------------------------------------------------------------


def channel_account_rotate_token(*, account: ChannelAccount) -> str:
    """A new inbound token; only its hash is stored, so this is the one time it is seen."""
    token = token_generator.token_urlsafe(32)
    account.inbound_token_hash = ChannelAccount.hash_token(token)
    account.save(update_fields=["inbound_token_hash"])
    return token


def channel_account_record_success(*, account: ChannelAccount) -> None:
    ChannelAccount.objects.filter(pk=account.pk).update(last_success_at=timezone.now(), consecutive_failures=0, paused_until=None)


def channel_account_record_failure(*, account: ChannelAccount, error: str) -> None:
    from django.db.models import F

    ChannelAccount.objects.filter(pk=account.pk).update(
        last_error=error[:2000], last_error_at=timezone.now(), consecutive_failures=F("consecutive_failures") + 1
    )


BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 3600


def backoff_seconds(failures: int) -> int:
    """Wait after `failures` consecutive failures: 1 min, 2, 4, … capped at an hour."""
    return min(BACKOFF_BASE_SECONDS * 2 ** max(failures - 1, 0), BACKOFF_MAX_SECONDS)


def channel_account_pause(*, account: ChannelAccount, until, error: str) -> None:
    """The provider said when to come back (429 reset time): record it as a failure with that deadline."""
    from django.db.models import F

    ChannelAccount.objects.filter(pk=account.pk).update(
        paused_until=until,
        last_error=error[:2000],
        last_error_at=timezone.now(),
        consecutive_failures=F("consecutive_failures") + 1,
    )


def channel_accounts_due(*, kind: str, now=None) -> list[int]:
    """Enabled accounts of this kind that are neither paused (rate limit) nor backing off after failures."""
    from datetime import timedelta

    now = now or timezone.now()
    rows = ChannelAccount.objects.filter(kind=kind, enabled=True).order_by("id")
    due = []
    # values_list: no secrets decrypted just to decide who is due.
    for account_id, failures, last_error_at, paused_until in rows.values_list(
        "id", "consecutive_failures", "last_error_at", "paused_until"
    ):
        if paused_until and now < paused_until:
            continue
        if failures and last_error_at and now < last_error_at + timedelta(seconds=backoff_seconds(failures)):
            continue
        due.append(account_id)
    return due


@contextmanager
def channel_account_poll_lock(*, account: ChannelAccount, seconds: int):
    """One poll per account at a time, across workers: yields False when another poll holds it.
    The lock expires after `seconds`, so a worker that died holding it blocks no one for long."""
    key = f"centralita:poll:{account.kind}:{account.pk}"
    held = cache.add(key, 1, timeout=seconds)
    try:
        yield held
    finally:
        if held:
            cache.delete(key)


def channel_account_poll(*, kind: str, account_id: int, lock_seconds: int, poll: Callable, skip_paused: bool = False):
    """The life of one poll, the same for every polled channel: the enabled account, one poll
    at a time (the lock), then its health. `poll(account)` returns a result with an `error`
    field and records the failures it expects itself; anything else is recorded and re-raised.
    None when the account is disabled (or paused, with skip_paused) or another poll holds it."""
    account = ChannelAccount.objects.filter(pk=account_id, kind=kind, enabled=True).first()
    if account is None or (skip_paused and account.paused_until and timezone.now() < account.paused_until):
        return None
    with channel_account_poll_lock(account=account, seconds=lock_seconds) as held:
        if not held:
            return None
        try:
            result = poll(account)
        except Exception as exc:
            channel_account_record_failure(account=account, error=f"poll failed: {exc.__class__.__name__}: {exc}")
            raise
    if not result.error:
        channel_account_record_success(account=account)
    return result


# --- dead letters ------------------------------------------------------------------------------


def dead_letter_keep(*, kind: str, raw: bytes, error: str, source: str, account: ChannelAccount | None = None) -> DeadLetter:
    logger.warning("dead letter (%s, %s): %s", kind, source, error)
    return DeadLetter.objects.create(
        channel_account=account, kind=kind, source=source, raw=raw[: settings.INBOUND_MAX_PAYLOAD_BYTES],
        error=storable_text(error),
    )


def storable_text(error: str) -> str:
    # PostgreSQL text cannot hold NUL: an error quoting the payload must not fail its own keeping.
    return error.replace("\x00", "\\x00")[:5000]


def failure_text(exc: Exception) -> str:
    return str(exc) if isinstance(exc, ParseError) else f"ingest failed: {exc.__class__.__name__}: {exc}"


# --- webhooks stage, the worker drains ---------------------------------------------------------


def payload_stage(*, account: ChannelAccount, kind: str, raw: bytes, source: str = "webhook") -> InboundPayload:
    """Keep a verified payload for the worker; the provider gets its 2xx once this commits."""
    payload = InboundPayload.objects.create(channel_account=account, kind=kind, raw=raw, source=source)
    transaction.on_commit(_nudge_drain)
    return payload


def _nudge_drain() -> None:
    """Queue a drain unless one is already queued and not yet started (DRAIN_NUDGE_KEY).

    A drain clears the key as it starts, so a payload staged while it runs (or just after
    it ended) queues the next one at once: nothing waits for the beat, and there is no fixed
    delay. Batches grow with load by themselves: while one drain runs, everything staged
    meanwhile is taken by the next, up to the batch size. The key's timeout only bounds a
    queued drain that was lost (the beat's drain covers that).
    The task is named, not imported: tasks.py builds on drain.py, which builds on this module."""
    if settings.CELERY_TASK_ALWAYS_EAGER or _nudge_key_add():
        current_app.signature(DRAIN_TASK).delay()


def _nudge_key_add() -> bool:
    """cache.add(DRAIN_NUDGE_KEY): on Redis with one client kept for the process. Django's RedisCache
    builds a redis-py client per call (~0.2 ms, a tenth of a webhook's CPU); the key and value are
    the ones cache.add would write, so the drain's cache.delete clears it as before."""
    backend = caches["default"]  # `cache` is a proxy: the backend itself (one per thread)
    if not isinstance(backend, RedisCache):
        return backend.add(DRAIN_NUDGE_KEY, 1, timeout=DRAIN_NUDGE_TIMEOUT)
    client = _nudge_client(backend)
    return bool(client.set(backend.make_and_validate_key(DRAIN_NUDGE_KEY), 1, nx=True, ex=DRAIN_NUDGE_TIMEOUT))


@functools.lru_cache(maxsize=64)
def _nudge_client(backend: RedisCache):
    return backend._cache.get_client(DRAIN_NUDGE_KEY, write=True)  # shares the backend's connection pool


@dataclass
class Parsed:
    """One raw payload and what its parser made of it, on its way to messages_ingest."""

    kind: str
    raw: bytes
    messages: list[InboundMessage]
    source: str
    account: ChannelAccount
    name: str = ""  # the file it came from (imports), to name it in failures


def parsed_ingest(parsed: list[Parsed]) -> ImportCounts:
    """Ingest parsed payloads in one transaction; if that fails, one by one, so the payload at
    fault becomes a dead letter and the others go in (the drain and imports share this)."""
    counts = ImportCounts()
    try:
        with transaction.atomic():
            result = messages_ingest(messages=[m for item in parsed for m in item.messages])
        counts.ingested, counts.duplicates = result.ingested, result.duplicates
    except Exception:
        logger.exception("batch ingest failed; retrying payload by payload")
        for item in parsed:
            one = _ingest_one(item.kind, item.raw, item.messages, source=item.source, account=item.account)
            one.failures = [f"{item.name}: {f}" if item.name else f for f in one.failures]
            counts.add(one)
    return counts


def _ingest_one(kind, raw, messages, *, source, account) -> ImportCounts:
    counts = ImportCounts()
    try:
        with transaction.atomic():
            result = messages_ingest(messages=messages)
        counts.ingested, counts.duplicates = result.ingested, result.duplicates
    except Exception as exc:
        error = failure_text(exc)
        dead_letter_keep(kind=kind, raw=raw, error=error, source=source, account=account)
        counts.failed, counts.failures = 1, [error]
    return counts
