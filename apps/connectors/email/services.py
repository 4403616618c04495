"""Email polling: new mail in the account's IMAP folder -> messages_ingest -> flag or move.

Per chunk of mail, in ascending UID order:
  1. fetch the exact bytes (BODY.PEEK: nothing changes on the server yet);
  2. one transaction: parse, messages_ingest, dead letters for what cannot be parsed or stored,
     and the cursor {uidvalidity, last_uid} moved past the chunk — all or nothing;
  3. after the commit, flag or move the chunk on the server.
A crash before 2 commits: the chunk is fetched again next time (and ingest dedupes anyway).
A crash between 2 and 3: the mail is stored and the cursor is past it, so it is never fetched
again; it only stays unflagged. A new UIDVALIDITY (the folder was rebuilt) resets the cursor:
everything is fetched again and Message-ID dedupe (or the sha256 of the bytes) drops what is known.
"""
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from django.db import transaction

from apps.connectors import services
from apps.connectors.models import ChannelAccount, ChannelKind
from apps.connectors.services import (
    Parsed,
    parsed_ingest,
    channel_account_poll,
    channel_account_record_failure,
    channel_accounts_due,
    dead_letter_keep,
)
from apps.connectors.services import backoff_seconds  # noqa: F401  (re-exported: tests and callers use it here)
from apps.inbox.inbound import ParseError

from .client import FetchedMail, Mailbox, MailServerError
from .parse import parse, statuses

logger = logging.getLogger(__name__)

CHUNK_MAILS = 50
CHUNK_BYTES = 20 * 1024 * 1024
MAX_MAIL_BYTES = 40 * 1024 * 1024  # bigger mail is left in the box, its headers kept as a dead letter
LOCK_SECONDS = 15 * 60  # one poll per account at a time; the lock outlives a hung worker by this much


@dataclass
class PollResult(services.PollResult):
    fetched: int = 0
    marked: int = 0
    uidvalidity_reset: bool = False
    fetched_uids: list[int] = field(default_factory=list)
    LEAD: ClassVar[tuple[str, ...]] = ("fetched",)
    TAIL: ClassVar[tuple[str, ...]] = ("marked",)


def email_accounts_due(*, now: datetime | None = None) -> list[int]:
    """Enabled email accounts whose last failure is older than their backoff."""
    return channel_accounts_due(kind=ChannelKind.EMAIL, now=now)


def email_account_poll(*, account_id: int) -> PollResult | None:
    """Fetch, store and mark the account's new mail; None when disabled or already being polled."""
    return channel_account_poll(kind=ChannelKind.EMAIL, account_id=account_id, lock_seconds=LOCK_SECONDS, poll=_poll_mailbox)


def _poll_mailbox(account: ChannelAccount) -> PollResult:
    result = PollResult()
    try:
        _poll(account, result)
    except MailServerError as exc:
        # A slow, unreachable or refusing server: shown in the account's health, retried with backoff.
        result.error = str(exc)
        logger.warning("email poll of account %s failed: %s", account.id, exc)
        channel_account_record_failure(account=account, error=result.error)
    return result


def _poll(account: ChannelAccount, result: PollResult) -> None:
    with Mailbox(settings=account.settings, secrets=account.secrets) as box:
        cursor = account.cursor or {}
        last_uid = int(cursor.get("last_uid") or 0)
        if cursor.get("uidvalidity") not in (None, box.uidvalidity):
            logger.warning("account %s: UIDVALIDITY changed %s -> %s; fetching the folder again",
                           account.id, cursor.get("uidvalidity"), box.uidvalidity)
            last_uid = 0
            result.uidvalidity_reset = True
        for chunk in _chunks(box.uids_after(last_uid)):
            oversized = [uid for uid, size in chunk if size > MAX_MAIL_BYTES]
            fetched = box.fetch([uid for uid, size in chunk if size <= MAX_MAIL_BYTES])
            result.fetched += len(fetched)
            result.fetched_uids += [m.uid for m in fetched]
            too_big = [(uid, size, box.headers(uid)) for uid, size in chunk if uid in oversized]
            done = _store_chunk(account, box.uidvalidity, chunk[-1][0], fetched, too_big, result)
            box.mark_processed(done)  # only now: the chunk and the cursor have committed
            result.marked += len(done)


def _chunks(pending: list[tuple[int, int]]):
    chunk, size = [], 0
    for uid, mail_size in pending:
        if chunk and (len(chunk) >= CHUNK_MAILS or size + mail_size > CHUNK_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append((uid, mail_size))
        size += mail_size
    if chunk:
        yield chunk


def _store_chunk(account, uidvalidity: int, last_uid: int, fetched: list[FetchedMail], too_big, result) -> list[int]:
    """Ingest a chunk and move the cursor in one transaction; returns the UIDs to mark processed."""
    with transaction.atomic():
        locked = ChannelAccount.objects.select_for_update().get(pk=account.pk)
        cursor = locked.cursor or {}
        if cursor.get("uidvalidity") == uidvalidity and int(cursor.get("last_uid") or 0) >= last_uid:
            return []  # a concurrent poll stored this chunk already
        done, parsed = [], []
        for mail in fetched:
            try:
                parsed.append((mail, parse(mail.raw, account_id=account.id)))
            except ParseError as exc:
                _dead_letter(account, mail.uid, mail.raw, str(exc), result)
                done.append(mail.uid)
        _ingest(account, parsed, result)
        done += [mail.uid for mail, _ in parsed]
        for uid, size, headers in too_big:
            _dead_letter(account, uid, headers, f"mail of {size} bytes is over the {MAX_MAIL_BYTES} byte limit; "
                         "only its headers are kept here and it stays in the mailbox", result)
        locked.cursor = {**cursor, "uidvalidity": uidvalidity, "last_uid": last_uid}
        locked.save(update_fields=["cursor"])
    return sorted(done)


def _ingest(account, parsed: list[tuple[FetchedMail, list]], result: PollResult) -> None:
    """The connectors' one ingest-with-fallback: a batch, else mail by mail (a bad one is a dead letter)."""
    if not parsed:
        return
    counts = parsed_ingest([
        Parsed(kind="email", raw=mail.raw, messages=messages, source="poll", account=account, name=f"IMAP UID {mail.uid}",
               statuses=statuses(mail.raw, messages, account_id=account.id))
        for mail, messages in parsed
    ])
    result.add(counts)


def _dead_letter(account, uid: int, raw: bytes, error: str, result: PollResult) -> None:
    dead_letter_keep(kind="email", raw=raw, error=f"IMAP UID {uid}: {error}", source="poll", account=account)
    result.failed += 1
