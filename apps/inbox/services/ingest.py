"""messages_ingest: the one path by which every channel's inbound messages enter the desk.

A batch goes into one transaction, with set-based look-ups (a few queries per
batch, not per message):

1. dedupe: in the batch, then against stored (account, external_id);
2. identities -> customers (unknown identities of a message join its customer;
   identities already owned by two customers become a MergeSuggestion);
3. threading: references, then thread key, then the customer's open conversation;
   a resolved conversation reopens when the customer writes back;
4. messages, attachments, audit events, SLA clocks (apps/inbox/clocks.py); then, on commit,
   live events.

Concurrency (PostgreSQL): a batch first takes a transaction-scoped advisory lock per
(account, external_id), in one order, so a worker holding a redelivered copy of a
message another worker is storing waits for that commit and then drops it as a
duplicate. The drain asks first, without waiting (messages_held_elsewhere: the same
message, or one from the same sender), and leaves those payloads staged for its next batch. Identities and keyed conversations are inserted with ON CONFLICT DO
NOTHING and read back, so two workers converge on the same rows. Customers about to
get a new conversation and existing conversations are locked in id order. Should a
writer that takes no advisory lock store a message first, the unique (account,
external_id) index trips and the whole batch is retried, seeing it as a duplicate.
"""
import hashlib
import html as html_lib
import logging
from collections import defaultdict
from dataclasses import dataclass, field

import nh3
from celery import current_app
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, OperationalError, connection, transaction

from apps.core.bulk import rows_insert, rows_update
from apps.core.errors import ApplicationError
from apps.crm.identities import InvalidIdentity, normalize
from apps.crm.models import Customer, Identity, MergeSuggestion

from ..channels import channel_accounts
from ..clocks import clocks_start, clocks_sync
from ..events import publish_conversations_and_messages
from ..inbound import InboundMessage
from ..models import IN_QUEUE, Attachment, Conversation, ConversationEvent, Message, message_preview
from ..queue import agents_pick, priority_judge
from .conversations import assignments_notify, conversations_assign_routed

MODERATE_TASK = "apps.inbox.tasks.message_moderate"  # named, not imported: the task module imports this one

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Advisory locks live in PostgreSQL's shared lock table (max_locks_per_transaction ×
# max_connections, 6,400 by default, for every session): a larger batch takes none and
# relies on the unique index and a retry instead.
MAX_LOCKED_MESSAGES = 2000
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024


@dataclass
class IngestResult:
    message_ids: list[int] = field(default_factory=list)
    duplicates: int = 0

    @property
    def ingested(self) -> int:
        return len(self.message_ids)


