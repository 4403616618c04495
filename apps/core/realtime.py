"""The one publishing helper. Only services call it.

Events are JSON dicts with a `type`; they are sent after the surrounding
transaction commits, so a rolled-back write never reaches a browser.
"""
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

# Channels' group_send wants a `type` naming the consumer handler; the payload keeps its own.
HANDLER = "desk.event"


def publish_on_commit(events: list[tuple[list[str], dict]]) -> None:
    """Queue (groups, event) pairs to be sent once the current transaction commits."""
    if events:
        transaction.on_commit(lambda: _send(events))


def _send(events: list[tuple[list[str], dict]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(_send_all)(layer, events)
    except Exception:  # the write is committed; a dead Redis must not fail it
        logger.exception("publishing %d events failed", len(events))


async def _send_all(layer, events):
    for groups, event in events:
        for group in groups:
            await layer.group_send(group, {"type": HANDLER, "event": event})
