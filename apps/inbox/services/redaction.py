"""Redacting conversations: the content goes, the rows stay (a customer's erasure, the retention
sweep; both in apps/crm/services.py, which owns the decision — the inbox owns these rows).

Gone: message text, HTML, subject, provider details (metadata) and delivery errors, attachments
(rows and stored files), the conversation's subject, preview and thread key, notification
snippets, and the live events about them still kept for resync. Kept: every row, direction,
kind, author, times, statuses and counts, so reports count the same afterwards. Search finds
nothing of it: the full-text index is on the text itself (migration 0006).
"""
import logging

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from apps.core.realtime import events_forget

from ..events import publish_conversations_and_messages
from ..models import Attachment, Conversation, Message, Notification

logger = logging.getLogger(__name__)

# Apps above the inbox that keep copies of conversation content (outgoing webhook payloads) redact
# theirs too: they register here at start (AppConfig.ready) and run inside the same transaction.
_hooks: list = []


def on_conversations_redacted(hook) -> None:
    """hook(conversation_ids: list[int]) -> None"""
    if hook not in _hooks:
        _hooks.append(hook)


def conversations_redact(*, conversation_ids: list[int]) -> dict:
    """Redact these conversations in one transaction (rows locked in id order). Returns counts."""
    ids = sorted(set(conversation_ids))
    if not ids:
        return {"conversations": 0, "messages": 0, "attachments": 0}
    now = timezone.now()
    with transaction.atomic():
        locked = list(Conversation.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        ids = [c.pk for c in locked]
        messages = Message.objects.filter(conversation_id__in=ids).update(
            text="", html="", subject="", metadata={"redacted": True}, delivery_error="", sender_identity=None,
        )
        attachments = Attachment.objects.filter(message__conversation_id__in=ids)
        files = [name for name in attachments.exclude(file="").values_list("file", flat=True)]
        attachment_count = attachments.delete()[0]
        Notification.objects.filter(conversation_id__in=ids).update(text="")
        Conversation.objects.filter(pk__in=ids).update(subject="", last_message_preview="", thread_key=None, redacted_at=now)
        for hook in _hooks:
            hook(ids)
        for c in locked:
            c.subject, c.last_message_preview, c.thread_key, c.redacted_at = "", "", None, now
        # Stored files go once the redaction is committed (a rollback keeps them with their rows).
        transaction.on_commit(lambda: _delete_files(files))
        transaction.on_commit(lambda: events_forget(conversation_ids=ids))
        # Whoever has them open sees the redacted state (lists, headers) at once.
        publish_conversations_and_messages(conversations=locked, messages=[])
    return {"conversations": len(ids), "messages": messages, "attachments": attachment_count}


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:  # already gone: the aim is reached
            logger.warning("could not delete redacted attachment file %s", name, exc_info=True)
