"""Handing out work: new conversations at arrival, and the queue whenever room appears.

Two entry points share one picking rule (`_pick`), one capacity rule (`capacity_of`) and one
queue order (`queue_order`):

- `agents_pick` (below) for the conversations an ingest batch created (the inbox applies the picks);
- `queue_drain` for what waits in a team's queue, called through the inbox's queue contract
  (apps/inbox/queue.py) the moment an agent comes online or back from away, drops below capacity
  (resolves, closes, snoozes, is unassigned) and when a conversation is reopened, wakes from
  snooze or is moved into the team; and by `agents_offline_release`, the beat task that hands the
  open, unanswered work of an agent offline past the team's grace period back to the queue.

Locks, in one order: the caller's own conversation rows (ingest's, or the one an agent changed),
then TeamRouting rows FOR UPDATE in team id order, then the queued conversations FOR UPDATE SKIP
LOCKED. The team row serializes every hand-out of a team — two agents coming online at once read
loads, turns and the queue one after the other — and a queued conversation some other transaction
holds is skipped, not waited for (it is handed out by the next drain), so no cycle can form.

Auto-assignment at arrival: asked by ingest (through apps/inbox/queue.py), in the ingest
transaction, for the conversations a batch created; the inbox applies the picks through its own
assignment path (conversations_assign_routed), so the conversation is born assigned (one conversation.created event with its assignee, no flicker
through the unassigned queue), and the assignment commits or rolls back with the messages.
The team's TeamRouting row is locked (FOR UPDATE, team id order, after ingest's customer and
conversation locks) so two workers share out turns and loads without both picking the same agent.
"""
import contextvars
import logging
import time
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F

from apps.accounts import presence
from apps.accounts.models import Role, User
from apps.inbox.models import IN_QUEUE, Conversation
from apps.inbox.services.conversations import conversation_update

from .models import TeamRouting

logger = logging.getLogger(__name__)

RELEASE_BATCH = 500


def queue_order() -> list:
    """The order queued work is handed out in: highest priority first, then earliest due, then oldest."""
    return [
        F("priority").desc(),
        F("sla_due_at").asc(nulls_last=True),  # the running SLA clock due first (apps/inbox/clocks.py)
        F("waiting_since").asc(nulls_last=True),
        F("created_at").asc(),
        F("id").asc(),
    ]


def capacity_of(*, agent_max_open: int | None, routing: TeamRouting | None) -> int:
    """How many open or pending conversations an agent holds at most: their own capacity, else the
    team's, else the desk's default (an unbounded agent would take the whole backlog on login)."""
    if agent_max_open is not None:
        return agent_max_open
    if routing is not None and routing.max_open_per_agent is not None:
        return routing.max_open_per_agent
    return settings.ROUTING_DEFAULT_CAPACITY


def agent_capacity_left(*, user_id: int, team_id: int | None) -> int:
    """For a claim: capacity (as above, the conversation's team) minus what the agent holds now."""
    agent_max_open = User.objects.filter(pk=user_id).values_list("max_open", flat=True).first()
    routing = TeamRouting.objects.filter(team_id=team_id).first() if team_id else None
    held = Conversation.objects.filter(assignee_id=user_id, status__in=IN_QUEUE).count()
    return capacity_of(agent_max_open=agent_max_open, routing=routing) - held


def _team_agents(team_ids) -> tuple[dict[int, list[int]], dict[int, int | None]]:
    """team id -> its active agents (ids ascending), and each agent's own capacity."""
    members, own = defaultdict(list), {}
    for user_id, team_id, max_open in (
        User.objects.filter(teams__in=team_ids, is_active=True, role=Role.AGENT)
        .order_by("id").values_list("id", "teams", "max_open")
    ):
        members[team_id].append(user_id)
        own[user_id] = max_open
    return members, own


def _loads(user_ids) -> dict[int, int]:
    return dict(
        Conversation.objects.filter(assignee_id__in=user_ids, status__in=IN_QUEUE)
        .values_list("assignee_id").annotate(n=Count("id")).values_list("assignee_id", "n")
    )


def agents_pick(conversations) -> dict[int, int]:
    """The policy for arrivals: an online agent with room for each new, open, unassigned
    conversation of an auto-routed team. Returns {conversation id: agent id}; the inbox applies it
    through its own assignment path (apps/inbox/services/conversations.py, conversations_assign_routed).
    Routing writes only its own state: each team's turn (TeamRouting.last_assigned)."""
    waiting = [c for c in conversations if c.team_id and c.assignee_id is None and c.status == "open"]
    if not waiting:
        return {}
    routings = {
        r.team_id: r
        for r in TeamRouting.objects.select_for_update()
        .filter(team_id__in={c.team_id for c in waiting})
        .exclude(mode=TeamRouting.Mode.MANUAL)
        .order_by("team_id")
    }
    if not routings:
        return {}
    members, own = _team_agents(routings.keys())
    status = presence.statuses({u for ids in members.values() for u in ids})
    online = {u for u, s in status.items() if s == presence.ONLINE}
    load = _loads(online)
    picks, changed = {}, set()
    for conversation in waiting:
        routing = routings.get(conversation.team_id)
        if routing is None:
            continue
        chosen = _pick(routing, [u for u in members[routing.team_id] if u in online], load, own)
        if chosen is None:
            continue
        picks[conversation.pk] = chosen
        load[chosen] = load.get(chosen, 0) + 1
        routing.last_assigned_id = chosen
        changed.add(routing.team_id)
    for team_id in changed:
        routing = routings[team_id]
        routing.save(update_fields=["last_assigned"])
    return picks


