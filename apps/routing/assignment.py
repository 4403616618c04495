"""Auto-assignment of new conversations to the online agents of their team.

Called by ingest, in the ingest transaction, for the conversations a batch created: the
conversation is born assigned (one conversation.created event with its assignee, no flicker
through the unassigned queue), and the assignment commits or rolls back with the messages.
The team's TeamRouting row is locked (FOR UPDATE, team id order, after ingest's customer and
conversation locks) so two workers share out turns and loads without both picking the same agent.
"""
from collections import defaultdict

from django.db.models import Count

from apps.accounts import presence
from apps.accounts.models import Role, User

from .models import TeamRouting

OPEN_STATUSES = ("open", "pending")


def conversations_auto_assign(conversations) -> list:
    """Assign each new, open, unassigned conversation of an auto-routed team to an online agent.
    Returns the assigned conversations (their assignee_id set and saved, audit events written);
    the caller publishes them and then calls assignments_notify."""
    from apps.inbox.models import Conversation, ConversationEvent

    waiting = [c for c in conversations if c.team_id and c.assignee_id is None and c.status == "open"]
    if not waiting:
        return []
    routings = {
        r.team_id: r
        for r in TeamRouting.objects.select_for_update()
        .filter(team_id__in={c.team_id for c in waiting})
        .exclude(mode=TeamRouting.Mode.MANUAL)
        .order_by("team_id")
    }
    if not routings:
        return []
    members = defaultdict(list)
    for user_id, team_id in (
        User.objects.filter(teams__in=routings.keys(), is_active=True, role=Role.AGENT)
        .order_by("id").values_list("id", "teams")
    ):
        members[team_id].append(user_id)
    status = presence.statuses({u for ids in members.values() for u in ids})
    online = {u for u, s in status.items() if s == presence.ONLINE}
    load = dict(
        Conversation.objects.filter(assignee_id__in=online, status__in=OPEN_STATUSES)
        .values_list("assignee_id").annotate(n=Count("id")).values_list("assignee_id", "n")
    )
    assigned, changed = [], set()
    for conversation in waiting:
        routing = routings.get(conversation.team_id)
        if routing is None:
            continue
        chosen = _pick(routing, [u for u in members[routing.team_id] if u in online], load)
        if chosen is None:
            continue
        conversation.assignee_id = chosen
        load[chosen] = load.get(chosen, 0) + 1
        routing.last_assigned_id = chosen
        changed.add(routing.team_id)
        assigned.append(conversation)
    if not assigned:
        return []
    by_agent = defaultdict(list)
    for conversation in assigned:
        by_agent[conversation.assignee_id].append(conversation.pk)
    for agent_id, ids in by_agent.items():  # one UPDATE per agent, not per conversation
        Conversation.objects.filter(pk__in=ids).update(assignee_id=agent_id)
    ConversationEvent.objects.bulk_create(
        ConversationEvent(conversation_id=c.id, kind=ConversationEvent.Kind.ASSIGNED,
                          data={"from": None, "to": c.assignee_id, "by": "routing"})
        for c in assigned
    )
    for team_id in changed:
        routing = routings[team_id]
        routing.save(update_fields=["last_assigned"])
    return assigned


def assignments_notify(assigned) -> None:
    """Tell each assignee (after the conversation events were queued, so they arrive first)."""
    from apps.inbox.services.notifications import notify_assigned

    for conversation in assigned:
        notify_assigned(conversation=conversation, assignee_id=conversation.assignee_id, actor=None)


def _pick(routing: TeamRouting, candidates: list[int], load: dict[int, int]) -> int | None:
    if routing.max_open_per_agent is not None:
        candidates = [u for u in candidates if load.get(u, 0) < routing.max_open_per_agent]
    if not candidates:
        return None
    # Turn order: the agents after the last one assigned, then from the start (ids ascending).
    last = routing.last_assigned_id or 0
    in_turn = [u for u in candidates if u > last] + [u for u in candidates if u <= last]
    if routing.mode == TeamRouting.Mode.LEAST_LOADED:
        return min(in_turn, key=lambda u: load.get(u, 0))  # min keeps the first of equals: ties in turn
    return in_turn[0]
