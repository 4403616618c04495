"""Agent replies and internal notes, and the delivery of replies through the channel.

A reply is saved as Message(out, queued) in the agent's transaction; once that commits
the deliver task hands it to the channel's sender (apps.inbox.channels.sender_for) and the
message becomes sent or failed — published to the desk each time.
"""
import logging
import random
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.inbox.channels import PermanentSendError, TemporarySendError, reply_check, sender_for

from ..clocks import clocks_sync
from ..events import publish_conversations_and_messages, publish_message_updated
from ..models import Attachment, Conversation, ConversationEvent, Message, message_preview
from .notifications import notify_mentions

DELIVER_TASK = "apps.inbox.tasks.message_deliver"  # named, not imported: the task module imports this one

logger = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 15
RETRY_MAX_SECONDS = 3600


def note_create(*, conversation: Conversation, author, text: str, files=()) -> Message:
    """An internal note: visible to agents only, never leaves the desk. @username notifies."""
    with transaction.atomic():
        message = _post(conversation=conversation, author=author, text=text, kind=Message.Kind.NOTE, is_public=False, files=files)
        notify_mentions(message=message, author=author)
    return message


def reply_create(*, conversation: Conversation, author, text: str, is_public: bool | None = None, files=(), first: bool = False) -> Message:
    """A reply to the customer on the conversation's channel, delivered after commit.

    The channel's composer rules (length, public/private, reply window) are enforced here,
    so the API refuses what the composer would. is_public=None: the channel's default.
    `files`: uploaded files (Django UploadedFile) stored as the reply's attachments.
    """
    is_public = reply_check(conversation=conversation, text=(text or "").strip(), is_public=is_public)
    message = _post(conversation=conversation, author=author, text=text, kind=Message.Kind.MESSAGE, is_public=is_public, files=files,
                    first=first)
    _enqueue_delivery(message.id)
    return message


def _check_files(files) -> None:
    if len(files) > settings.REPLY_ATTACHMENTS_MAX_FILES:
        raise ApplicationError(_("Too many files"), extra={"max_files": settings.REPLY_ATTACHMENTS_MAX_FILES})
    for f in files:
        if f.size > settings.REPLY_ATTACHMENT_MAX_BYTES:
            raise ApplicationError(
                _("A file is too large"), extra={"filename": f.name, "max_bytes": settings.REPLY_ATTACHMENT_MAX_BYTES}
            )


def _save_files(message: Message, files) -> None:
    saved = []
    for f in files:
        attachment = Attachment(
            message=message, filename=(f.name or "attachment")[:255],
            content_type=(getattr(f, "content_type", "") or "application/octet-stream")[:127], size=f.size,
        )
        attachment.file.save(attachment.filename, f, save=True)
        saved.append(attachment)
    # Known now: the live message.created event lists them without a query.
    message._prefetched_objects_cache = {"attachments": saved}


def _post(*, conversation, author, text: str, kind: str, is_public: bool | None, files=(), first: bool = False) -> Message:
    text = (text or "").strip()
    _check_files(files)
    if not text and not files:
        raise ApplicationError(_("The message is empty"))
    if len(text) > settings.MESSAGE_MAX_TEXT_CHARS:
        raise ApplicationError(_("The message is too long"), extra={"max_chars": settings.MESSAGE_MAX_TEXT_CHARS})
    is_note = kind == Message.Kind.NOTE
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        now = timezone.now()
        message = Message.objects.create(
            conversation=locked,
            customer_id=locked.customer_id,
            channel_account_id=locked.channel_account_id,
            direction=Message.Direction.OUT,
            kind=kind,
            author=author,
            # The first message of a conversation the desk started carries its subject as is.
            subject="" if is_note else locked.subject if first else _reply_subject(locked.subject),
            text=text,
            is_public=locked.is_public if is_public is None else is_public,
            sent_at=now,
            delivery_status=Message.Delivery.SENT if is_note else Message.Delivery.QUEUED,
        )
        _save_files(message, files)
        locked.message_count += 1
        locked.last_activity_at = max(now, locked.last_activity_at)
        fields = ["message_count", "last_activity_at"]
        # What the reply ended, for the reports: how long the customer had waited (None: nobody
        # waited, a follow-up) and whether it was the conversation's first response.
        answered = {
            "wait_seconds": round((now - locked.waiting_since).total_seconds(), 3) if locked.waiting_since else None,
            "first_response": locked.first_response_at is None,
        }
        if not is_note:
            # The wait ends (and the first response is stamped) only once the reply is sent: _mark_sent.
            locked.last_message_preview = message_preview(text, [f.name for f in files])
            fields += ["last_message_preview"]
        locked.save(update_fields=fields)
        ConversationEvent.objects.create(
            conversation=locked,
            kind=ConversationEvent.Kind.NOTE if is_note else ConversationEvent.Kind.REPLIED,
            actor=author,
            data={"message_id": message.id, "public": message.is_public, **({} if is_note else answered)},
        )
        publish_conversations_and_messages(conversations=[locked], messages=[message])
    return message


def _reply_subject(subject: str) -> str:
    if not subject or subject.lower().startswith("re:"):
        return subject
    return f"Re: {subject}"[:255]


STALE_QUEUED_AFTER_SECONDS = 3600  # past every retry's backoff: nobody will deliver it any more


