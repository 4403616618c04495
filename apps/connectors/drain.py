"""Staged and imported payloads through each channel's parser into messages_ingest.

The drain (webhooks stage, the worker drains), dead-letter replay and `manage.py ingest` share
one rule for a payload that cannot be parsed (payload_parse) and one ingest-with-fallback
(services.parsed_ingest): a bad payload becomes a dead letter, never a stop.
"""
import logging
import multiprocessing
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import connections as db_connections
from django.db import transaction
from django.utils import timezone

from apps.inbox.inbound import InboundMessage, InboundStatus, ParseError
from apps.inbox.services.ingest import messages_held_elsewhere, messages_ingest
from apps.inbox.services.statuses import message_statuses_apply

from .models import ChannelAccount, DeadLetter, InboundPayload
from .registry import parser_for, splitter_for, statuses_for
from .services import DRAIN_NUDGE_KEY, ImportCounts, Parsed, dead_letter_keep, failure_text, parsed_ingest, storable_text

logger = logging.getLogger(__name__)


def payload_parse(*, kind: str, raw: bytes, account_id: int) -> tuple[list[InboundMessage], list[InboundStatus]]:
    """The channel's pure parsers (messages, then what the payload reports about stored ones),
    with ONE rule for what they raise: anything at all is the payload's fault (a shape the parser
    never met), so it comes out as a ParseError that the caller keeps as the payload's dead
    letter, and the next payload goes on."""
    try:
        messages = parser_for(kind)(raw, account_id=account_id)
        statuses = statuses_for(kind)
        return messages, (statuses(raw, messages, account_id=account_id) if statuses else [])
    except ParseError:
        raise
    except Exception as exc:  # AttributeError on "sender": "text", RecursionError on deep JSON, ...
        raise ParseError(f"unparseable payload: {exc.__class__.__name__}: {exc}") from exc


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
            _commit_without_waiting_for_disk()
            # Accounts once per batch, not joined per row: each one decrypts its secrets.
            accounts = ChannelAccount.objects.order_by().in_bulk({r.channel_account_id for r in rows})
            counts, done = _ingest_rows(rows, accounts, max_messages=batch_size)
            total.add(counts)
            InboundPayload.objects.filter(id__in=[r.id for r in done]).delete()
        if not done:
            break  # all left is being stored by another drain right now, which goes on to take it
    return total


def _commit_without_waiting_for_disk() -> None:
    """This transaction's commit returns before its WAL is on disk (PostgreSQL's asynchronous commit).

    Safe here: a batch's messages and the deletion of its staged payloads commit together, and the
    payloads were staged with a durable commit. If PostgreSQL crashes in the fraction of a second
    before the WAL is flushed, the whole batch is lost together, the payloads are still staged and
    the next drain ingests them (at most once each: external ids). Waiting for the flush left both
    cores idle at every batch's commit (bench/README.md, ingest_throughput)."""
    connection = db_connections["default"]
    # Only when the batch is a transaction of its own: inside a caller's (a savepoint), the setting
    # would also cover what the caller wrote.
    if connection.vendor == "postgresql" and not connection.savepoint_ids:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _ingest_rows(
    rows: list[InboundPayload], accounts: dict[int, ChannelAccount], *, max_messages: int
) -> tuple[ImportCounts, list[InboundPayload]]:
    """Parse rows in order until max_messages (at least one row); ingest; return counts and the rows done."""
    counts = ImportCounts()
    parsed: list[tuple[InboundPayload, Parsed]] = []
    done, n_messages = [], 0
    for row in rows:
        raw, account = bytes(row.raw), accounts[row.channel_account_id]
        try:
            messages, statuses = payload_parse(kind=row.kind, raw=raw, account_id=account.id)
        except ParseError as exc:
            dead_letter_keep(kind=row.kind, raw=raw, error=str(exc), source=row.source, account=account)
            counts.add(ImportCounts(failed=1, failures=[str(exc)]))
            done.append(row)
            continue
        if parsed and n_messages + len(messages) > max_messages:
            break
        parsed.append((row, Parsed(kind=row.kind, raw=raw, messages=messages, statuses=statuses, source=row.source, account=account)))
        n_messages += len(messages)
    # A payload with a message another worker is storing right now (the same one, or one from the
    # same sender) stays staged for the next batch: this one goes on instead of waiting for that commit.
    payload_of = [i for i, (_, p) in enumerate(parsed) for _ in p.messages]  # each message's payload
    held = {payload_of[j] for j in messages_held_elsewhere([m for _, p in parsed for m in p.messages])}
    ready = [pair for i, pair in enumerate(parsed) if i not in held]
    counts.add(parsed_ingest([p for _, p in ready]))
    return counts, done + [row for row, _ in ready]


