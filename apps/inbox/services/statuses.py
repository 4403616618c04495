"""What providers report later about messages already stored: a bounce, a delivery or read
receipt (by id or by watermark), a reaction, an edit, an unsend. Applied in the caller's
transaction (the drain's), published as message.updated after commit.

- Delivery only moves forward (sent -> delivered -> read); a bounce marks the reply failed with
  the reason, whatever a receipt said before it.
- An edit keeps every earlier text in details.edits; an unsent message's text leaves the
  message (and so the desk, the API, search and live events) and is kept for audit in
  metadata["unsent_text"], which no reader shows.
- A public comment hidden or shown again on the network itself ("hidden" / "shown", data["on"]:
  the channel kind) changes its mark as the desk's own moderation does, with the same audit event.
"""
from django.db.models import Q
from django.utils import timezone

from apps.core.bulk import rows_update
from apps.inbox.events import publish_message_updated
from apps.inbox.inbound import InboundStatus
from apps.inbox.models import ConversationEvent, Message

DELIVERY_RANK = {Message.Delivery.SENT: 1, Message.Delivery.DELIVERED: 2, Message.Delivery.READ: 3}
MAX_EDITS_KEPT = 20


def message_statuses_apply(*, statuses: list[InboundStatus]) -> int:
    """Apply the statuses; returns how many messages changed."""
    changed: dict[int, Message] = {}
    audit: list[ConversationEvent] = []
    for status in statuses:
        for message in _targets(status):
            message = changed.get(message.id, message)
            if _apply(message, status):
                changed[message.id] = message
                if status.kind in VISIBILITY_KINDS:
                    audit.append(_visibility_event(message, status))
    if changed:
        rows_update(list(changed.values()), ["delivery_status", "delivery_error", "text", "html", "metadata"])
        ConversationEvent.objects.bulk_create(audit)
        for message in changed.values():
            publish_message_updated(message)
    return len(changed)


def _visibility_event(message: Message, status: InboundStatus) -> ConversationEvent:
    """The audit event message_visibility_set records for the desk's own moderation, by the network."""
    conversation = message.conversation
    return ConversationEvent(
        conversation=conversation, kind=ConversationEvent.Kind.MODERATED, actor=None,
        data={"action": "comment_hidden" if VISIBILITY_KINDS[status.kind] else "comment_shown",
              "on": status.data.get("on"), "message_id": message.id, "comment_id": (message.metadata.get(status.data.get("on")) or {}).get("comment_id")},
    )


def _targets(status: InboundStatus) -> list[Message]:
    messages = Message.objects.select_for_update().select_related("conversation").filter(channel_account_id=status.account_id)
    if status.external_ids:
        # A reply whose id was taken by its own echo keeps the provider's id in metadata.
        ids = status.external_ids[:500]
        # (has_key, the msg_provider_id index's condition, lets the planner use it.)
        by_provider_id = Q(metadata__has_key="provider_id", metadata__provider_id__in=ids)
        return list(messages.filter(Q(external_id__in=ids) | by_provider_id).order_by("id"))
    if status.thread_key and status.until and status.kind in ("delivered", "read"):
        return list(
            messages.filter(
                conversation__thread_key=status.thread_key,
                direction=Message.Direction.OUT,
                kind=Message.Kind.MESSAGE,
                sent_at__lte=status.until,
                delivery_status__in=(Message.Delivery.SENT, Message.Delivery.DELIVERED),
            ).order_by("id")
        )
    return []


VISIBILITY_KINDS = {"hidden": True, "shown": False}


def _apply(message: Message, status: InboundStatus) -> bool:
    at = (status.at or timezone.now()).isoformat()
    if status.kind in VISIBILITY_KINDS:
        on, hidden = status.data.get("on") or "", VISIBILITY_KINDS[status.kind]
        channel_meta = dict((message.metadata or {}).get(on) or {})
        if not on or bool(channel_meta.get("hidden")) == hidden:
            return False
        channel_meta.update(hidden=hidden, hidden_at=at if hidden else None, hidden_by=None)
        message.metadata = {**(message.metadata or {}), on: channel_meta}
        return True
    if status.kind == "failed":
        if message.direction != Message.Direction.OUT or message.delivery_status == Message.Delivery.FAILED:
            return False
        message.delivery_status = Message.Delivery.FAILED
        message.delivery_error = str(status.data.get("reason") or "returned by the recipient's mail server")[:2000]
        return True
    if status.kind in ("delivered", "read"):
        new = Message.Delivery.DELIVERED if status.kind == "delivered" else Message.Delivery.READ
        if message.direction != Message.Direction.OUT or DELIVERY_RANK.get(message.delivery_status, 9) >= DELIVERY_RANK[new]:
            return False
        message.delivery_status = new
        return True
    if status.kind == "reaction":
        reactions = dict(message.metadata.get("reactions") or {})
        key = str(status.data.get("reaction") or status.data.get("emoji") or "")[:40]
        if status.data.get("removed"):
            if reactions.pop(key, None) is None:
                return False
        else:
            reactions[key] = {"emoji": str(status.data.get("emoji") or "")[:16], "at": at}
        message.metadata["reactions"] = reactions
        return True
    if status.kind == "edited":
        text = str(status.data.get("text") or "")
        if text == message.text:
            return False
        edits = list(message.metadata.get("edits") or [])
        message.metadata["edits"] = (edits + [{"text": message.text, "until": at}])[-MAX_EDITS_KEPT:]
        message.text = text
        return True
    if status.kind == "unsent":
        if message.metadata.get("unsent"):
            return False
        message.metadata["unsent"] = {"at": at}
        message.metadata["unsent_text"] = message.text  # for audit only: no reader shows it
        message.text, message.html = "", ""
        return True
    return False
