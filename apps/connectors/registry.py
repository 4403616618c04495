"""Every channel, collected by import from its package's channel.py (see channel.py).

Adding a channel: its package with a channel.py, and one line in CHANNELS below
(docs/new-channel.md). tests/connectors/test_registry.py checks every channel declares its parts.
"""
from dataclasses import replace

from django.urls import include, path

from .push.channel import CHANNEL as PUSH
from .channel import Channel, PayloadKind
from .email.channel import CHANNEL as EMAIL
from .facebook.channel import CHANNEL as FACEBOOK
from .phone.channel import CHANNEL as PHONE
from .services import channel_account_touch_success
from .twitter.channel import CHANNEL as TWITTER
from .webform.channel import CHANNEL as WEBFORM

CHANNELS: dict[str, Channel] = {}
PAYLOAD_KINDS: dict[str, PayloadKind] = {}


def register(channel: Channel) -> None:
    """Add a channel (at import below; tests register a dummy one and unregister it after)."""
    clash = {p.name for p in channel.payloads} & set(PAYLOAD_KINDS)
    if channel.kind in CHANNELS or clash:
        raise ValueError(f"channel {channel.kind!r} or payload kinds {sorted(clash)} are registered already")
    CHANNELS[channel.kind] = channel
    PAYLOAD_KINDS.update({p.name: p for p in channel.payloads})


def unregister(kind: str) -> None:
    channel = CHANNELS.pop(kind)
    for payload in channel.payloads:
        PAYLOAD_KINDS.pop(payload.name, None)


for _channel in (PUSH, EMAIL, TWITTER, FACEBOOK, PHONE, WEBFORM):
    register(_channel)


def channel_for(kind: str) -> Channel | None:
    return CHANNELS.get(kind)


_FOR_INBOX: dict[str, tuple[Channel, Channel]] = {}


def channel_for_inbox(kind: str) -> Channel | None:
    """The declaration the inbox sends replies with: its sender records each success on the
    account's health (failures are the channel's to judge: a closed Messenger window is not the
    account failing). Connected to the inbox by apps.py."""
    channel = CHANNELS.get(kind)
    if channel is None or channel.send is None:
        return channel
    if _FOR_INBOX.get(kind, (None,))[0] is not channel:
        _FOR_INBOX[kind] = (channel, replace(channel, send=_tracked(channel.send)))
    return _FOR_INBOX[kind][1]


def _tracked(send):
    def send_and_record(*, message, account):
        external_id = send(message=message, account=account)
        channel_account_touch_success(account_id=account.pk)
        return external_id

    return send_and_record


def payload_kind(name: str) -> PayloadKind:
    if name not in PAYLOAD_KINDS:
        raise ValueError(f"unknown payload kind {name!r}; known: {', '.join(sorted(PAYLOAD_KINDS))}")
    return PAYLOAD_KINDS[name]


def parser_for(name: str):
    return payload_kind(name).parse


def statuses_for(name: str):
    """The kind's reader of receipts/bounces/reactions, or None when it reports none."""
    return payload_kind(name).statuses


def splitter_for(name: str):
    """How a file of this kind splits into payloads (the whole file is one, unless the channel says)."""
    return payload_kind(name).split


def webhook_urlpatterns() -> list:
    """Each channel's webhook / public URLs at the prefix it declares (config/urls.py)."""
    return [path(prefix, include(module)) for channel in CHANNELS.values() for prefix, module in channel.webhooks]


def beat_schedule() -> dict:
    """Each channel's periodic tasks, in Celery beat's form (config/celery.py)."""
    return {
        beat.name: {"task": f"{channel.package}.tasks.{beat.task}", "schedule": beat.seconds}
        for channel in CHANNELS.values()
        for beat in channel.beat
    }


def task_packages() -> list[str]:
    """Channel packages whose tasks.py Celery must import (they are not Django apps)."""
    return [channel.package for channel in CHANNELS.values()]
