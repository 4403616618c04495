"""From raw provider payloads to messages_ingest: staging, draining, importing, dead letters."""
import logging
import secrets as token_generator
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from apps.inbox.inbound import InboundMessage, ParseError
from apps.inbox.models import DeadLetter
from apps.inbox.services.ingest import messages_ingest

from .models import ChannelAccount, InboundPayload
from .registry import parser_for

logger = logging.getLogger(__name__)

DRAIN_NUDGE_KEY = "centralita:inbound-drain-queued"
DRAIN_NUDGE_TIMEOUT = 30


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


# --- parsing and dead letters ----------------------------------------------------------------


def payload_parse(*, kind: str, raw: bytes, account_id: int) -> list[InboundMessage]:
    """The channel's pure parser, with ONE rule for what it raises: anything at all is the
    payload's fault (a shape the parser never met), so it comes out as a ParseError that the
    caller keeps as the payload's dead letter, and the next payload goes on."""
    try:
        return parser_for(kind)(raw, account_id=account_id)
    except ParseError:
        raise
    except Exception as exc:  # AttributeError on "sender": "text", RecursionError on deep JSON, ...
        raise ParseError(f"unparseable payload: {exc.__class__.__name__}: {exc}") from exc


def dead_letter_keep(*, kind: str, raw: bytes, error: str, source: str, account: ChannelAccount | None = None) -> DeadLetter:
    logger.warning("dead letter (%s, %s): %s", kind, source, error)
    return DeadLetter.objects.create(
        channel_account=account, kind=kind, source=source, raw=raw[: settings.INBOUND_MAX_PAYLOAD_BYTES], error=_storable(error)
    )


def _storable(error: str) -> str:
    # PostgreSQL text cannot hold NUL: an error quoting the payload must not fail its own keeping.
    return error.replace("\x00", "\\x00")[:5000]


def _failure_text(exc: Exception) -> str:
    return str(exc) if isinstance(exc, ParseError) else f"ingest failed: {exc.__class__.__name__}: {exc}"


