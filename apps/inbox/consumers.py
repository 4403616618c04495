"""/ws/desk/: a notification channel. Clients (re)fetch state over HTTP, then apply events.

Who hears what follows apps/inbox/visibility.py: on connect the socket joins the groups the
user may see (supervisors: everything; agents: their teams, team-less conversations and
their own assignments), and services publish each event to the groups of its conversation.
Groups are fixed for the life of a connection: after a change to a user's teams or role the
user sees the new set on the next connection (the desk page reconnects by itself and
refetches over HTTP). An assignment needs no reconnect: it reaches the assignee's own group.

Client -> server frames: ping; watch (collision: who views or types in a conversation,
checked against visibility, broadcast to the conversation's groups, never logged); presence
(online / away, broadcast to supervisors); subscribe (topic "wallboard": the supervisors'
live figures, supervisors and admins only). The socket itself is presence: connect = online,
the user's last socket closed = offline (apps/accounts/presence.py).
"""
import asyncio
import hashlib
import logging

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.consumer import get_handler_name
from django.conf import settings

from apps.accounts import presence
from apps.core.parsing import json_parse
from apps.core.realtime import announce_changed, broadcast_ephemeral

from .models import Conversation
from .queue import agent_available
from .visibility import ALL_GROUP, conversation_groups, groups_for_user, visible_conversations_q, wallboard_groups

UNAUTHENTICATED = 4401
SERVICE_RESTART = 1012  # RFC 6455 registry: "try again later"; the client reconnects with back-off
logger = logging.getLogger(__name__)
SESSION_ENDED = "session.ended"
# The user's role or teams changed, or they were deactivated: close so the client reconnects
# (any code but 4401 makes the desk (static/desk/live.js) reconnect) and joins the groups its rights now allow.
ACCESS_CHANGED = "access.changed"
ACCESS_CHANGED_CODE = 4409


def session_fingerprint(session) -> str | None:
    """Names a browser session in an event without publishing its key."""
    key = getattr(session, "session_key", None)
    return hashlib.sha256(key.encode()).hexdigest()[:32] if key else None
RECENT_IDS = 1000  # a duplicate follows its original in the same publish call; ample margin
WATCH_STATES = ("viewing", "typing", "idle", "left")
MAX_WATCHED = 50  # conversations one socket may announce at once (a bound, not a feature)


def user_ref(user) -> dict:
    return {"id": user.id, "name": user.get_full_name() or user.username}


@database_sync_to_async
def _watchable_groups(user, conversation_id: int) -> list[str] | None:
    """The conversation's groups if the user may see it, else None."""
    row = (
        Conversation.objects.filter(visible_conversations_q(user), pk=conversation_id)
        .values_list("team_id", "assignee_id")
        .first()
    )
    return None if row is None else conversation_groups(team_id=row[0], assignee_id=row[1])