def messages_ingest(*, messages: list[InboundMessage], accounts: dict | None = None) -> IngestResult:
    """Ingest a batch atomically; safe to call again with the same messages. `accounts`: the channel
    accounts (id -> account) the caller has already loaded (the drain), not read again."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return _ingest_batch(messages, accounts or {})
        except (IntegrityError, OperationalError, CustomerMergedMeanwhile) as exc:
            # A concurrent worker stored one of ours first, a deadlock, or a merge: retry sees its rows.
            if attempt == MAX_ATTEMPTS or not _is_retryable(exc):
                raise
            logger.info("ingest batch of %d retried after %s", len(messages), exc.__class__.__name__)
    raise AssertionError("unreachable")


class CustomerMergedMeanwhile(Exception):
    """A customer this batch read was merged away before the batch could lock it: read again."""


def _check_no_merge_meanwhile(customer_ids: set[int]) -> None:
    """Inserting the messages took FOR KEY SHARE on their customers (the foreign-key checks), so a
    merge (FOR UPDATE on both customers) either waits for this batch — and then moves its rows —
    or had committed before: then it is visible now, and the batch, which read the identity's
    old owner, is redone so that nothing lands on the tombstone. No lock of our own: the
    common case costs one indexed read."""
    if Customer.objects.filter(id__in=customer_ids, merged_into__isnull=False).exists():
        raise CustomerMergedMeanwhile(sorted(customer_ids))


def _is_retryable(exc: Exception) -> bool:
    if isinstance(exc, (IntegrityError, CustomerMergedMeanwhile)):
        return True
    code = getattr(getattr(exc, "__cause__", None), "pgcode", None)
    return code in ("40P01", "40001") or "locked" in str(exc)


# --- the batch -----------------------------------------------------------------------


def _ingest_batch(batch: list[InboundMessage], loaded: dict) -> IngestResult:
    _lock_external_ids(batch)
    fresh, duplicates = _drop_duplicates(batch)
    if not fresh:
        return IngestResult(duplicates=duplicates)
    fresh.sort(key=lambda m: m.sent_at)
    wanted = {m.account_id for m in fresh}
    accounts = {i: loaded[i] for i in wanted if i in loaded}
    if wanted - accounts.keys():
        accounts.update(channel_accounts(wanted - accounts.keys()))
    missing = wanted - set(accounts)
    if missing:
        raise ApplicationError("Unknown channel account", extra={"account_ids": sorted(missing)})
    for m in fresh:
        _bound_content(m)

    sender_customer_ids, sender_identity_ids, new_customer_ids = _resolve_customers(fresh)
    judge = _judge(fresh, accounts, sender_customer_ids)
    conversation_of, created, reopened, raised = _thread(fresh, accounts, sender_customer_ids, new_customer_ids, judge)
    to_hide = _moderate(fresh, accounts, sender_customer_ids, judge)

    messages = [
        Message(
            conversation_id=conversation_of[i].id,
            customer_id=sender_customer_ids[i] if m.direction == Message.Direction.IN else conversation_of[i].customer_id,
            channel_account_id=m.account_id,
            direction=m.direction,
            kind=m.kind,
            sender_identity_id=sender_identity_ids[i],
            subject=m.subject[:255],
            text=m.text,
            html=m.html,
            is_public=m.is_public,
            sent_at=m.sent_at,
            delivery_status=Message.Delivery.RECEIVED if m.direction == "in" else Message.Delivery.SENT,
            external_id=m.external_id,
            metadata=m.metadata,
        )
        for i, m in enumerate(fresh)
    ]
    rows_insert(messages)
    _check_no_merge_meanwhile({*sender_customer_ids, *(c.customer_id for c in conversation_of)})
    _save_attachments(fresh, messages)
    _record_events(created, reopened, raised)
    _record_moderation(fresh, messages, conversation_of)
    # Routing picks (apps/inbox/queue.py): new and reopened conversations of auto-routed teams go to
    # an online agent with room in this transaction, so they are announced already assigned.
    arrived = created + [c for c, _ in reopened]
    auto_assigned = conversations_assign_routed(arrived, agents_pick(arrived))

    conversations = list({c.id: c for c in conversation_of}.values())
    # SLA clocks follow what the messages changed (waiting_since, status): started, resumed,
    # answered by an echo, a new resolution clock on reopening. Set on these objects before publishing.
    # The new ones' clocks started with their INSERT (_thread).
    created_ids = {c.id for c in created}
    clocks_sync([c for c in conversations if c.id not in created_ids])
    publish_conversations_and_messages(
        conversations=conversations, messages=messages, created_ids=created_ids
    )
    assignments_notify(auto_assigned)
    if to_hide:
        for i in to_hide:  # the network is called after commit, never in this transaction
            transaction.on_commit(current_app.signature(MODERATE_TASK, args=(messages[i].id,)).delay)
    return IngestResult(message_ids=[m.id for m in messages], duplicates=duplicates)


def _lock_external_ids(batch: list[InboundMessage]) -> None:
    """Wait for any concurrent batch holding one of our messages (see the module docstring).

    Sorted keys: two batches never wait on each other in a cycle. Released at commit or
    rollback. SQLite has a single writer, so nothing to do there.
    """
    if connection.vendor != "postgresql" or not batch or len(batch) > MAX_LOCKED_MESSAGES:
        return
    keys = sorted({_lock_key(m.account_id, m.external_id) for m in batch})
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) AS k", [keys])


def messages_held_elsewhere(messages: list[InboundMessage]) -> set[int]:
    """Indexes of the messages another transaction is ingesting right now: the same message (a
    re-delivery), or one from the same sender. The others are locked for this transaction, without
    waiting (transaction-scoped advisory locks; messages_ingest takes the same ones again).

    A drain leaves the held ones staged for its next batch, where they come after the other
    worker's commit: in order for that sender, and a re-delivery is then a duplicate. Waiting
    instead held a whole batch behind the other's commit, on the message's lock or on the unique
    index of a sender's new identity (bench/README.md, ingest_throughput). SQLite: none."""
    if connection.vendor != "postgresql" or not messages:
        return set()
    keys_of = [message_lock_keys(m) for m in messages]
    with connection.cursor() as cursor:
        cursor.execute("SELECT k FROM unnest(%s::bigint[]) AS k WHERE NOT pg_try_advisory_xact_lock(k)",
                       [sorted({k for keys in keys_of for k in keys})])
        held = {k for (k,) in cursor.fetchall()}
    return {i for i, keys in enumerate(keys_of) if held.intersection(keys)}


