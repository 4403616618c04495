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
from typing import ClassVar
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.inbox.inbound import InboundMessage, InboundStatus, ParseError
from apps.inbox.services.ingest import messages_ingest
from apps.inbox.services.statuses import message_statuses_apply

from .models import ChannelAccount, ChannelAccountError, DeadLetter, InboundPayload

logger = logging.getLogger(__name__)

DRAIN_NUDGE_KEY = "centralita:inbound-drain-queued"
DRAIN_NUDGE_TIMEOUT = 30
DRAIN_TASK = "apps.connectors.tasks.inbound_drain"
ALERT_TASK = "apps.connectors.tasks.channel_account_alert"


@dataclass
class ImportCounts:
    ingested: int = 0
    duplicates: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    updated: int = 0  # messages already stored that a receipt, bounce, reaction or edit changed

    def add(self, other: "ImportCounts") -> None:
        self.ingested += other.ingested
        self.duplicates += other.duplicates
        self.failed += other.failed
        self.failures += other.failures
        self.updated += other.updated

    def summary(self) -> str:
        updated = f" · updated {self.updated}" if self.updated else ""
        return f"ingested {self.ingested} · duplicates {self.duplicates} · failed {self.failed}{updated}"


@dataclass
class PollResult:
    """What one poll of an account did: the counts every polled channel shares, and its error. A
    channel's own counts are fields of its subclass, shown before (LEAD) or after (TAIL) these."""

    ingested: int = 0
    duplicates: int = 0
    failed: int = 0
    error: str = ""
    LEAD: ClassVar[tuple[str, ...]] = ()
    TAIL: ClassVar[tuple[str, ...]] = ()

    def add(self, counts: ImportCounts) -> None:
        self.ingested += counts.ingested
        self.duplicates += counts.duplicates
        self.failed += counts.failed

    def summary(self) -> str:
        text = " · ".join(f"{name} {getattr(self, name)}" for name in (*self.LEAD, "ingested", "duplicates", "failed", *self.TAIL))
        return f"{text} · error: {self.error}" if self.error else text


# --- accounts ----------------------------------------------------------------------------


def channel_account_rotate_token(*, account: ChannelAccount) -> str:
    """A new inbound token; only its hash is stored, so this is the one time it is seen."""
    token = token_generator.token_urlsafe(32)
    account.inbound_token_hash = ChannelAccount.hash_token(token)
    account.save(update_fields=["inbound_token_hash"])
    return token


def channel_account_record_success(*, account: ChannelAccount) -> None:
    ChannelAccount.objects.filter(pk=account.pk).update(
        last_success_at=timezone.now(), consecutive_failures=0, paused_until=None, failing_since=None
    )


SUCCESS_WRITE_EVERY = timedelta(seconds=30)
SUCCESS_CHECK_EVERY = timedelta(seconds=5)
_success_checked: dict[int, datetime] = {}  # account id -> when this process last ran the UPDATE below


def channel_account_touch_success(*, account_id: int) -> None:
    """A webhook or a send went through. At a hundred messages a second this must not rewrite the
    row each time: it writes when the last success is older than SUCCESS_WRITE_EVERY or a failure
    came after it (one indexed UPDATE that usually matches nothing). And a process runs that UPDATE
    at most every SUCCESS_CHECK_EVERY per account (a webhook storm sends no statement in between):
    a failure another process recorded is cleared by the next success at most that much later."""
    now = timezone.now()
    last = _success_checked.get(account_id)
    if last is not None and timedelta(0) <= now - last < SUCCESS_CHECK_EVERY:
        return
    _success_checked[account_id] = now
    ChannelAccount.objects.filter(pk=account_id).filter(
        Q(last_success_at__isnull=True) | Q(last_success_at__lt=now - SUCCESS_WRITE_EVERY)
        | Q(last_error_at__gte=F("last_success_at")) | Q(failing_since__isnull=False)
    ).update(last_success_at=now, consecutive_failures=0, paused_until=None, failing_since=None)


def secrets_scrub(text: str, secrets: dict | None) -> str:
    """A library's error can quote the request (a Graph URL carries ?access_token=...): never
    store or show a secret's value, whatever text it is in."""
    for value in sorted((v for v in (secrets or {}).values() if isinstance(v, str) and len(v) >= 4), key=len, reverse=True):
        text = text.replace(value, "[secret]")
    return text


def channel_account_record_failure(*, account: ChannelAccount, error: str) -> None:
    _success_checked.pop(account.pk, None)  # this process's next success clears it at once
    error = secrets_scrub(error, account.secrets)
    now = timezone.now()
    if not ChannelAccount.objects.filter(pk=account.pk).update(
        last_error=storable_text(error)[:2000], last_error_at=now, consecutive_failures=F("consecutive_failures") + 1
    ):
        return  # removed meanwhile
    _error_keep(account_id=account.pk, kind=ChannelAccountError.Kind.FAILURE, error=error)
    # The first failure of an outage (nothing set failing_since since the last success) tells the
    # admins; the next ones match no row. One UPDATE decides it, so two workers cannot both alert.
    if ChannelAccount.objects.filter(pk=account.pk, failing_since__isnull=True).update(failing_since=now):
        transaction.on_commit(lambda: current_app.signature(ALERT_TASK, args=(account.pk, error[:500])).delay())


BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 3600