def replies_requeue_stale() -> int:
    """Re-enqueue replies still queued long after their task should have run (broker down at
    commit time, a lost worker). Delivery is idempotent, so a late duplicate sends nothing."""
    cutoff = timezone.now() - timedelta(seconds=STALE_QUEUED_AFTER_SECONDS)
    stale = list(
        Message.objects.filter(delivery_status=Message.Delivery.QUEUED, created_at__lt=cutoff)
        .values_list("id", flat=True)[:1000]
    )
    for message_id in stale:
        _enqueue_delivery(message_id)
    return len(stale)


def _enqueue_delivery(message_id: int) -> None:
    transaction.on_commit(current_app.signature(DELIVER_TASK, args=(message_id,)).delay)


# --- delivery -------------------------------------------------------------------------


def message_deliver(*, message_id: int, final_attempt: bool = True) -> Message | None:
    """Send a queued reply; it ends sent or failed, and the desk hears about it either way.

    Raises TemporarySendError when the failure can heal and this is not the final attempt
    (the task retries it). The row is locked with SKIP LOCKED while sending, so a retry
    request racing a worker cannot send it twice; a task delivered twice (acks_late) finds
    it no longer queued and does nothing.
    """
    temporary = None
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("channel_account", "conversation")
            .filter(pk=message_id, direction=Message.Direction.OUT, kind=Message.Kind.MESSAGE)
            .first()
        )
        if message is None or message.delivery_status != Message.Delivery.QUEUED:
            return message
        account = message.channel_account
        try:
            if not account.enabled:
                raise PermanentSendError("the channel account is disabled")
            external_id = sender_for(account.kind)(message=message, account=account)
        except TemporarySendError as exc:
            if final_attempt:
                _mark_failed(message, f"gave up after retries: {exc}")
            else:
                message.delivery_error = f"temporary failure, will retry: {exc}"
                temporary = exc
        except PermanentSendError as exc:
            _mark_failed(message, str(exc))
        except Exception as exc:  # a bug must not leave the reply queued forever; it is logged
            logger.exception("sending message %s failed unexpectedly", message.id)
            _mark_failed(message, f"internal error: {exc.__class__.__name__}: {exc}")
        else:
            _mark_sent(message, external_id)
        message.save(update_fields=["delivery_status", "delivery_error", "external_id", "metadata"])
        publish_message_updated(message)
        if message.delivery_status == Message.Delivery.SENT:
            _customer_answered(message)
    if temporary is not None:
        raise temporary
    return message


def _customer_answered(message: Message) -> None:
    """The reply reached the channel: the customer's wait ends, the first response is stamped once,
    and the response clock stops. A failed reply does none of this: the customer got nothing, so
    the conversation stays waiting in every queue and SLA view. Lock order: message, then
    conversation (as message_retry)."""
    conversation = Conversation.objects.select_for_update().get(pk=message.conversation_id)
    now = timezone.now()
    conversation.waiting_stop(now)
    conversation.save(update_fields=["first_response_at", "waiting_since"])
    clocks_sync([conversation], now=now)
    publish_conversations_and_messages(conversations=[conversation], messages=[])


def _mark_failed(message: Message, error: str) -> None:
    message.delivery_status = Message.Delivery.FAILED
    message.delivery_error = error[:2000]


def _mark_sent(message: Message, external_id: str | None) -> None:
    message.delivery_status = Message.Delivery.SENT
    message.delivery_error = ""
    message.metadata["sent_at"] = timezone.now().isoformat()
    if not external_id:
        return
    external_id = str(external_id)[:255]
    taken = Message.objects.filter(channel_account_id=message.channel_account_id, external_id=external_id)
    if taken.exclude(pk=message.pk).exists():
        # (account, external_id) is unique; an echo stored first already holds this id.
        message.metadata["provider_id"] = external_id
    else:
        message.external_id = external_id


def retry_countdown(*, retry_after: float | None, attempt: int) -> float:
    """Seconds before the next attempt: what the provider asked for, else exponential with jitter."""
    if retry_after is not None:
        return min(max(retry_after, 1.0), RETRY_MAX_SECONDS)
    return min(RETRY_BASE_SECONDS * 2**attempt, RETRY_MAX_SECONDS) * random.uniform(0.8, 1.2)


def message_retry(*, message: Message, actor) -> Message:
    """Queue a failed reply again (after the agent or an admin fixed the cause)."""
    with transaction.atomic():
        locked = Message.objects.select_for_update().select_related("conversation").get(pk=message.pk)
        if not (
            locked.direction == Message.Direction.OUT
            and locked.kind == Message.Kind.MESSAGE
            and locked.delivery_status == Message.Delivery.FAILED
        ):
            raise ApplicationError(
                _("Only a failed reply can be retried"), extra={"delivery_status": locked.delivery_status}, status_code=409
            )
        locked.delivery_status = Message.Delivery.QUEUED
        locked.delivery_error = ""
        locked.metadata.setdefault("retried_by", []).append({"user_id": actor.id, "at": timezone.now().isoformat()})
        locked.save(update_fields=["delivery_status", "delivery_error", "metadata"])
        publish_message_updated(locked)
        _enqueue_delivery(locked.id)
    return locked