def message_lock_keys(m: InboundMessage) -> list[int]:
    """The advisory-lock keys a batch holds for a message: its own and each of its senders'."""
    keys = [_lock_key(m.account_id, m.external_id)]
    for sender in m.senders:
        try:
            value = normalize(sender.kind, sender.value)
        except InvalidIdentity:
            continue
        digest = hashlib.blake2b(f"sender:{sender.kind}:{value}".encode(), digest_size=8).digest()
        keys.append(int.from_bytes(digest, "big", signed=True))
    return keys


def _lock_key(account_id: int, external_id: str) -> int:
    digest = hashlib.blake2b(f"message:{account_id}:{external_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _drop_duplicates(batch: list[InboundMessage]) -> tuple[list[InboundMessage], int]:
    unique: dict[tuple[int, str], InboundMessage] = {}
    for m in batch:
        unique.setdefault((m.account_id, m.external_id), m)
    ids_by_account = defaultdict(list)
    for account_id, external_id in unique:
        ids_by_account[account_id].append(external_id)
    stored = set()
    for account_id, external_ids in ids_by_account.items():
        stored.update(
            (account_id, e)
            for e in Message.objects.filter(channel_account_id=account_id, external_id__in=external_ids)
            .values_list("external_id", flat=True)
        )
    fresh = [m for key, m in unique.items() if key not in stored]
    return fresh, len(batch) - len(fresh)


def _bound_content(m: InboundMessage) -> None:
    """Untrusted content: sanitize HTML, bound sizes, derive text for search."""
    limit = settings.MESSAGE_MAX_TEXT_CHARS
    if m.html:
        m.html = nh3.clean(m.html[: limit * 2])
        if not m.text:
            m.text = html_lib.unescape(nh3.clean(m.html, tags=set()))
    if len(m.text) > limit:
        m.text = m.text[:limit]
        m.metadata["truncated"] = True
    kept = []
    for a in m.attachments:
        if a.content is not None and len(a.content) > MAX_ATTACHMENT_BYTES:
            m.metadata.setdefault("dropped_attachments", []).append(
                f"{a.filename}: {len(a.content)} bytes over the {MAX_ATTACHMENT_BYTES} byte limit"
            )
        else:
            kept.append(a)
    m.attachments = kept


# --- identities -> customers -----------------------------------------------------------


def _resolve_customers(fresh: list[InboundMessage]) -> tuple[list[int], list[int | None], set[int]]:
    """Return, per message, the sender's customer id and primary identity id; and the ids of the
    customers this batch created (uncommitted: no conversation of theirs exists anywhere)."""
    keys_per_message: list[list[tuple[str, str]]] = []
    sender_of_key = {}
    for m in fresh:
        keys, invalid = [], []
        for sender in m.senders:
            try:
                key = (sender.kind, normalize(sender.kind, sender.value))
            except InvalidIdentity as exc:
                invalid.append(str(exc))
                continue
            if key not in keys:
                keys.append(key)
            sender_of_key.setdefault(key, sender)
        if invalid:  # assigned, not appended: a retried batch passes here again
            m.metadata["invalid_identities"] = invalid
        if not keys:
            m.metadata["unknown_sender"] = True
        keys_per_message.append(keys)

    owners = _identity_owners(sender_of_key.keys())

    # Decide in memory who each message belongs to; new people get a new Customer.
    owner_of_key: dict = {key: customer_id for key, (_, customer_id) in owners.items()}
    new_customers: list[Customer] = []
    decided = []
    for m, keys in zip(fresh, keys_per_message):
        owner = next((owner_of_key[k] for k in keys if k in owner_of_key), None)
        if owner is None:
            owner = Customer(display_name=_display_name(m))
            new_customers.append(owner)
        for k in keys:
            owner_of_key.setdefault(k, owner)
        decided.append(owner)
    rows_insert(new_customers)

    new_keys = sorted(k for k in sender_of_key if k not in owners)  # sorted: a fixed lock order
    if new_keys:
        Identity.objects.bulk_create(
            [
                Identity(
                    customer_id=_id(owner_of_key[k]),
                    kind=k[0],
                    value=k[1],
                    handle=sender_of_key[k].handle[:255],
                    display_name=sender_of_key[k].display_name[:200],
                )
                for k in new_keys
            ],
            ignore_conflicts=True,
        )
        # Read back: where another worker won the race, its customer is the owner.
        owners.update(_identity_owners(new_keys))

    customer_ids, identity_ids = [], []
    suggestions = {}
    for m, keys, owner in zip(fresh, keys_per_message, decided):
        if not keys:  # no usable sender: its own customer, flagged in metadata
            customer_ids.append(_id(owner))
            identity_ids.append(None)
            continue
        primary_identity_id, customer_id = owners[keys[0]]
        customer_ids.append(customer_id)
        identity_ids.append(primary_identity_id)
        for k in keys[1:]:
            other = owners[k][1]
            if other != customer_id:
                pair = (customer_id, other)
                suggestions.setdefault(pair, f"{k[0]} {k[1]} belongs to another customer (message {m.external_id})")
    if suggestions:
        MergeSuggestion.objects.bulk_create(
            [MergeSuggestion(customer_id=a, other_id=b, reason=reason[:255]) for (a, b), reason in suggestions.items()],
            ignore_conflicts=True,
        )
    kept = _drop_orphans(new_customers, used={*customer_ids, *(c for _, c in owners.values())})
    return customer_ids, identity_ids, kept


def _identity_owners(keys) -> dict[tuple[str, str], tuple[int, int]]:
    values_by_kind = defaultdict(list)
    for kind, value in keys:
        values_by_kind[kind].append(value)
    owners = {}
    for kind, values in values_by_kind.items():
        rows = Identity.objects.filter(kind=kind, value__in=values).values_list("value", "id", "customer_id")
        owners.update({(kind, value): (identity_id, customer_id) for value, identity_id, customer_id in rows})
    return owners


def _id(owner) -> int:
    return owner if isinstance(owner, int) else owner.id


def _drop_orphans(new_customers: list[Customer], used: set[int]) -> set[int]:
    """Delete the new customers no identity ended up with; return the ids of those kept."""
    orphans = [c.id for c in new_customers if c.id not in used]
    if orphans:  # lost an identity race: the person already existed
        Customer.objects.filter(id__in=orphans).delete()
    return {c.id for c in new_customers} - set(orphans)


def _display_name(m: InboundMessage) -> str:
    for sender in m.senders:
        if sender.display_name or sender.handle or sender.value:
            return (sender.display_name or sender.handle or sender.value)[:200]
    return "Unknown sender"


# --- threading ------------------------------------------------------------------------


def _thread(fresh, accounts, sender_customer_ids, new_customer_ids: set[int], judge):
    """Find or create each message's conversation; return (per-message conversation, created, reopened,
    raised: existing conversations whose priority a rule that read the new message raised).
    The customers this batch created have no conversation yet: nothing to look up or lock for them."""
    refs_by_account, keys_by_account, unkeyed = defaultdict(set), defaultdict(set), set()
    for m, customer_id in zip(fresh, sender_customer_ids):
        refs_by_account[m.account_id].update(r for r in m.references if r)
        if m.thread_key:
            keys_by_account[m.account_id].add(m.thread_key)
        elif customer_id not in new_customer_ids:
            unkeyed.add((m.account_id, customer_id))

    by_reference, by_key, open_unkeyed = {}, {}, {}
    for account_id, refs in refs_by_account.items():
        if refs:
            rows = Message.objects.filter(channel_account_id=account_id, external_id__in=refs)
            by_reference.update({(account_id, e): c for e, c in rows.values_list("external_id", "conversation_id")})
    for account_id, keys in keys_by_account.items():
        rows = Conversation.objects.filter(channel_account_id=account_id, thread_key__in=keys)
        by_key.update({(account_id, k): c for k, c in rows.values_list("thread_key", "id")})
    if unkeyed:
        open_unkeyed.update(_open_unkeyed(unkeyed))
        missing = unkeyed - open_unkeyed.keys()
        if missing:
            # About to open conversations for these customers: lock them (id order) so that a
            # concurrent worker does not open a second one, then look again once we hold them.
            # NO KEY UPDATE: it must not block the foreign-key checks of rows pointing at them.
            customer_ids = {c for _, c in missing}
            customers = Customer.objects.select_for_update(no_key=True).filter(id__in=customer_ids).order_by("id")
            list(customers.values_list("id"))
            open_unkeyed.update(_open_unkeyed(missing))

    # Each message gets a slot: an existing conversation id or a new (unsaved) Conversation.
    slots = []
    batch_ids = {}
    new_conversations: list[Conversation] = []
    for m, customer_id in zip(fresh, sender_customer_ids):
        slot = None
        for ref in m.references:
            slot = batch_ids.get((m.account_id, ref)) or by_reference.get((m.account_id, ref))
            if slot is not None:
                break
        if slot is None and m.thread_key:
            slot = by_key.get((m.account_id, m.thread_key))
        if slot is None and not m.thread_key:
            slot = open_unkeyed.get((m.account_id, customer_id))
        if slot is None:
            slot = _new_conversation(m, accounts[m.account_id], customer_id, judge)
            new_conversations.append(slot)
            if m.thread_key:
                by_key[(m.account_id, m.thread_key)] = slot
            else:
                open_unkeyed[(m.account_id, customer_id)] = slot
        batch_ids[(m.account_id, m.external_id)] = slot
        slots.append(slot)

    messages_of = defaultdict(list)
    for slot, m in zip(slots, fresh):
        messages_of[id(slot) if isinstance(slot, Conversation) else slot].append(m)
    for conversation in new_conversations:
        _apply_messages(conversation, messages_of[id(conversation)])
    clocks_write = clocks_start(new_conversations)  # their SLA summary goes in with the INSERT
    created, lost = _insert_conversations(new_conversations)
    clocks_write(created)

    # Existing conversations (and races lost to another worker): lock in id order, then update.
    existing_ids = {s for s in slots if isinstance(s, int)} | set(lost.values())
    for placeholder_key, conversation_id in lost.items():
        messages_of[conversation_id].extend(messages_of.pop(placeholder_key))
    locked = {
        c.id: c for c in Conversation.objects.select_for_update(no_key=True).filter(id__in=existing_ids).order_by("id")
    }
    reopened, raised = [], []
    for conversation in locked.values():
        before = conversation.status
        _apply_messages(conversation, sorted(messages_of[conversation.id], key=lambda m: m.sent_at))
        if before != conversation.status:
            reopened.append((conversation, before))
        escalation = _escalation(conversation, messages_of[conversation.id], accounts, judge)
        if escalation is not None:
            raised.append(escalation)
    _save_conversations(list(locked.values()))

    resolved = []
    for slot in slots:
        if isinstance(slot, Conversation):
            resolved.append(locked[lost[id(slot)]] if id(slot) in lost else slot)
        else:
            resolved.append(locked[slot])
    return resolved, created, reopened, raised


def _open_unkeyed(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """(account, customer) -> their latest open or pending conversation without a thread key."""
    rows = (
        Conversation.objects.filter(
            channel_account_id__in={a for a, _ in pairs},
            customer_id__in={c for _, c in pairs},
            thread_key__isnull=True,
            status__in=IN_QUEUE,
        )
        .order_by("last_activity_at")
        .values_list("channel_account_id", "customer_id", "id")
    )
    return {(a, c): conversation_id for a, c, conversation_id in rows}  # latest wins


_UPDATED_FIELDS = [
    "status", "priority", "subject", "first_inbound_at", "last_inbound_at", "last_activity_at", "waiting_since",
    "first_response_at", "last_message_preview", "message_count",
]


def _save_conversations(conversations: list[Conversation]) -> None:
    """Write back the counters and times of existing conversations (one statement: rows_update)."""
    rows_update(conversations, _UPDATED_FIELDS)


def _new_conversation(m: InboundMessage, account, customer_id: int, judge) -> Conversation:
    reasons = []
    if m.priority is not None:  # the sender said (the inbound API, the demo): rules do not overrule it
        priority = m.priority
    else:
        verdict = _verdict(m, account, customer_id, judge)
        priority = Conversation.Priority.NORMAL if verdict.priority is None else verdict.priority
        # The reasons for the priority; a moderation-only rule is the flag's reason, recorded with it.
        reasons = [r for r in verdict.reasons if r.get("priority") is not None]
    conversation = Conversation(
        customer_id=customer_id,
        channel_account_id=account.id,
        team_id=account.team_id,
        thread_key=m.thread_key or None,
        status=Conversation.Status.OPEN if m.opens_conversation else Conversation.Status.RESOLVED,
        priority=priority,
        is_public=m.is_public,
        subject=m.subject[:255],
        last_activity_at=m.sent_at,
    )
    conversation._priority_reasons = reasons  # recorded as its priority event once it has an id
    return conversation


# --- priority rules and moderation (the rules are routing's: apps/routing/services.py) ------------


def _judge(fresh, accounts, sender_customer_ids):
    judge = priority_judge()
    judge.prepare(contacts=[
        (customer_id, accounts[m.account_id].kind, m.sent_at)
        for m, customer_id in zip(fresh, sender_customer_ids)
        if m.direction == Message.Direction.IN and m.opens_conversation
    ])
    return judge


def _verdict(m: InboundMessage, account, customer_id: int, judge):
    return judge.judge(channel_kind=account.kind, is_public=m.is_public, text=f"{m.subject}\n{m.text}",
                       customer_id=customer_id, at=m.sent_at)


def _escalation(conversation: Conversation, messages: list[InboundMessage], accounts, judge):
    """A later customer message that a rule reading words fires on raises the priority (never lowers
    it: an agent's choice stands against channel-only rules). Returns (conversation, before, reasons)."""
    best, reasons = conversation.priority, []
    for m in messages:
        if m.direction != Message.Direction.IN or not m.opens_conversation or not m.text:
            continue
        verdict = _verdict(m, accounts[m.account_id], conversation.customer_id, judge)
        worded = [r for r in verdict.reasons if r.get("words") and r.get("priority") is not None]
        top = max((r["priority"] for r in worded), default=None)
        if top is not None and top > best:
            best, reasons = top, verdict.reasons
    if best == conversation.priority or conversation.status == Conversation.Status.SPAM:
        return None
    before, conversation.priority = conversation.priority, best
    return conversation, before, reasons


def _moderate(fresh, accounts, sender_customer_ids, judge) -> list[int]:
    """Public customer comments a moderation rule fires on are flagged in their metadata (kept in the
    history, shown to agents); those to hide are returned (indexes into fresh) for after commit."""
    if not judge.moderates:
        return []
    to_hide = []
    for i, (m, customer_id) in enumerate(zip(fresh, sender_customer_ids)):
        if m.direction != Message.Direction.IN or not m.is_public:
            continue
        verdict = _verdict(m, accounts[m.account_id], customer_id, judge)
        if not verdict.moderation:
            continue
        reasons = [r for r in verdict.reasons if r.get("moderation")]  # the moderation rules that fired
        m.metadata = {**(m.metadata or {}), "moderation": {"flagged": True, "action": verdict.moderation, "reasons": reasons}}
        if verdict.moderation == "hide":
            to_hide.append(i)
    return to_hide


def _insert_conversations(new_conversations: list[Conversation]):
    """Insert; keyed ones tolerate a concurrent insert of the same thread (then use that row)."""
    keyed = sorted((c for c in new_conversations if c.thread_key), key=lambda c: (c.channel_account_id, c.thread_key))
    unkeyed = [c for c in new_conversations if not c.thread_key]
    rows_insert(unkeyed)
    created, lost = list(unkeyed), {}
    if keyed:
        Conversation.objects.bulk_create(keyed, ignore_conflicts=True)
        stored = {}
        for account_id in {c.channel_account_id for c in keyed}:
            rows = Conversation.objects.filter(
                channel_account_id=account_id, thread_key__in=[c.thread_key for c in keyed if c.channel_account_id == account_id]
            ).values_list("thread_key", "id", "created_at")
            stored.update({(account_id, k): (i, t) for k, i, t in rows})
        for c in keyed:
            conversation_id, created_at = stored[(c.channel_account_id, c.thread_key)]
            # Ours carries the created_at we just set; another worker's row does not.
            if created_at == c.created_at:
                c.id = conversation_id
                created.append(c)
            else:
                lost[id(c)] = conversation_id
    return created, lost


def _apply_messages(conversation: Conversation, messages: list[InboundMessage]) -> None:
    for m in messages:
        conversation.message_count += 1
        if not conversation.subject and m.subject:
            conversation.subject = m.subject[:255]
        if conversation.last_activity_at is None or m.sent_at >= conversation.last_activity_at:
            conversation.last_activity_at = m.sent_at
            conversation.last_message_preview = message_preview(m.text)
        if m.direction == Message.Direction.OUT:
            if m.opens_conversation:  # False: kept for the record, answers nothing (an unanswered call-back)
                conversation.waiting_stop(m.sent_at)
            continue
        conversation.first_inbound_at = min(filter(None, [conversation.first_inbound_at, m.sent_at]))
        conversation.last_inbound_at = max(filter(None, [conversation.last_inbound_at, m.sent_at]))
        if conversation.status == Conversation.Status.SPAM:
            continue  # kept for the record; a spam conversation never re-enters the queue
        if m.answers_waiting:
            conversation.waiting_stop(m.sent_at)
            continue
        if m.opens_conversation:
            if conversation.status != Conversation.Status.OPEN:
                conversation.status = Conversation.Status.OPEN
            conversation.waiting_since = conversation.waiting_since or m.sent_at


# --- attachments and audit ---------------------------------------------------------------


def _save_attachments(fresh: list[InboundMessage], messages: list[Message]) -> None:
    rows_per_message = []
    for m, message in zip(fresh, messages):
        rows = []
        for a in m.attachments:
            row = Attachment(
                message=message,
                filename=(a.filename or "attachment")[:255],
                content_type=a.content_type[:127],
                url=a.url[:1000],
                content_id=a.content_id[:255],
            )
            if a.content is not None:
                row.size = len(a.content)
                row.file.save(row.filename, ContentFile(a.content), save=False)
            rows.append(row)
        rows_per_message.append(rows)
    Attachment.objects.bulk_create([row for rows in rows_per_message for row in rows])
    for message, rows in zip(messages, rows_per_message):  # the live message.created events list them without a query
        message._prefetched_objects_cache = {"attachments": rows}


def _record_events(created: list[Conversation], reopened: list[tuple[Conversation, str]], raised) -> None:
    events = [
        ConversationEvent(conversation_id=c.id, kind=ConversationEvent.Kind.CREATED, data={"status": c.status})
        for c in created
    ]
    # Why each starts at its priority: the rules that fired ("High: public complaint; anger words: ...").
    events += [
        ConversationEvent(conversation_id=c.id, kind=ConversationEvent.Kind.PRIORITY,
                          data={"from": None, "to": c.priority, "by": "rules", "reasons": c._priority_reasons})
        for c in created if getattr(c, "_priority_reasons", None)
    ]
    events += [
        ConversationEvent(conversation_id=c.id, kind=ConversationEvent.Kind.PRIORITY,
                          data={"from": before, "to": c.priority, "by": "rules", "reasons": reasons})
        for c, before, reasons in raised
    ]
    events += [
        ConversationEvent(
            conversation_id=c.id,
            kind=ConversationEvent.Kind.REOPENED if before == Conversation.Status.RESOLVED else ConversationEvent.Kind.STATUS,
            data={"from": before, "to": c.status, "by": "customer"},
        )
        for c, before in reopened
    ]
    rows_insert(events)


def _record_moderation(fresh: list[InboundMessage], messages: list[Message], conversation_of) -> None:
    """The audit trail of a comment the rules flagged (a MODERATED event, as for a hidden comment)."""
    ConversationEvent.objects.bulk_create(
        ConversationEvent(
            conversation_id=message.conversation_id, kind=ConversationEvent.Kind.MODERATED,
            data={"action": "comment_flagged", "by": "rules",
                  "message_id": message.id, "moderation": m.metadata["moderation"]["action"],
                  "reasons": m.metadata["moderation"]["reasons"]},
        )
        for m, message, conversation in zip(fresh, messages, conversation_of)
        if (m.metadata or {}).get("moderation", {}).get("flagged")
    )
