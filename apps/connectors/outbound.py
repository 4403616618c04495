"""Channel kind -> send function for agent replies.

A sender is `send(*, message: Message, account: ChannelAccount) -> str` returning the
provider's id for the sent message. It raises TemporarySendError for what can heal
(timeouts, 5xx, rate limits: the deliver task retries with backoff) and
PermanentSendError for what cannot (bad address, closed window: shown to the agent).
"""
from importlib import import_module


class SendError(Exception):
    pass


class TemporarySendError(SendError):
    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    pass


SENDERS: dict[str, str] = {
    "api": "apps.connectors.api.send.send",
    "email": "apps.connectors.email.send.send",
    "twitter": "apps.connectors.twitter.send.send",
    "facebook": "apps.connectors.facebook.send.send",
}


def sender_for(kind: str):
    if kind not in SENDERS:
        raise PermanentSendError(f"channel {kind!r} cannot send replies")
    module_path, name = SENDERS[kind].rsplit(".", 1)
    return getattr(import_module(module_path), name)
