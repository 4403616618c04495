"""Agent presence: online / away / offline, from the desk sockets a user has open.

Each open /ws/desk/ socket holds an entry (user, socket) that expires unless refreshed:
the consumer refreshes it every PRESENCE_HEARTBEAT_SECONDS and removes it on disconnect,
so several tabs count as one presence, the last socket closed means offline, and the
sockets of a server process that died stop counting after PRESENCE_TTL_SECONDS.
The status a user chose ("away") is kept apart and applies while they have a socket.

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


def _keys(user_id: int) -> tuple[str, str]:
    prefix = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "asgi")
    return f"centralita:{prefix}:presence:{user_id}:sockets", f"centralita:{prefix}:presence:{user_id}:status"


def socket_seen(*, user_id: int, socket: str) -> int:
    """Register or refresh one socket of the user; returns how many live sockets they have."""
    now = time.time()
    expires = now + settings.PRESENCE_TTL_SECONDS
    if not settings.REDIS_URL:
        with _lock:
            sockets = _local_sockets.setdefault(user_id, {})
            sockets[socket] = expires
            return _live_local(sockets, now)
    sockets_key, _ = _keys(user_id)
    pipe = _redis(settings.REDIS_URL).pipeline()
    pipe.zadd(sockets_key, {socket: expires})
    pipe.zremrangebyscore(sockets_key, "-inf", now)
    pipe.zcard(sockets_key)
    pipe.expire(sockets_key, settings.PRESENCE_TTL_SECONDS * 2)
    return pipe.execute()[2]


def socket_gone(*, user_id: int, socket: str) -> int:
    """Forget one socket; returns how many live sockets the user still has (0: offline)."""
    now = time.time()
    if not settings.REDIS_URL:
        with _lock:
            sockets = _local_sockets.get(user_id, {})
            sockets.pop(socket, None)
            return _live_local(sockets, now)
    sockets_key, _ = _keys(user_id)
    pipe = _redis(settings.REDIS_URL).pipeline()
    pipe.zrem(sockets_key, socket)
    pipe.zcount(sockets_key, now, "+inf")
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


def _live_local(sockets: dict[str, float], now: float) -> int:
    for socket in [s for s, expires in sockets.items() if expires <= now]:
        del sockets[socket]
    return len(sockets)


def _clear() -> None:
    """Tests: nobody is connected (this deployment's namespace only: per test worker in tests)."""
    with _lock:
        _local_sockets.clear()
        _local_status.clear()
    if settings.REDIS_URL:
        client = _redis(settings.REDIS_URL)
        keys = list(client.scan_iter(match=_keys(0)[0].replace(":0:sockets", ":*"), count=1000))
        if keys:
            client.delete(*keys)
