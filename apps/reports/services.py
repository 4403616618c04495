"""Writes of the supervisor's room: pushing wallboard snapshots, computing the topic report.

The wallboard is a coalescing throttle (leading and trailing edge) over every change the desk
publishes (apps/core/realtime.py `changed`: new messages, replies, assignments, status changes,
presence). The first change after a quiet moment publishes at once (one Celery task: a snapshot
of aggregate queries, then one layer message per group); changes during the next
WALLBOARD_MIN_INTERVAL_SECONDS only mark the board dirty, and one trailing publish carries them
all. So the board is re-sent at most 1 / interval times a second however much traffic there is,
and the last state is always sent: no change waits longer than about one interval.

The two steps are Redis scripts on two keys, so no change is lost between "the trailing check
found nothing" and "a new change saw the lock held": the check releases the lock in the same
atomic step. If a trailing check is lost (a worker killed), the lock expires after
WALLBOARD_LOCK_TTL_SECONDS and the next change publishes at once again.
Embedded (no Redis: one process, the in-memory layer) the same throttle runs in this process
(a timer thread for the trailing publish), and only while a wallboard socket is connected.
"""
import logging
import threading
import time
import uuid

from celery import current_app
from channels.layers import get_channel_layer
from django.conf import settings

from apps.accounts.models import Team
from apps.core.realtime import HANDLER, layer_call, _counter as _redis
from apps.inbox.visibility import WALLBOARD_GROUP, wallboard_team_group

from . import selectors

# The tasks are named, not imported: tasks.py is the thin shell over this module.
PUBLISH_TASK = "apps.reports.tasks.wallboard_publish"
FLUSH_TASK = "apps.reports.tasks.wallboard_flush"

logger = logging.getLogger(__name__)

# The changes that move a figure on the board (collision events are never announced).
RELEVANT_EVENTS = ("conversation.created", "conversation.updated", "message.created", "presence")
WALLBOARD_EVENT = "wallboard"

_NUDGE_LUA = """
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 1 end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return 0
"""
_FLUSH_LUA = """
if redis.call('DEL', KEYS[2]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  return 1
end
redis.call('DEL', KEYS[1])
return 0
"""


def interval() -> float:
    return float(getattr(settings, "WALLBOARD_MIN_INTERVAL_SECONDS", 0.5))


def _lock_ttl_ms() -> int:
    return int(1000 * float(getattr(settings, "WALLBOARD_LOCK_TTL_SECONDS", 5)))


def _keys() -> list[str]:
    prefix = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "asgi")
    return [f"centralita:{prefix}:wallboard:lock", f"centralita:{prefix}:wallboard:dirty"]


def wallboard_changed(*, events: list[dict]) -> None:
    """A listener of published events (apps/core/realtime.py publish_listen): nudge the board when
    something it shows may have moved."""
    if any(isinstance(e, dict) and e.get("type") in RELEVANT_EVENTS for e in events):
        wallboard_nudge()


def wallboard_nudge() -> None:
    """Publish now if nobody did within the interval, else leave it to the trailing publish."""
    if not settings.REDIS_URL:
        _local_nudge()
        return
    client = _redis(settings.REDIS_URL)
    if client.register_script(_NUDGE_LUA)(keys=_keys(), args=[_lock_ttl_ms()]) == 1:
        current_app.signature(PUBLISH_TASK).delay()


def wallboard_publish_and_schedule(*, queue: str | None = None) -> None:
    """The leading publish; the trailing check follows one interval later (on `queue`)."""
    started = time.monotonic()
    wallboard_publish_now()
    current_app.signature(FLUSH_TASK).apply_async(countdown=_rest(started), **({"queue": queue} if queue else {}))


def wallboard_flush(*, queue: str | None = None) -> bool:
    """One interval after a publish: publish again if something changed meanwhile (and check
    again one interval later), else release the lock. Returns whether it published."""
    if not settings.REDIS_URL:
        return False
    client = _redis(settings.REDIS_URL)
    if client.register_script(_FLUSH_LUA)(keys=_keys(), args=[_lock_ttl_ms()]) != 1:
        return False
    started = time.monotonic()
    wallboard_publish_now()
    current_app.signature(FLUSH_TASK).apply_async(countdown=_rest(started), **({"queue": queue} if queue else {}))
    return True


def _rest(started: float) -> float:
    """The trailing check comes one interval after the publish began (not after it ended): a slow
    snapshot does not add its own time to every wait."""
    return max(0.0, interval() - (time.monotonic() - started))


def wallboard_publish_now() -> dict:
    """One snapshot, sent whole to the unscoped board's group and sliced to each team's."""
    snapshot = selectors.wallboard_snapshot()
    layer = get_channel_layer()
    if layer is None:
        return snapshot
    messages = [(WALLBOARD_GROUP, {"type": WALLBOARD_EVENT, "team_id": None, "snapshot": snapshot})]
    for team_id in Team.objects.values_list("id", flat=True):
        part = selectors.wallboard_slice(snapshot, [team_id])
        messages.append((wallboard_team_group(team_id), {"type": WALLBOARD_EVENT, "team_id": team_id, "snapshot": part}))
    try:
        layer_call(_send, layer, messages)
    except Exception:  # a dead layer must not fail the caller; the next change sends again
        logger.exception("publishing the wallboard failed")
    return snapshot


_local = {"last": 0.0, "timer": None}
_local_lock = threading.Lock()


def _local_nudge() -> None:
    layer = get_channel_layer()
    groups = getattr(layer, "groups", {})
    if not any(name.startswith(WALLBOARD_GROUP) and members for name, members in groups.items()):
        return  # nobody watches: no snapshot queries in the request that changed something
    with _local_lock:
        if _local["timer"] is not None:
            return  # the trailing publish is already due
        wait = _local["last"] + interval() - time.monotonic()
        if wait > 0:
            _local["timer"] = threading.Timer(wait, _local_trailing)
            _local["timer"].daemon = True
            _local["timer"].start()
            return
        _local["last"] = time.monotonic()
    wallboard_publish_now()


def _local_trailing() -> None:
    with _local_lock:
        _local["timer"] = None
        _local["last"] = time.monotonic()
    try:
        wallboard_publish_now()
    finally:
        from django.db import connection

        connection.close()  # this thread's own connection


async def _send(layer, messages):
    # Ephemeral like presence: no id, not in the resync log (a reconnecting board refetches).
    for group, event in messages:
        await layer.group_send(group, {"type": HANDLER, "event": event, "key": uuid.uuid4().hex})