def backoff_seconds(failures: int) -> int:
    """Wait after `failures` consecutive failures: 1 min, 2, 4, … capped at an hour."""
    return min(BACKOFF_BASE_SECONDS * 2 ** max(failures - 1, 0), BACKOFF_MAX_SECONDS)


def channel_account_pause(*, account: ChannelAccount, until, error: str) -> None:
    """The provider said when to come back (429 reset time): record it as a failure with that deadline."""
    error = secrets_scrub(error, account.secrets)
    if ChannelAccount.objects.filter(pk=account.pk).update(
        paused_until=until,
        last_error=error[:2000],
        last_error_at=timezone.now(),
        consecutive_failures=F("consecutive_failures") + 1,
    ):
        _error_keep(account_id=account.pk, kind=ChannelAccountError.Kind.RATE_LIMIT, error=error, paused_until=until)


def _error_keep(*, account_id: int, kind: str, error: str, paused_until=None) -> None:
    """Failures are rare (backoff spaces them): one row each, and the account keeps the newest KEEP."""
    ChannelAccountError.objects.create(channel_account_id=account_id, kind=kind, error=storable_text(error)[:2000],
                                       paused_until=paused_until)
    old = ChannelAccountError.objects.filter(channel_account_id=account_id).values_list("id", flat=True)[ChannelAccountError.KEEP:]
    ChannelAccountError.objects.filter(pk__in=list(old)).delete()


def channel_accounts_due(*, kind: str, now=None) -> list[int]:
    """Enabled accounts of this kind whose poll interval has passed, neither paused (rate limit)
    nor backing off after failures. Read at every beat tick, so an interval changed in the
    console applies from the next tick, with no restart."""
    now = now or timezone.now()
    rows = ChannelAccount.objects.filter(kind=kind, enabled=True).order_by("id")
    due = []
    # values_list: no secrets decrypted just to decide who is due.
    for account_id, failures, last_error_at, paused_until, interval, last_poll_at in rows.values_list(
        "id", "consecutive_failures", "last_error_at", "paused_until", "poll_interval", "last_poll_at"
    ):
        if paused_until and now < paused_until:
            continue
        if failures and last_error_at and now < last_error_at + timedelta(seconds=backoff_seconds(failures)):
            continue
        # Half a tick of slack: a poll started a moment after its tick is due again at the tick `interval` later.
        if last_poll_at and now < last_poll_at + timedelta(seconds=max(interval - POLL_SLACK_SECONDS, 0)):
            continue
        due.append(account_id)
    return due


POLL_SLACK_SECONDS = 8


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
        ChannelAccount.objects.filter(pk=account.pk).update(last_poll_at=timezone.now())
        try:
            result = poll(account)
        except Exception as exc:
            channel_account_record_failure(account=account, error=f"poll failed: {exc.__class__.__name__}: {exc}")
            raise
    if not result.error:
        channel_account_record_success(account=account)
    return result


# --- dead letters ------------------------------------------------------------------------------


def payload_too_large(raw: bytes) -> str:
    """The one body-size rule of the webhooks: "" within settings.INBOUND_MAX_PAYLOAD_BYTES, else why not."""
    if len(raw) <= settings.INBOUND_MAX_PAYLOAD_BYTES:
        return ""
    return f"payload of {len(raw)} bytes is over the {settings.INBOUND_MAX_PAYLOAD_BYTES} byte limit"


def payload_too_large_keep(*, kind: str, raw: bytes, source: str, account: ChannelAccount) -> DeadLetter | None:
    """A verified body over the limit is kept (truncated) as a dead letter and the webhook answers
    413; None when it is within the limit."""
    error = payload_too_large(raw)
    if not error:
        return None
    return dead_letter_keep(kind=kind, raw=raw, error=error + " (kept truncated)", source=source, account=account)


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
    channel_account_touch_success(account_id=account.pk)  # the provider reached us: the webhook works
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
    statuses: list[InboundStatus] = field(default_factory=list)


def parsed_ingest(parsed: list[Parsed]) -> ImportCounts:
    """Ingest parsed payloads in one transaction; if that fails, one by one, so the payload at
    fault becomes a dead letter and the others go in (the drain and imports share this)."""
    counts = ImportCounts()
    try:
        with transaction.atomic():
            result = messages_ingest(messages=[m for item in parsed for m in item.messages],
                                     accounts={item.account.id: item.account for item in parsed})
            counts.updated = message_statuses_apply(statuses=[s for item in parsed for s in item.statuses])
        counts.ingested, counts.duplicates = result.ingested, result.duplicates
    except Exception:
        logger.exception("batch ingest failed; retrying payload by payload")
        for item in parsed:
            one = _ingest_one(item.kind, item.raw, item.messages, item.statuses, source=item.source, account=item.account)
            one.failures = [f"{item.name}: {f}" if item.name else f for f in one.failures]
            counts.add(one)
    return counts


def _ingest_one(kind, raw, messages, statuses, *, source, account) -> ImportCounts:
    counts = ImportCounts()
    try:
        with transaction.atomic():
            result = messages_ingest(messages=messages)
            counts.updated = message_statuses_apply(statuses=statuses)
        counts.ingested, counts.duplicates = result.ingested, result.duplicates
    except Exception as exc:
        error = failure_text(exc)
        dead_letter_keep(kind=kind, raw=raw, error=error, source=source, account=account)
        counts.failed, counts.failures = 1, [error]
    return counts
