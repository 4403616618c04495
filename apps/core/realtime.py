"""The one publishing helper. Only services call it.

Events are JSON dicts with a `type`; they are sent after the surrounding
transaction commits, so a rolled-back write never reaches a browser. Each event
gets an `id` from one counter shared by every process (Redis INCRBY), so ids are
unique and grow in the order commits published them: a reconnecting client can
tell which events it has seen. Ids are not gap-free (a dead Redis or an event a
user may not see leaves a gap) and two processes publishing at the same moment
may deliver a higher id first, so ids order events, they do not replay them.

The event log (resync): each numbered event is also kept, with the groups it went to, in a
bounded window (settings.EVENT_LOG_SIZE newest events): a Redis sorted set scored by id with
REDIS_URL, a deque in this process otherwise. `events_after(after=N, groups=...)` answers a
reconnecting client with what it missed and may see, in id order, or says the window no
longer reaches back to N (complete=False: refetch the lists). Because two publishers may
commit ids out of order, a client should not treat an id as "seen" before it resyncs past it;
the window being thousands of events wide, resync re-reads a few recent ones harmlessly
(clients apply events idempotently by id).

Ephemeral events (who is viewing or typing, presence) have no id and are not logged:
`broadcast_ephemeral` sends them straight to the groups.

Listeners (the one way other apps hear what was published): `publish_listen(listener)` registers
listener(events=[...]), called once the transaction committed with the events as published
(no ids, no groups), after they were sent, and by `announce_changed` for the presence changes the
socket process announces. Core does not know its listeners: they register in their AppConfig.ready()
(outgoing webhooks: apps/integrations; the supervisors' wallboard: apps/reports). A listener must be
quick (queue work, never call out) and its failure is logged, never raised to the writer.
"""
import asyncio
import collections
import concurrent.futures
import json
import os
import uuid
import functools
import logging
import threading
import time

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)

# Channels' group_send wants a `type` naming the consumer handler; the payload keeps its own.
HANDLER = "desk.event"
COUNTER_KEY = "centralita:event-id"
# Embedded (no Redis): a counter in this process; the in-memory layer cannot cross processes anyway.
_local_lock = threading.Lock()
_local_last = 0


# Who else hears committed events (see the module's docstring).
_listeners: list = []


def publish_listen(listener) -> None:
    """Register listener(events=[...]) for every committed publish (once per callable)."""
    if listener not in _listeners:
        _listeners.append(listener)


def publish_on_commit(events: list[tuple[list[str], dict]]) -> None:
    """Queue (groups, event) pairs to be sent once the current transaction commits."""
    if events:
        transaction.on_commit(lambda: _send(events))


