"""What the inbox tells routing, and the one place it asks: the queue's contract.

Routing (apps/routing) lives above the inbox, so the inbox states here what it needs — "work
may be waiting for these teams", "how much more may this agent hold", "which agent takes each of
these arriving conversations" and "what do the priority rules say of this message" — and the routing app
connects its answers at start (apps/routing/apps.py), as the connectors app does for channels
(apps/inbox/channels.py). Unconnected (routing not installed), work simply waits to be claimed.

The inbox calls `queue_changed` inside its own transaction, after a change that puts work in a
queue or frees an agent's capacity (resolve, close, unassign, snooze, reopen, a team change), and
when an agent comes online or back from away. Lock order: the caller's conversation row, then
routing's TeamRouting rows (team id order); routing skips any other conversation row that is
locked (SKIP LOCKED), so it never waits on a conversation while holding a team.
"""
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from apps.accounts.models import Team



@dataclass
class Verdict:
    """What the priority rules say about one message: the priority (None: no rule set one), each
    rule that fired with the words it found (the reasons shown on the conversation), the moderation."""

    priority: int | None = None
    reasons: list[dict] = field(default_factory=list)
    moderation: str = ""  # "", "flag" or "hide"


class NoRules:
    """The judge when routing is not installed: no rule fires."""

    moderates = False

    def prepare(self, *, contacts) -> None:
        pass

    def judge(self, **message) -> Verdict:
        return Verdict()


_changed: Callable[..., None] = lambda *, team_ids: None
_capacity_left: Callable[..., int | None] = lambda *, user_id, team_id: None
_pick: Callable[[list], dict[int, int]] = lambda conversations: {}
_judge: Callable[[], object] = NoRules


def queue_connect(*, changed: Callable[..., None], capacity_left: Callable[..., int | None],
                  pick: Callable[[list], dict[int, int]], judge: Callable[[], object]) -> None:
    global _changed, _capacity_left, _pick, _judge
    _changed, _capacity_left, _pick, _judge = changed, capacity_left, pick, judge


def agents_pick(conversations: list) -> dict[int, int]:
    """Routing's choice for arriving conversations: {conversation id: agent id}, applied by the
    inbox (services/conversations.py, conversations_assign_routed) in the ingest transaction."""
    return _pick(conversations)


def priority_judge():
    """A judge for one ingest batch: .prepare(contacts=[(customer id, channel kind, sent at)]),
    .judge(channel_kind=, is_public=, text=, customer_id=, at=) -> Verdict, .moderates."""
    return _judge()


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
    with transaction.atomic():
        queue_changed(team_ids=Team.objects.filter(members__id=user_id).values_list("id", flat=True))
