"""Agent presence: online / away / offline, from the desk sockets a user has open.

Each open /ws/desk/ socket holds an entry (user, socket) that expires unless refreshed:
the consumer refreshes it every PRESENCE_HEARTBEAT_SECONDS and removes it on disconnect,
so several tabs count as one presence, the last socket closed means offline, and the
sockets of a server process that died stop counting after PRESENCE_TTL_SECONDS.
The status a user chose ("away") is kept apart and applies while they have a socket.
When each user was last seen (a socket refreshed or closed) is kept too: routing hands the work of
an agent offline for longer than their team's grace period back to the queue.

With REDIS_URL the entries are Redis sorted sets (shared by every server process);
embedded, a dict in this process (the only process serving sockets there).
"""
import threading
import time

from django.conf import settings

from apps.core.realtime import _counter as _redis

ONLINE, AWAY, OFFLINE = "online", "away", "offline"
CHOOSABLE = (ONLINE, AWAY)

_lock = threading.Lock()
_local_sockets: dict[int, dict[str, float]] = {}  # user id -> {socket: expires at}
_local_status: dict[int, str] = {}
_local_seen: dict[int, float] = {}
SEEN_KEPT_SECONDS = 7 * 24 * 3600


def _keys(user_id: int) -> tuple[str, str]:
    prefix = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "asgi")
    return f"centralita:{prefix}:presence:{user_id}:sockets", f"centralita:{prefix}:presence:{user_id}:status"


def _seen_key(user_id: int) -> str:
    return _keys(user_id)[0].removesuffix(":sockets") + ":seen"


def socket_seen(*, user_id: int, socket: str) -> int:
    """Register or refresh one socket of the user; returns how many live sockets they have."""
    now = time.time()
    expires = now + settings.PRESENCE_TTL_SECONDS
    if not settings.REDIS_URL:
        with _lock:
            sockets = _local_sockets.setdefault(user_id, {})
            sockets[socket] = expires
            _local_seen[user_id] = now
            return _live_local(sockets, now)
    sockets_key, _ = _keys(user_id)
    pipe = _redis(settings.REDIS_URL).pipeline()
    pipe.set(_seen_key(user_id), now, ex=SEEN_KEPT_SECONDS)
    pipe.zadd(sockets_key, {socket: expires})
    pipe.zremrangebyscore(sockets_key, "-inf", now)
    pipe.zcard(sockets_key)
    pipe.expire(sockets_key, settings.PRESENCE_TTL_SECONDS * 2)
    return pipe.execute()[3]


def socket_gone(*, user_id: int, socket: str) -> int:
    """Forget one socket; returns how many live sockets the user still has (0: offline)."""
    now = time.time()
    if not settings.REDIS_URL:
        with _lock:
            sockets = _local_sockets.get(user_id, {})
            sockets.pop(socket, None)
            _local_seen[user_id] = now
            return _live_local(sockets, now)
    sockets_key, _ = _keys(user_id)
    pipe = _redis(settings.REDIS_URL).pipeline()
    pipe.zrem(sockets_key, socket)
    pipe.zcount(sockets_key, now, "+inf")
    pipe.set(_seen_key(user_id), now, ex=SEEN_KEPT_SECONDS)
    return pipe.execute()[1]


def status_set(*, user_id: int, status: str) -> None:
    if status not in CHOOSABLE:
        raise ValueError(status)
    if not settings.REDIS_URL:
        with _lock:
            _local_status[user_id] = status
        return
    _redis(settings.REDIS_URL).set(_keys(user_id)[1], status, ex=7 * 24 * 3600)


def statuses(user_ids) -> dict[int, str]:
    """user id -> online / away / offline, for many users in one round trip."""
    user_ids = list(user_ids)
    now = time.time()
    if not settings.REDIS_URL:
        with _lock:
            return {
                u: (_local_status.get(u, ONLINE) if _live_local(_local_sockets.get(u, {}), now) else OFFLINE)
                for u in user_ids
            }
    pipe = _redis(settings.REDIS_URL).pipeline(transaction=False)
    for u in user_ids:
        sockets_key, status_key = _keys(u)
        pipe.zcount(sockets_key, now, "+inf")
        pipe.get(status_key)
    answers = pipe.execute()
    result = {}
    for i, u in enumerate(user_ids):
        live, chosen = answers[2 * i], answers[2 * i + 1]
        result[u] = (chosen.decode() if chosen else ONLINE) if live else OFFLINE
    return result


def offline_for(user_ids, *, now: float | None = None) -> dict[int, float | None]:
    """For the users among user_ids who are offline: seconds since they were last seen (None: not
    seen in the last week). Online and away users are left out. Two round trips."""
    now = time.time() if now is None else now
    offline = [u for u, s in statuses(user_ids).items() if s == OFFLINE]
    if not offline:
        return {}
    if not settings.REDIS_URL:
        with _lock:
            seen = [_local_seen.get(u) for u in offline]
    else:
        seen = _redis(settings.REDIS_URL).mget([_seen_key(u) for u in offline])
    return {u: (now - float(at) if at is not None else None) for u, at in zip(offline, seen)}


def _live_local(sockets: dict[str, float], now: float) -> int:
    for socket in [s for s, expires in sockets.items() if expires <= now]:
        del sockets[socket]
    return len(sockets)


def _clear() -> None:
    """Tests: nobody is connected (this deployment's namespace only: per test worker in tests)."""
    with _lock:
        _local_sockets.clear()
        _local_status.clear()
        _local_seen.clear()
    if settings.REDIS_URL:
        client = _redis(settings.REDIS_URL)
        keys = list(client.scan_iter(match=_keys(0)[0].replace(":0:sockets", ":*"), count=1000))
        if keys:
            client.delete(*keys)
