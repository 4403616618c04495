"""Agent changes to a conversation: status, priority, assignee, team — each one audited."""
from django.db import transaction

from apps.accounts.models import Team, User
from apps.core.errors import ApplicationError
from apps.core.realtime import publish_on_commit

from ..events import conversation_data
from ..models import Conversation, ConversationEvent
from ..visibility import conversation_groups

# changeable field -> the event kind recorded when it changes
_AUDITED = {
    "status": ConversationEvent.Kind.STATUS,
    "priority": ConversationEvent.Kind.PRIORITY,
    "assignee": ConversationEvent.Kind.ASSIGNED,
    "team": ConversationEvent.Kind.TEAM,
}


def conversation_update(*, conversation: Conversation, actor: User | None, **changes) -> Conversation:
    """Apply changes under a row lock; one ConversationEvent per field that really changed.

    `changes` may hold status, priority, assignee (User or None) and team (Team or None).
    Returns the locked, updated row (fresh from the database, not the caller's copy).
    """
    unknown = set(changes) - set(_AUDITED)
    if unknown:
        raise ApplicationError("These fields cannot be changed", extra={"fields": sorted(unknown)})
    _validate(changes)
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        before_groups = conversation_groups(team_id=locked.team_id, assignee_id=locked.assignee_id)
        events, fields = [], []
        for name, value in changes.items():
            attname = name + "_id" if name in ("assignee", "team") else name
            old = getattr(locked, attname)
            new = value.pk if isinstance(value, (User, Team)) else value
            if old == new:
                continue
            setattr(locked, attname, new)
            fields.append(attname)
            events.append(
                ConversationEvent(conversation=locked, kind=_AUDITED[name], actor=actor, data={"from": old, "to": new})
            )
        if not events:
            return locked
        if locked.status in (Conversation.Status.RESOLVED, Conversation.Status.SPAM) and "status" in fields:
            # Nobody is waiting on a resolved (or spam) conversation; a new inbound message restarts the clock.
            locked.waiting_since = None
            fields.append("waiting_since")
        locked.save(update_fields=fields)
        ConversationEvent.objects.bulk_create(events)
        # The old audience hears about it too, so a conversation moved to another team
        # leaves their lists at once.
        groups = sorted(set(before_groups) | set(conversation_groups(team_id=locked.team_id, assignee_id=locked.assignee_id)))
        publish_on_commit([(groups, {"type": "conversation.updated", "conversation": conversation_data(locked)})])
    return locked


def _validate(changes: dict) -> None:
    if "status" in changes and changes["status"] not in Conversation.Status.values:
        raise ApplicationError("Unknown status", extra={"allowed": Conversation.Status.values})
    if "priority" in changes and changes["priority"] not in Conversation.Priority.values:
        raise ApplicationError("Unknown priority", extra={"allowed": Conversation.Priority.values})
    assignee = changes.get("assignee")
    if assignee is not None and not assignee.is_active:
        raise ApplicationError("Cannot assign to an inactive user", extra={"assignee": assignee.pk})
