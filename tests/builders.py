"""Small builders shared by the API tests: data goes in through the real ingest service."""
import asyncio
import itertools

import redis
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.core.realtime import layer_events
from apps.inbox.models import Conversation
from apps.inbox.services.ingest import messages_ingest

_seq = itertools.count(1)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def cache_clear() -> None:
    """Empty this test worker's cache (its KEY_PREFIX). Not cache.clear(): on Redis that is FLUSHDB, which
    also wipes what the other test worker keeps in the same database (its agents' presence, event ids,
    drain keys), and made a presence test of the other worker fail now and then in CI."""
    if not settings.REDIS_URL:
        cache.clear()
        return
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(match=cache.make_key("*"), count=1000))
    if keys:
        client.delete(*keys)


def conversations(inbound, account, n: int, **kwargs) -> list[Conversation]:
    """n conversations of n new customers on `account`, oldest activity first."""
    batch = [inbound(account, email=f"person{next(_seq)}@example.com", minutes=i, **kwargs) for i in range(n)]
    ids = messages_ingest(messages=batch).message_ids
    return list(Conversation.objects.filter(messages__id__in=ids).order_by("last_activity_at", "id"))


def events_heard(groups: list[str], action, *, quiet_seconds: float = 0.5) -> list[dict]:
    """Run `action` (sync) while listening on channel-layer groups; return the events heard.

    Listening stops after `quiet_seconds` without a new event (a bound on waiting, not on speed).
    """

    async def listen():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        for group in groups:
            await layer.group_add(group, channel)
        await sync_to_async(action)()
        heard = []
        try:
            while True:
                message = await asyncio.wait_for(layer.receive(channel), quiet_seconds)
                heard.extend(layer_events(message))
        except asyncio.TimeoutError:
            pass
        for group in groups:
            await layer.group_discard(group, channel)
        return heard

    return async_to_sync(listen)()
