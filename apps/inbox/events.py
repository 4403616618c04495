"""Event payloads sent to browsers: plain JSON dicts with a `type`."""
from collections import defaultdict

from apps.core.realtime import publish_on_commit

from .clocks import sla_data
from .models import Conversation, Message, Notification, Tag
from .visibility import conversation_groups, user_group


def snoozed_until_of(conversation: Conversation):
    # A customer writing back reopens a snoozed conversation; a stale date is not shown then.
    return conversation.snoozed_until if conversation.status == Conversation.Status.SNOOZED else None


def tags_of(conversations: list[Conversation]) -> dict[int, list[str]]:
    """conversation id -> tag names (one query for the lot, none if prefetched)."""
    result = {}
    missing = []
    for c in conversations:
        cache = getattr(c, "_prefetched_objects_cache", {})
        if "tags" in cache:
            result[c.id] = sorted(t.name for t in cache["tags"])
        else:
            missing.append(c.id)
    if missing:
        found = defaultdict(list)
        rows = Tag.conversations.through.objects.filter(conversation_id__in=missing).values_list("conversation_id", "tag__name")
        for conversation_id, name in rows:
            found[conversation_id].append(name)
        result.update({i: sorted(found[i]) for i in missing})
    return result


def conversation_data(conversation: Conversation, *, tags: list[str] | None = None) -> dict:
    if tags is None:
        tags = tags_of([conversation])[conversation.id]
    until = snoozed_until_of(conversation)
    return {
        "id": conversation.id,
        "customer_id": conversation.customer_id,
        "channel_account_id": conversation.channel_account_id,
        "status": conversation.status,
        "priority": conversation.priority,
        "subject": conversation.subject,
        "assignee_id": conversation.assignee_id,
        "team_id": conversation.team_id,
        "is_public": conversation.is_public,
        "last_activity_at": conversation.last_activity_at.isoformat() if conversation.last_activity_at else None,
        "waiting_since": conversation.waiting_since.isoformat() if conversation.waiting_since else None,
        "last_message_preview": conversation.last_message_preview,
        "message_count": conversation.message_count,
        "last_inbound_at": conversation.last_inbound_at.isoformat() if conversation.last_inbound_at else None,
        "snoozed_until": until.isoformat() if until else None,
        "sla": sla_data(conversation),
        "tags": tags,
    }


def message_data(message: Message) -> dict:
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "customer_id": message.customer_id,
        "channel_account_id": message.channel_account_id,
        "direction": message.direction,
        "kind": message.kind,
        "author_id": message.author_id,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "is_public": message.is_public,
        "sent_at": message.sent_at.isoformat(),
        "delivery_status": message.delivery_status,
        "delivery_error": message.delivery_error,
        "details": message.details,
        **({"attachments": [attachment_data(a) for a in attached]} if (attached := _attachments_known(message)) is not None else {}),
    }


def resolution_of(event: dict) -> dict | None:
    """The conversation (as published) when this live event is the update that resolved it: what
    listeners of committed events (outgoing webhooks, satisfaction surveys) react to."""
    if event.get("type") != "conversation.updated" or "status" not in (event.get("changed") or []):
        return None
    conversation = event.get("conversation") or {}
    return conversation if conversation.get("status") == Conversation.Status.RESOLVED else None


def _attachments_known(message: Message):
    """The message's attachments when the writer has them at hand (replies, ingest), else None:
    an event never costs a query per message."""
    return getattr(message, "_prefetched_objects_cache", {}).get("attachments")


def attachment_data(attachment) -> dict:
    from django.urls import reverse

    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        # stored files: the permission-checked download; provider media: their own URL
        "url": reverse("api-attachment-download", args=[attachment.id]) if attachment.file else attachment.url,
    }


def _groups(conversation: Conversation) -> list[str]:
    return conversation_groups(team_id=conversation.team_id, assignee_id=conversation.assignee_id)


def publish_conversations_and_messages(
    *, conversations: list[Conversation], messages: list[Message], created_ids: set[int] = frozenset()
) -> None:
    by_id = {c.id: c for c in conversations}
    tags = tags_of([c for c in conversations if c.id not in created_ids])  # a new one has none
    events = [
        (
            _groups(c),
            {
                "type": "conversation.created" if c.id in created_ids else "conversation.updated",
                "conversation": conversation_data(c, tags=tags.get(c.id, [])),
            },
        )
        for c in conversations
    ]
    events += [
        (_groups(by_id[m.conversation_id]), {"type": "message.created", "message": message_data(m)})
        for m in messages
        if m.conversation_id in by_id
    ]
    publish_on_commit(events)


def publish_conversation_updated(conversation: Conversation) -> None:
    publish_conversations_and_messages(conversations=[conversation], messages=[])


def publish_message_updated(message: Message) -> None:
    publish_on_commit(
        [(_groups(message.conversation), {"type": "message.updated", "message": message_data(message)})]
    )


def notification_data(notification: Notification) -> dict:
    return {
        "id": notification.id,
        "kind": notification.kind,
        "conversation_id": notification.conversation_id,
        "link": notification.link,
        "text": notification.text,
        "created_at": notification.created_at.isoformat(),
        "read_at": notification.read_at.isoformat() if notification.read_at else None,
    }


def publish_notifications(notifications: list[Notification]) -> None:
    """Each to its user's own group only."""
    publish_on_commit(
        [([user_group(n.user_id)], {"type": "notification", "notification": notification_data(n)}) for n in notifications]
    )
