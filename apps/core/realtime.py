"""The one publishing helper. Only services call it.

Events are JSON dicts with a `type`; they are sent after the surrounding
transaction commits, so a rolled-back write never reaches a browser. Each event
gets an `id` from one counter shared by every process (Redis INCRBY), so ids are
unique and grow in the order commits published them: a reconnecting client can
tell which events it has seen. Ids are not gap-free (a dead Redis or an event a
user may not see leaves a gap) and two processes publishing at the same moment
may deliver a higher id first, so ids order events, they do not replay them.
"""
import functools
import logging
import threading

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

# Channels' group_send wants a `type` naming the consumer handler; the payload keeps its own.
HANDLER = "desk.event"
COUNTER_KEY = "centralita:event-id"
# Embedded (no Redis): a counter in this process; the in-memory layer cannot cross processes anyway.
_local_lock = threading.Lock()
_local_last = 0


def publish_on_commit(events: list[tuple[list[str], dict]]) -> None:
    """Queue (groups, event) pairs to be sent once the current transaction commits."""
    if events:
        transaction.on_commit(lambda: _send(events))


def _send(events: list[tuple[list[str], dict]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        first = _reserve_ids(len(events))
        numbered = [(groups, {**event, "id": first + i}) for i, (groups, event) in enumerate(events)]
        # One event loop for the whole batch, however many events and groups it holds.
        async_to_sync(_send_all)(layer, numbered)
    except Exception:  # the write is committed; a dead Redis must not fail it
        logger.exception("publishing %d events failed", len(events))


async def _send_all(layer, events):
    # In order: a client must see conversation.created before that conversation's messages.
    for groups, event in events:
        for group in groups:
            await layer.group_send(group, {"type": HANDLER, "event": event})


def _reserve_ids(n: int) -> int:
    """First of n consecutive event ids (one round trip for the whole batch)."""
    global _local_last
    if not settings.REDIS_URL:
        with _local_lock:
            _local_last += n
            return _local_last - n + 1
    return _counter(settings.REDIS_URL).incrby(COUNTER_KEY, n) - n + 1


@functools.cache
def _counter(url: str) -> redis.Redis:
    # Short timeouts: this runs in the committing request or task; a stuck Redis must not hold it long.
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