def dead_letter_replay(*, dead_letter: DeadLetter) -> ImportCounts:
    """Parse and ingest a kept payload again (after a fix); it is resolved when it goes through."""
    counts = ImportCounts()
    if dead_letter.channel_account is None:
        dead_letter.error = "cannot replay: the channel account is gone"
        dead_letter.save(update_fields=["error"])
        counts.failed = 1
        return counts
    try:
        messages, statuses = payload_parse(kind=dead_letter.kind, raw=bytes(dead_letter.raw), account_id=dead_letter.channel_account_id)
        with transaction.atomic():
            result = messages_ingest(messages=messages)
            counts.updated = message_statuses_apply(statuses=statuses)
    except Exception as exc:  # still unparseable, or the ingest refuses it: it stays a dead letter
        dead_letter.error = storable_text(failure_text(exc))
        dead_letter.replayed_at = timezone.now()
        dead_letter.save(update_fields=["error", "replayed_at"])
        counts.failed, counts.failures = 1, [dead_letter.error]
        return counts
    dead_letter.replayed_at = timezone.now()
    dead_letter.resolved = True
    dead_letter.save(update_fields=["replayed_at", "resolved"])
    counts.ingested, counts.duplicates = result.ingested, result.duplicates
    return counts


def files_split(*, kind: str, account: ChannelAccount, files: Iterable[tuple[str, bytes]]) -> tuple[list[tuple[str, bytes]], ImportCounts]:
    """Each file into its payloads (an mbox into mails, a CDR file into rows). A file the splitter
    refuses as a whole (another layout) is kept as one dead letter with its reason, and the
    import goes on with the next file."""
    payloads: list[tuple[str, bytes]] = []
    refused = ImportCounts()
    split = splitter_for(kind)
    for name, raw in files:
        try:
            payloads += list(split(name, raw))
        except ParseError as exc:
            dead_letter = dead_letter_keep(kind=kind, raw=raw, error=str(exc), source="import", account=account)
            refused.add(ImportCounts(failed=1, failures=[f"{name}: {exc} (dead letter #{dead_letter.id})"]))
    return payloads, refused


def payloads_import(
    *,
    kind: str,
    account: ChannelAccount,
    payloads: Iterable[tuple[str, bytes]],
    batch_size: int = 500,
    on_progress: Callable[[ImportCounts], None] | None = None,
    parse_workers: int = 1,
) -> ImportCounts:
    """Replay raw payloads (name, bytes) through parse + messages_ingest, in batches.

    With parse_workers > 1 the parsing (pure, CPU-bound: a mail's MIME tree, charsets, HTML)
    runs in that many forked processes while this one ingests, in the payloads' order."""
    total = ImportCounts()
    pending: list[Parsed] = []
    pending_messages = 0

    def report(counts: ImportCounts) -> None:
        total.add(counts)
        if on_progress:
            on_progress(counts)

    for name, raw, messages, statuses, error in _parsed(kind, payloads, account.id, parse_workers):
        if error is not None:
            dead_letter = dead_letter_keep(kind=kind, raw=raw, error=error, source="import", account=account)
            report(ImportCounts(failed=1, failures=[f"{name}: {error} (dead letter #{dead_letter.id})"]))
            continue
        if pending and pending_messages + len(messages) > batch_size:
            report(parsed_ingest(pending))
            pending, pending_messages = [], 0
        pending.append(Parsed(kind=kind, raw=raw, messages=messages, statuses=statuses, source="import", account=account, name=name))
        pending_messages += len(messages)
    if pending:
        report(parsed_ingest(pending))
    return total


def _parse_job(job: tuple[str, bytes, int]):
    kind, raw, account_id = job
    try:
        messages, statuses = payload_parse(kind=kind, raw=raw, account_id=account_id)
        return messages, statuses, None
    except ParseError as exc:
        return [], [], str(exc)


def _parsed(kind: str, payloads: Iterable[tuple[str, bytes]], account_id: int, workers: int):
    """(name, raw, messages, statuses, error) per payload, in order; parsed here or by a pool."""
    payloads = list(payloads)
    jobs = ((kind, raw, account_id) for _, raw in payloads)
    if workers <= 1 or transaction.get_connection().in_atomic_block:
        for (name, raw), parsed in zip(payloads, map(_parse_job, jobs)):
            yield name, raw, *parsed
        return
    # A forked child must not share (and, exiting, close) this process's database sockets.
    db_connections.close_all()
    # fork: the children inherit the configured Django and the channel registry; they only parse,
    # and send back what they parsed, not the payload: this process holds it already.
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for (name, raw), parsed in zip(payloads, pool.imap(_parse_job, jobs, chunksize=8)):
            yield name, raw, *parsed