def _send(events: list[tuple[list[str], dict]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        announce_changed([event for _, event in events])
        return
    try:
        first = _reserve_ids(len(events))
        numbered = [(groups, {**event, "id": first + i}) for i, (groups, event) in enumerate(events)]
        envelopes = [_envelope(event) for _, event in numbered]  # each event encoded once, for the log and every socket
        # Logged before it is sent: a client told of id N can always resync up to N.
        _log_append(numbered, envelopes)
        # One event loop for the whole batch, however many events and groups it holds.
        layer_call(_send_all, layer, numbered, envelopes)
    except Exception:  # the write is committed; a dead Redis must not fail it
        logger.exception("publishing %d events failed", len(events))
    announce_changed([event for _, event in events])


LAYER_CALL_TIMEOUT = 10.0  # seconds: a stuck Redis must not hold the committing task or request for long
_loop_lock = threading.Lock()
_loop: tuple[int, asyncio.AbstractEventLoop] | None = None  # (pid, loop): a forked child makes its own


def layer_call(function, layer, *args):
    """Run a channel-layer coroutine function (function(layer, *args)) from sync code: services,
    tasks, signals. The one way sync code talks to the layer.

    channels_redis keeps its Redis connections per event loop, and async_to_sync, outside a
    server's loop (the worker, gunicorn), made a new loop for every call: a new thread and a new
    Redis connection, opened and closed, for each publish. With Redis, calls run on one loop kept
    by this process in a thread of its own, where the connections stay open. The in-memory layer
    (embedded) goes through async_to_sync as before: its queues belong to the server's loop."""
    if not isinstance(layer, RedisPubSubChannelLayer):
        return async_to_sync(function)(layer, *args)
    future = asyncio.run_coroutine_threadsafe(function(layer, *args), _publisher_loop())
    try:
        return future.result(timeout=LAYER_CALL_TIMEOUT)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise


def _publisher_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        if _loop is None or _loop[0] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="layer-publisher", daemon=True).start()
            _loop = (os.getpid(), loop)
        return _loop[1]


def announce_changed(events: list[dict]) -> None:
    """Tell every listener (publish_listen); a failing listener never fails the write that published."""
    for listener in _listeners:
        try:
            listener(events=events)
        except Exception:  # the write is committed; a listener's trouble is logged, not raised
            logger.exception("event listener %r failed", listener)


# Events per layer message: a batch of 500 ingested messages becomes a few publishes per group
# instead of one per event and group (publishing was ~40% of the ingest worker's time), and a
# frame stays bounded. It also keeps the in-memory layer (embedded) under its per-socket capacity.
BUNDLE_MAX_EVENTS = 100


def _envelope(event: dict) -> dict:
    """An event as it travels in the layer: its JSON text, encoded once here for every socket of
    every group (each socket used to encode it again, and to decode the whole dict from the layer),
    with only what a consumer decides on beside it: the id (dedupe) and type (and a session end's
    session). `layer_events` turns envelopes back into event dicts for a reader that needs fields."""
    envelope = {"id": event["id"], "type": event.get("type"), "frame": json.dumps(event, separators=(",", ":"), cls=DjangoJSONEncoder)}
    if "session" in event:
        envelope["session"] = event["session"]
    return envelope


def layer_events(message: dict) -> list[dict]:
    """The events of one layer message (a bundle of envelopes, or one ephemeral event), as dicts."""
    if "events" not in message:
        return [message["event"]]
    return [json.loads(e["frame"]) if "frame" in e else e for e in message["events"]]


async def _send_all(layer, events, envelopes):
    # Per group, in publish order. A conversation's events all go to the same groups, so a client
    # still sees conversation.created before that conversation's messages.
    by_group: dict[str, list[dict]] = {}
    for (groups, _event), envelope in zip(events, envelopes):
        for group in groups:
            by_group.setdefault(group, []).append(envelope)
    for group, bundle in by_group.items():
        for start in range(0, len(bundle), BUNDLE_MAX_EVENTS):
            await layer.group_send(group, {"type": HANDLER, "events": bundle[start:start + BUNDLE_MAX_EVENTS]})


def _reserve_ids(n: int) -> int:
    """First of n consecutive event ids (one round trip for the whole batch)."""
    global _local_last
    if not settings.REDIS_URL:
        with _local_lock:
            _local_last += n
            return _local_last - n + 1
    client = _counter(settings.REDIS_URL)
    start = int(time.time() * 1000) * 1000
    return client.register_script(_RESERVE_LUA)(keys=[COUNTER_KEY, _log_keys()[1]], args=[n, start]) - n + 1


# A Redis that restarted empty must not hand out ids again from 1: clients skip ids they have
# seen, so events numbered afresh would be dropped as old. A missing counter starts at the
# clock (milliseconds x 1000: above any id of an earlier life unless it averaged 1,000,000
# events a second; below 2**53, so JavaScript numbers hold it), and a log without a floor
# (new, or lost with the restart) holds nothing older than now: its floor is the counter, so a
# client resyncing from before is told to refetch (complete=False) instead of "nothing missed".
_RESERVE_LUA = """
redis.call('SET', KEYS[1], ARGV[2], 'NX')
redis.call('SET', KEYS[2], redis.call('GET', KEYS[1]), 'NX')
return redis.call('INCRBY', KEYS[1], ARGV[1])
"""


def last_event_id() -> int:
    """The newest event id handed out so far (0 when unknown): a page rendered now is at least
    this fresh, so its socket resyncs from here and misses nothing published after render."""
    if not settings.REDIS_URL:
        return _local_last
    try:
        return int(_counter(settings.REDIS_URL).get(COUNTER_KEY) or 0)
    except Exception:  # Redis down: the client then refetches everything on connect
        return 0


@functools.cache
def _counter(url: str) -> redis.Redis:
    # Short timeouts: this runs in the committing request or task; a stuck Redis must not hold it long.
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


async def broadcast_ephemeral(layer, groups: list[str], event: dict) -> None:
    """Send an event that has no id and is not logged (collision, presence). A key lets a socket
    in several of the groups drop the copies."""
    key = uuid.uuid4().hex
    for group in groups:
        await layer.group_send(group, {"type": HANDLER, "event": event, "key": key})


# --- the event log (resync) ------------------------------------------------------------------

RESYNC_MAX_EVENTS = 1000  # more missed than this: the client had better refetch its lists
RESYNC_SCAN_MAX = 5000  # logged events read for one resync (visible or not)
_APPEND_CHUNK = 2000  # events per Lua call (Lua's unpack/stack limits)
_APPEND_LUA = """
for i = 2, #ARGV, 2 do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1]) end
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[1])
if excess > 0 then
  local cut = redis.call('ZRANGE', KEYS[1], excess - 1, excess - 1, 'WITHSCORES')
  local floor = tonumber(redis.call('GET', KEYS[2]) or '0')
  if tonumber(cut[2]) > floor then redis.call('SET', KEYS[2], cut[2]) end
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1)
end
return excess
"""
_local_log: collections.deque = collections.deque()
_local_floor = 0  # the highest id dropped from the local log


def _log_keys() -> tuple[str, str]:
    # Namespaced like the channel layer (per deployment / per Redis db / per test worker).
    prefix = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "asgi")
    return f"centralita:{prefix}:event-log", f"centralita:{prefix}:event-log-floor"


