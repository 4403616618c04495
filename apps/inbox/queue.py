"""What the inbox tells routing, and the one place it asks: the queue's contract.

Routing (apps/routing) lives above the inbox, so the inbox states here what it needs — "work
may be waiting for these teams" and "how much more may this agent hold" — and the routing app
connects its answers at start (apps/routing/apps.py), as the connectors app does for channels
(apps/inbox/channels.py). Unconnected (routing not installed), work simply waits to be claimed.

The inbox calls `queue_changed` inside its own transaction, after a change that puts work in a
queue or frees an agent's capacity (resolve, close, unassign, snooze, reopen, a team change), and
when an agent comes online or back from away. Lock order: the caller's conversation row, then
routing's TeamRouting rows (team id order); routing skips any other conversation row that is
locked (SKIP LOCKED), so it never waits on a conversation while holding a team.
"""
from collections.abc import Callable

from django.db import transaction

_changed: Callable[..., None] = lambda *, team_ids: None
_capacity_left: Callable[..., int | None] = lambda *, user_id, team_id: None


def queue_connect(*, changed: Callable[..., None], capacity_left: Callable[..., int | None]) -> None:
    global _changed, _capacity_left
    _changed, _capacity_left = changed, capacity_left


def queue_changed(*, team_ids) -> None:
    """Hand out what waits in these teams' queues to their online agents with room (in this transaction)."""
    team_ids = sorted({t for t in team_ids if t is not None})
    if team_ids:
        _changed(team_ids=team_ids)


def capacity_left(*, user_id: int, team_id: int | None) -> int | None:
    """How many more open or pending conversations the agent may hold; None: no limit applies."""
    return _capacity_left(user_id=user_id, team_id=team_id)


def agent_available(*, user_id: int) -> None:
    """An agent came online or back from away: their teams' queues are handed out now."""
    from apps.accounts.models import Team

    with transaction.atomic():
        queue_changed(team_ids=Team.objects.filter(members__id=user_id).values_list("id", flat=True))
