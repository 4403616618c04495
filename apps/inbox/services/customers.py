"""The inbox's side of the customer record: the conversations, messages and attachments the crm's
visibility, merges, data-protection export and erasure and retention sweep reach. The crm states
what it asks (apps/crm/hooks.py) and apps/inbox/apps.py connects this module at start.
"""
import os

from django.core.files.storage import default_storage
from django.db.models import Exists, F, OuterRef, Q

from ..events import publish_conversations_and_messages
from ..models import Attachment, Conversation, ConversationEvent, Message
from ..visibility import visible_conversations_q
from .redaction import conversations_redact


def customer_visible_exists(*, user, customer_ref: str):
    return Exists(Conversation.objects.filter(visible_conversations_q(user), customer_id=OuterRef(customer_ref)))


def customer_history_counts(*, customer_id: int) -> dict:
    return {
        "conversations": Conversation.objects.filter(customer_id=customer_id).count(),
        "messages": Message.objects.filter(customer_id=customer_id).count(),
        "attachments": Attachment.objects.filter(message__customer_id=customer_id).count(),
    }


def _safe_name(name: str) -> str:
    base = os.path.basename(name or "file").replace("\\", "_")
    return "".join(ch if ch.isprintable() and ch not in '<>:"|?*' else "_" for ch in base)[:150] or "file"


def customer_history_export(*, customer_id: int, archive) -> tuple[list, list, dict]:
    """A handful of queries whatever the history's length: messages stream from a server-side cursor
    with their attachments, whose stored files go into `archive` (a ZipFile) as they come."""
    conversations = list(
        Conversation.objects.filter(customer_id=customer_id).select_related("channel_account").order_by("created_at", "id")
    )
    by_id = {c.pk: {
        "id": c.pk, "channel": {"id": c.channel_account_id, "kind": c.channel_account.kind, "name": c.channel_account.name},
        "status": c.status, "priority": c.priority, "subject": c.subject, "created_at": c.created_at,
        "last_activity_at": c.last_activity_at, "redacted_at": c.redacted_at, "messages": [],
    } for c in conversations}
    counts = {"conversations": len(conversations), "messages": 0, "attachments": 0}
    attachments_of: dict[int, list[Attachment]] = {}
    for a in Attachment.objects.filter(message__customer_id=customer_id).order_by("id"):
        attachments_of.setdefault(a.message_id, []).append(a)
    messages = Message.objects.filter(customer_id=customer_id).order_by("sent_at", "id").values(
        "id", "conversation_id", "direction", "kind", "author__username", "subject", "text", "html", "is_public",
        "sent_at", "delivery_status", "metadata",
    )
    for m in messages.iterator(chunk_size=500):
        files = []
        for a in attachments_of.get(m["id"], []):
            entry = {"filename": a.filename, "content_type": a.content_type, "size": a.size}
            if a.file:
                path = f"attachments/{m['id']}/{a.pk}-{_safe_name(a.filename)}"
                try:
                    with default_storage.open(a.file.name, "rb") as f:
                        archive.writestr(path, f.read())
                    entry["file"] = path
                    counts["attachments"] += 1
                except OSError:  # the row outlived its file: say so rather than fail the export
                    entry["missing"] = True
            else:
                entry["url"] = a.url
            files.append(entry)
        m["author"] = m.pop("author__username")
        m["attachments"] = files
        by_id[m.pop("conversation_id")]["messages"].append(m)
        counts["messages"] += 1
    events = list(ConversationEvent.objects.filter(conversation_id__in=list(by_id)).order_by("created_at", "id")
                  .values("conversation_id", "kind", "actor__username", "data", "created_at"))
    return list(by_id.values()), events, counts


def customers_history_redact(*, customer_ids: list[int]) -> dict:
    conversation_ids = list(Conversation.objects.filter(customer_id__in=customer_ids).values_list("pk", flat=True))
    return conversations_redact(conversation_ids=conversation_ids)


def resolved_history_redact(*, before, batch: int) -> int:
    """Also catches one redacted before, reopened, and resolved again since."""
    due = Conversation.objects.filter(status=Conversation.Status.RESOLVED, last_activity_at__lt=before).filter(
        Q(redacted_at__isnull=True) | Q(redacted_at__lt=F("last_activity_at"))
    )
    total = 0
    while True:
        ids = list(due.order_by("id").values_list("id", flat=True)[:batch])
        if not ids:
            break
        total += conversations_redact(conversation_ids=ids)["conversations"]
    return total


def customer_history_move(*, source, target) -> tuple[dict, list]:
    conversations = list(Conversation.objects.select_for_update().filter(customer=source).order_by("pk"))
    moved = {
        "conversations": Conversation.objects.filter(pk__in=[c.pk for c in conversations]).update(customer=target),
        "messages": Message.objects.filter(customer=source).update(customer=target),
    }
    return moved, conversations


def customer_history_merged(*, moved: list, source, target, actor, merge_id: int) -> None:
    ConversationEvent.objects.bulk_create(
        ConversationEvent(
            conversation=c,
            kind=ConversationEvent.Kind.CUSTOMER_MERGED,
            actor=actor,
            data={"from": source.pk, "to": target.pk, "merge_id": merge_id},
        )
        for c in moved
    )
    for c in moved:
        c.customer = target
    publish_conversations_and_messages(conversations=moved, messages=[])
