"""From the desk's committed live events to webhook deliveries.

Listened to after commit (apps/core/realtime.py publish_listen): it reads the subscriptions (a
cached list, one cache read per publish), writes one delivery row per (event, endpoint) in one
INSERT and queues their Celery tasks. Mapping:
- conversation.created                       -> conversation.created (+ conversation.assigned when born assigned)
- conversation.updated changing assignee_id  -> conversation.assigned (to someone)
- conversation.updated changing status       -> conversation.resolved (when now resolved)
- message.created                            -> message.created
- sla.breached (published by the SLA code)   -> sla.breached, its payload passed on as is
"""
from apps.inbox.events import resolution_of

from .models import EventType
from .services import deliveries_create


def webhook_events(events: list[dict]) -> list[tuple[str, dict]]:
    """(webhook event type, data) for the live events that interest webhooks."""
    out = []
    for event in events:
        kind = event.get("type")
        if kind == "conversation.created":
            conversation = event["conversation"]
            out.append((EventType.CONVERSATION_CREATED, {"conversation": conversation}))
            if conversation.get("assignee_id"):
                out.append((EventType.CONVERSATION_ASSIGNED, {"conversation": conversation}))
        elif kind == "conversation.updated":
            conversation, changed = event["conversation"], event.get("changed") or []
            if "assignee_id" in changed and conversation.get("assignee_id"):
                out.append((EventType.CONVERSATION_ASSIGNED, {"conversation": conversation}))
            if resolution_of(event):
                out.append((EventType.CONVERSATION_RESOLVED, {"conversation": conversation}))
        elif kind == "message.created":
            out.append((EventType.MESSAGE_CREATED, {"message": event["message"]}))
        elif kind == EventType.SLA_BREACHED:
            out.append((EventType.SLA_BREACHED, {k: v for k, v in event.items() if k not in ("type", "id")}))
    return out


def events_committed(events: list[dict]) -> None:
    wanted = webhook_events(events)
    if wanted:
        deliveries_create(events=wanted)