def _pick(routing: TeamRouting, candidates: list[int], load: dict[int, int], own: dict[int, int | None]) -> int | None:
    candidates = [u for u in candidates if load.get(u, 0) < capacity_of(agent_max_open=own.get(u), routing=routing)]
    if not candidates:
        return None
    # Turn order: the agents after the last one assigned, then from the start (ids ascending).
    last = routing.last_assigned_id or 0
    in_turn = [u for u in candidates if u > last] + [u for u in candidates if u <= last]
    if routing.mode == TeamRouting.Mode.LEAST_LOADED:
        return min(in_turn, key=lambda u: load.get(u, 0))  # min keeps the first of equals: ties in turn
    return in_turn[0]


# --- the queue ---------------------------------------------------------------------------------

_draining = contextvars.ContextVar("routing_draining", default=False)


def queue_drain(*, team_ids) -> list[int]:
    """Hand the queued (open, unassigned) conversations of these auto-routed teams to their online
    agents with room, in queue_order(), each through the inbox's conversation_update (audited as
    routing's, published, the assignee notified). Runs in the caller's transaction (or its own).
    Returns the conversation ids handed out."""
    if _draining.get():
        return []  # a change made by the drain itself: the drain in progress already sees it
    token = _draining.set(True)
    try:
        with transaction.atomic():
            return _drain(sorted(set(team_ids)))
    finally:
        _draining.reset(token)


def _drain(team_ids: list[int]) -> list[int]:
    routings = list(
        TeamRouting.objects.select_for_update().filter(team_id__in=team_ids)
        .exclude(mode=TeamRouting.Mode.MANUAL).order_by("team_id")
    )
    if not routings:
        return []
    members, own = _team_agents([r.team_id for r in routings])
    status = presence.statuses({u for ids in members.values() for u in ids})
    online = {u for u, s in status.items() if s == presence.ONLINE}
    if not online:
        return []
    load = _loads(online)
    agents = User.objects.in_bulk(online)
    handed = []
    for routing in routings:
        candidates = [u for u in members[routing.team_id] if u in online]
        room = sum(max(0, capacity_of(agent_max_open=own.get(u), routing=routing) - load.get(u, 0)) for u in candidates)
        if room <= 0:
            continue
        queued = list(
            Conversation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(team_id=routing.team_id, assignee__isnull=True, status=Conversation.Status.OPEN)
            .order_by(*queue_order())[:room]
        )
        for conversation in queued:
            chosen = _pick(routing, candidates, load, own)
            if chosen is None:
                break
            conversation_update(conversation=conversation, actor=None, assignee=agents[chosen], audit={"by": "routing"})
            load[chosen] = load.get(chosen, 0) + 1
            routing.last_assigned_id = chosen
            handed.append(conversation.id)
        if handed:
            routing.save(update_fields=["last_assigned"])
    return handed


def agents_offline_release(*, now: float | None = None) -> int:
    """Beat, every minute: the open, unanswered conversations of agents offline for longer than their
    team's grace period go back to the team's queue (and on to whoever is online, by the drain).
    Each conversation in its own short transaction, re-checked under its lock. Returns how many."""
    now = time.time() if now is None else now
    unanswered = Conversation.objects.filter(
        assignee__isnull=False, status=Conversation.Status.OPEN, waiting_since__isnull=False,
        team__routing__offline_grace_minutes__isnull=False,
    )
    # Who holds such work (a few hundred people at most), then only the work of those offline.
    holders = set(unanswered.order_by().values_list("assignee_id", flat=True).distinct())
    offline = presence.offline_for(holders, now=now) if holders else {}
    if not offline:
        return 0
    held = list(
        unanswered.filter(assignee_id__in=list(offline)).order_by("waiting_since", "id")
        .values_list("id", "assignee_id", "team__routing__offline_grace_minutes")[:RELEASE_BATCH]
    )
    released = 0
    for conversation_id, assignee_id, grace_minutes in held:
        gone = offline[assignee_id]
        if gone is not None and gone < grace_minutes * 60:
            continue
        with transaction.atomic():
            conversation = (
                Conversation.objects.select_for_update(skip_locked=True)
                .filter(pk=conversation_id, assignee_id=assignee_id, status=Conversation.Status.OPEN,
                        waiting_since__isnull=False).first()
            )
            if conversation is None:
                continue  # answered, moved or being changed right now: the next sweep looks again
            conversation_update(
                conversation=conversation, actor=None, assignee=None,
                audit={"by": "routing", "reason": "offline", "grace_minutes": grace_minutes},
            )
            released += 1
    if released:
        logger.info("routing: %d conversations of offline agents back in their queues", released)
    return released
