"""Event payloads sent to browsers: plain JSON dicts with a `type`."""
from apps.core.realtime import publish_on_commit

from .models import Conversation, Message
from .visibility import conversation_groups


def conversation_data(conversation: Conversation) -> dict:
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
    }


def _groups(conversation: Conversation) -> list[str]:
    return conversation_groups(team_id=conversation.team_id, assignee_id=conversation.assignee_id)


def publish_conversations_and_messages(
    *, conversations: list[Conversation], messages: list[Message], created_ids: set[int] = frozenset()
) -> None:
    by_id = {c.id: c for c in conversations}
    events = [
        (
            _groups(c),
            {"type": "conversation.created" if c.id in created_ids else "conversation.updated", "conversation": conversation_data(c)},
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