def dead_letter_replay(*, dead_letter: DeadLetter) -> ImportCounts:
    """Parse and ingest a kept payload again (after a fix); it is resolved when it goes through."""
    counts = ImportCounts()
    if dead_letter.channel_account is None:
        dead_letter.error = "cannot replay: the channel account is gone"
        dead_letter.save(update_fields=["error"])
        counts.failed = 1
        return counts
    try:
        messages = payload_parse(kind=dead_letter.kind, raw=bytes(dead_letter.raw), account_id=dead_letter.channel_account_id)
        with transaction.atomic():
            result = messages_ingest(messages=messages)
    except Exception as exc:  # still unparseable, or the ingest refuses it: it stays a dead letter
        dead_letter.error = _storable(_failure_text(exc))
        dead_letter.replayed_at = timezone.now()
        dead_letter.save(update_fields=["error", "replayed_at"])
        counts.failed, counts.failures = 1, [dead_letter.error]
        return counts
    dead_letter.replayed_at = timezone.now()
    dead_letter.resolved = True
    dead_letter.save(update_fields=["replayed_at", "resolved"])
    counts.ingested, counts.duplicates = result.ingested, result.duplicates
    return counts


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
    queued drain that was lost (the beat's drain covers that)."""
    from .tasks import inbound_drain

    if settings.CELERY_TASK_ALWAYS_EAGER or cache.add(DRAIN_NUDGE_KEY, 1, timeout=DRAIN_NUDGE_TIMEOUT):
        inbound_drain.delay()


def inbound_drain(*, batch_size: int | None = None, max_batches: int = 1000) -> ImportCounts:
    """Drain staged payloads in batches: parse, ingest, delete — one transaction per batch.

    SKIP LOCKED lets several workers drain side by side; the staged rows are deleted in
    the same transaction as the messages are saved, so a crash loses or repeats nothing.
    A batch is about `batch_size` messages: payloads holding many messages make it end
    early, and the rows it did not reach are unlocked at commit for the next one.
    """
    cache.delete(DRAIN_NUDGE_KEY)  # started: the next staged payload may queue another drain
    batch_size = batch_size or settings.INBOUND_BATCH_SIZE
    total = ImportCounts()
    for _ in range(max_batches):
        with transaction.atomic():
            rows = list(InboundPayload.objects.select_for_update(skip_locked=True).order_by("id")[:batch_size])
            if not rows:
                break
            # Accounts once per batch, not joined per row: each one decrypts its secrets.
            accounts = ChannelAccount.objects.in_bulk({r.channel_account_id for r in rows})
            counts, done = _ingest_rows(rows, accounts, max_messages=batch_size)
            total.add(counts)
            InboundPayload.objects.filter(id__in=[r.id for r in done]).delete()
    return total


def _ingest_rows(
    rows: list[InboundPayload], accounts: dict[int, ChannelAccount], *, max_messages: int
) -> tuple[ImportCounts, list[InboundPayload]]:
    """Parse rows in order until max_messages (at least one row); ingest; return counts and the rows done."""
    counts = ImportCounts()
    parsed: list[tuple[InboundPayload, list[InboundMessage]]] = []
    done, n_messages = [], 0
    for row in rows:
        try:
            messages = payload_parse(kind=row.kind, raw=bytes(row.raw), account_id=row.channel_account_id)
        except ParseError as exc:
            dead_letter_keep(kind=row.kind, raw=bytes(row.raw), error=str(exc), source=row.source, account=accounts[row.channel_account_id])
            counts.failed += 1
            counts.failures.append(str(exc))
            done.append(row)
            continue
        if parsed and n_messages + len(messages) > max_messages:
            break
        parsed.append((row, messages))
        done.append(row)
        n_messages += len(messages)
    try:
        with transaction.atomic():
            result = messages_ingest(messages=[m for _, messages in parsed for m in messages])
        counts.ingested += result.ingested
        counts.duplicates += result.duplicates
    except Exception:
        # One bad payload must not block the batch: retry one by one, dead-letter the culprit.
        logger.exception("batch ingest failed; retrying payload by payload")
        for row, messages in parsed:
            counts.add(_ingest_one(row.kind, bytes(row.raw), messages, source=row.source, account=accounts[row.channel_account_id]))
    return counts, done


def _ingest_one(kind, raw, messages, *, source, account) -> ImportCounts:
    counts = ImportCounts()
    try:
        with transaction.atomic():
            result = messages_ingest(messages=messages)
        counts.ingested, counts.duplicates = result.ingested, result.duplicates
    except Exception as exc:
        error = _failure_text(exc)
        dead_letter_keep(kind=kind, raw=raw, error=error, source=source, account=account)
        counts.failed, counts.failures = 1, [error]
    return counts


# --- imports (manage.py ingest) -------------------------------------------------------------


def payloads_import(
    *,
    kind: str,
    account: ChannelAccount,
    payloads: Iterable[tuple[str, bytes]],
    batch_size: int = 500,
    on_progress: Callable[[ImportCounts], None] | None = None,
) -> ImportCounts:
    """Replay raw payloads (name, bytes) through parse + messages_ingest, in batches."""
    total = ImportCounts()
    pending: list[tuple[str, bytes, list[InboundMessage]]] = []
    pending_messages = 0

    def flush():
        nonlocal pending_messages
        pending_messages = 0
        counts = ImportCounts()
        try:
            with transaction.atomic():
                result = messages_ingest(messages=[m for _, _, messages in pending for m in messages])
            counts.ingested, counts.duplicates = result.ingested, result.duplicates
        except Exception:
            logger.exception("import batch failed; retrying payload by payload")
            for name, raw, messages in pending:
                one = _ingest_one(kind, raw, messages, source="import", account=account)
                one.failures = [f"{name}: {f}" for f in one.failures]
                counts.add(one)
        total.add(counts)
        pending.clear()
        if on_progress:
            on_progress(counts)

    for name, raw in payloads:
        try:
            messages = payload_parse(kind=kind, raw=raw, account_id=account.id)
        except ParseError as exc:
            dead_letter = dead_letter_keep(kind=kind, raw=raw, error=str(exc), source="import", account=account)
            failure = ImportCounts(failed=1, failures=[f"{name}: {exc} (dead letter #{dead_letter.id})"])
            total.add(failure)
            if on_progress:
                on_progress(failure)
            continue
        if pending and pending_messages + len(messages) > batch_size:
            flush()
        pending.append((name, raw, messages))
        pending_messages += len(messages)
    if pending:
        flush()
    return total