def _log_append(numbered: list[tuple[list[str], dict]], envelopes: list[dict]) -> None:
    global _local_floor
    size = settings.EVENT_LOG_SIZE
    if not settings.REDIS_URL:
        with _local_lock:
            for groups, event in numbered:
                _local_log.append((event["id"], list(groups), event))
            while len(_local_log) > size:
                _local_floor = max(_local_floor, _local_log.popleft()[0])
        return
    client = _counter(settings.REDIS_URL)
    script = client.register_script(_APPEND_LUA)
    for start in range(0, len(numbered), _APPEND_CHUNK):
        args = [size]
        for (groups, event), envelope in zip(numbered[start:start + _APPEND_CHUNK], envelopes[start:start + _APPEND_CHUNK]):
            # {"g": groups, "e": event}, around the event's JSON already encoded for the sockets
            args += [event["id"], f'{{"g":{json.dumps(list(groups), separators=(",", ":"))},"e":{envelope["frame"]}}}']
        script(keys=list(_log_keys()), args=args)


def events_after(*, after: int, groups: list[str], limit: int = RESYNC_MAX_EVENTS) -> dict:
    """{"events": [...], "last_id": N, "complete": bool}: the logged events after `after` that
    went to one of `groups`, in id order. complete=False when events after `after` may have
    left the window (or more than `limit` are waiting): the caller refetches its state and goes
    on from last_id, the newest id logged."""
    wanted = set(groups)
    if not settings.REDIS_URL:
        with _local_lock:
            rows = [(i, g, e) for i, g, e in _local_log if i > after][: RESYNC_SCAN_MAX + 1]
            floor = _local_floor
            newest = _local_log[-1][0] if _local_log else 0
    else:
        log_key, floor_key = _log_keys()
        pipe = _counter(settings.REDIS_URL).pipeline(transaction=False)
        # Read at most RESYNC_SCAN_MAX + 1: further behind than that, the client refetches anyway.
        pipe.zrangebyscore(log_key, f"({after}", "+inf", start=0, num=RESYNC_SCAN_MAX + 1)
        pipe.get(floor_key)
        pipe.zrevrange(log_key, 0, 0, withscores=True)
        members, floor, top = pipe.execute()
        # No floor at all: Redis lost the log (restarted empty) and nothing was published since,
        # so what came before is unknown: the client must refetch (complete=False below).
        floor = int(floor) if floor is not None else float("inf")
        newest = int(top[0][1]) if top else 0
        rows = []
        for raw in members:
            item = json.loads(raw)
            rows.append((item["e"]["id"], item["g"], item["e"]))
    last_id = max(after, newest)
    visible = [event for _, event_groups, event in rows if wanted.intersection(event_groups)]
    complete = after >= floor and len(rows) <= RESYNC_SCAN_MAX and len(visible) <= limit
    return {"events": visible if complete else [], "last_id": last_id, "complete": complete}


def _log_clear() -> None:
    """Tests: forget the log (the window starts empty, nothing dropped)."""
    global _local_floor
    with _local_lock:
        _local_log.clear()
        _local_floor = 0
    if settings.REDIS_URL:
        log_key, floor_key = _log_keys()
        # A floor of 0, not none: "nothing dropped" (a missing floor means "lost with Redis").
        _counter(settings.REDIS_URL).pipeline().delete(log_key).set(floor_key, 0).execute()


def _conversation_of(event: dict):
    for key in ("conversation", "message", "notification"):
        value = event.get(key)
        if isinstance(value, dict):
            return value.get("conversation_id", value.get("id") if key == "conversation" else None)
    return event.get("conversation_id")


def events_forget(*, conversation_ids) -> int:
    """Drop the logged events about these conversations (a customer's erasure, retention): a
    reconnecting client must not be handed a redacted text again by the resync window. Reads the
    whole window (EVENT_LOG_SIZE events) once; returns how many were dropped."""
    wanted = set(conversation_ids)
    if not wanted:
        return 0
    if not settings.REDIS_URL:
        with _local_lock:
            keep = [row for row in _local_log if _conversation_of(row[2]) not in wanted]
            dropped = len(_local_log) - len(keep)
            _local_log.clear()
            _local_log.extend(keep)
        return dropped
    client = _counter(settings.REDIS_URL)
    log_key, _ = _log_keys()
    doomed = [raw for raw in client.zrange(log_key, 0, -1) if _conversation_of(json.loads(raw)["e"]) in wanted]
    for start in range(0, len(doomed), _APPEND_CHUNK):
        client.zrem(log_key, *doomed[start:start + _APPEND_CHUNK])
    return len(doomed)
