"""/ws/desk/: a notification channel. Clients (re)fetch state over HTTP, then apply events.

Who hears what follows apps/inbox/visibility.py: on connect the socket joins the groups the
user may see (supervisors: everything; agents: their teams, team-less conversations and
their own assignments), and services publish each event to the groups of its conversation.
Groups are fixed for the life of a connection: after a change to a user's teams or role the
user sees the new set on the next connection (the desk page reconnects by itself and
refetches over HTTP). An assignment needs no reconnect: it reaches the assignee's own group.
"""
import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .visibility import groups_for_user

UNAUTHENTICATED = 4401
RECENT_IDS = 1000  # a duplicate follows its original in the same publish call; ample margin


class DeskConsumer(AsyncJsonWebsocketConsumer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.recent_ids: dict[int, None] = {}  # insertion-ordered: the oldest is dropped first

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            # Accept first: closing before the handshake becomes a bare HTTP 403 and the
            # browser never sees the code that tells it to sign in again.
            await self.accept()
            await self.close(code=UNAUTHENTICATED)
            return
        self.groups_joined = await database_sync_to_async(groups_for_user)(user)
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "user_id": user.id, "groups": len(self.groups_joined)})

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # Clients only ever send small control messages; garbage is ignored, not fatal.
        try:
            content = json.loads(text_data or "")
        except ValueError:
            return
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def desk_event(self, message):
        # Groups overlap (an agent's team and their own assignments): an event published to
        # both arrives twice, with one id. Ids from several publishers interleave, so remember
        # a window of recent ones rather than only the highest.
        event = message["event"]
        event_id = event.get("id")
        if event_id is not None:
            if event_id in self.recent_ids:
                return
            self.recent_ids[event_id] = None
            if len(self.recent_ids) > RECENT_IDS:
                del self.recent_ids[next(iter(self.recent_ids))]
        await self.send_json(event)