class DeskConsumer(AsyncJsonWebsocketConsumer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.recent_ids: dict = {}  # insertion-ordered: the oldest is dropped first
        self.watching: dict[int, list[str]] = {}  # conversation id -> its groups
        self.heartbeat = None

    async def dispatch(self, message):
        # Channels closes stale database connections before every handler, a hop to a worker thread
        # each time: a quarter of the socket process's CPU under live traffic (bench/README.md). Live
        # events, most messages by far, never touch the database, and every handler here that does
        # goes through database_sync_to_async, which closes stale connections around its call itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            # Accept first: closing before the handshake becomes a bare HTTP 403 and the
            # browser never sees the code that tells it to sign in again.
            await self.accept()
            await self.close(code=UNAUTHENTICATED)
            return
        self.user = user
        self.groups_joined = await database_sync_to_async(groups_for_user)(user)
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        sockets = await sync_to_async(presence.socket_seen, thread_sensitive=False)(user_id=user.id, socket=self.channel_name)
        if sockets == 1:  # the first socket: the user comes online (whatever they chose last time)
            await sync_to_async(presence.status_set, thread_sensitive=False)(user_id=user.id, status=presence.ONLINE)
            await self._presence(presence.ONLINE)
            # Online: the queued work of their teams is handed out now, not at the next arrival.
            await database_sync_to_async(agent_available)(user_id=user.id)
        self.heartbeat = asyncio.ensure_future(self._beat())
        # Last: a client that got hello knows its presence was announced.
        await self.send_json({"type": "hello", "user_id": user.id, "groups": len(self.groups_joined)})

    async def disconnect(self, code):
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        user = getattr(self, "user", None)
        if user is not None:
            for conversation_id, groups in list(self.watching.items()):
                await self._collision(conversation_id, groups, "left")
            self.watching.clear()
            left = await sync_to_async(presence.socket_gone, thread_sensitive=False)(user_id=user.id, socket=self.channel_name)
            if left == 0:
                await self._presence(presence.OFFLINE)
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # Clients only ever send small control messages; garbage is ignored, not fatal.
        try:
            content = json_parse(text_data or "")
        except ValueError:
            return
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "watch":
            await self._watch(content)
        elif kind == "presence":
            status = content.get("status")
            if status not in presence.CHOOSABLE:
                await self._error("presence status must be online or away", status=status)
                return
            before = (await sync_to_async(presence.statuses, thread_sensitive=False)([self.user.id]))[self.user.id]
            await sync_to_async(presence.status_set, thread_sensitive=False)(user_id=self.user.id, status=status)
            await self._presence(status)
            if status == presence.ONLINE and before != presence.ONLINE:  # back from away
                await database_sync_to_async(agent_available)(user_id=self.user.id)
        elif kind == "subscribe":
            await self._subscribe(content.get("topic"))

    async def _subscribe(self, topic):
        """Extra streams a page asks for. "wallboard": the supervisors' live figures (snapshots,
        never logged; the page fetched the current one over HTTP), supervisors and admins only."""
        if topic != "wallboard":
            await self._error("unknown topic", topic=topic, topics=["wallboard"])
            return
        if not self.user.sees_everything:
            await self._error("Only supervisors and admins may watch the wallboard", topic=topic)
            return
        for group in await database_sync_to_async(wallboard_groups)(self.user):
            if group not in self.groups_joined:
                await self.channel_layer.group_add(group, self.channel_name)
                self.groups_joined.append(group)
        await self.send_json({"type": "subscribed", "topic": topic})

    async def _watch(self, content):
        conversation_id, state = content.get("conversation_id"), content.get("state")
        if not isinstance(conversation_id, int) or isinstance(conversation_id, bool) or state not in WATCH_STATES:
            await self._error("watch needs an integer conversation_id and a state", states=list(WATCH_STATES))
            return
        if state != "left" and conversation_id not in self.watching and len(self.watching) >= MAX_WATCHED:
            await self._error("watching too many conversations at once", conversation_id=conversation_id)
            return
        groups = await _watchable_groups(self.user, conversation_id)
        if groups is None:
            # Same answer for invisible and missing, as the REST API's 404.
            await self._error("No such conversation", conversation_id=conversation_id)
            return
        if state == "left":
            self.watching.pop(conversation_id, None)
        else:
            self.watching[conversation_id] = groups
        await self._collision(conversation_id, groups, state)

    async def _collision(self, conversation_id: int, groups: list[str], state: str):
        event = {"type": "collision", "conversation_id": conversation_id, "user": user_ref(self.user), "state": state}
        await broadcast_ephemeral(self.channel_layer, groups, event)

    async def _presence(self, status: str):
        event = {"type": "presence", "user": user_ref(self.user), "status": status}
        await broadcast_ephemeral(self.channel_layer, [ALL_GROUP], event)
        await sync_to_async(announce_changed, thread_sensitive=False)([event])

    async def _error(self, message: str, **extra):
        await self.send_json({"type": "error", "message": message, **extra})

    async def _beat(self):
        # The heartbeat is also this socket's check on Redis. When Redis is gone, events can no
        # longer reach this socket (and those published meanwhile are lost for good): close it,
        # so the client reconnects once Redis is back and resyncs, refetching what it missed.
        while True:
            await asyncio.sleep(settings.PRESENCE_HEARTBEAT_SECONDS)
            try:
                await sync_to_async(presence.socket_seen, thread_sensitive=False)(user_id=self.user.id, socket=self.channel_name)
            except Exception:
                logger.warning("desk socket of user %s: Redis unreachable, closing so the client resyncs", self.user.id)
                await self.close(code=SERVICE_RESTART)
                return

    async def desk_event(self, message):
        # Ephemeral events (collision, presence) come one by one with a key. Numbered events come in
        # bundles (one layer message per group and publish call): what this socket keeps of a bundle
        # leaves in ONE frame, a JSON array when it holds several events: one send here and one
        # parse in the browser per bundle, not per event (docs/api.md, "Live events").
        if "events" not in message:
            event = message["event"]
            if event.get("type") in (SESSION_ENDED, ACCESS_CHANGED):
                await self._end_socket(event)
                return
            if self._accept(event, message.get("key")):
                await self.send_json(event)
            return
        # Numbered events come encoded once for all sockets (apps/core/realtime.py): sent as they are.
        texts = [event["frame"] for event in message["events"] if self._accept(event, None)]
        if len(texts) == 1:
            await self.send(text_data=texts[0])
        elif texts:
            await self.send(text_data="[" + ",".join(texts) + "]")

    def _accept(self, event: dict, key: str | None) -> bool:
        """Whether this socket passes the event on: not a copy already seen, nor news of this
        user's own presence or collision."""
        # Groups overlap (an agent's team and their own assignments): an event published to
        # both arrives twice, with one id (or, ephemeral, one key). Ids from several publishers
        # interleave, so remember a window of recent ones rather than only the highest.
        seen_key = event.get("id") if event.get("id") is not None else key
        if seen_key is not None:
            if seen_key in self.recent_ids:
                return False
            self.recent_ids[seen_key] = None
            if len(self.recent_ids) > RECENT_IDS:
                del self.recent_ids[next(iter(self.recent_ids))]
        if event.get("type") in ("collision", "presence") and event["user"]["id"] == self.user.id:
            return False  # nobody is told about themselves (their other tabs included)
        return True

    async def _end_socket(self, event: dict) -> None:
        if event.get("type") == SESSION_ENDED:
            # Signed out: this browser's sockets close (other devices of the same user stay).
            if event.get("session") == session_fingerprint(self.scope.get("session")):
                await self.close(code=UNAUTHENTICATED)
            return
        await self.close(code=ACCESS_CHANGED_CODE)  # the client reconnects and joins what its rights allow now
