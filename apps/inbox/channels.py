"""What the inbox needs from a channel, and the one place it asks: the composer's rules and the sender.

The channels live above the inbox (apps/connectors imports the inbox, never the other way), so
the inbox states the contract here — the types a channel's composer and sender use, and
`channels_connect(lookup)` — and the connectors app connects its registry at start
(apps/connectors/apps.py). The desk's composer shows the rules (GET /api/conversations/<id>/composer/)
and reply_create enforces them, so an API client gets the same clear refusal as the browser.
"""
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from apps.core.errors import ApplicationError
from django.utils.translation import gettext as _

PUBLIC, PRIVATE = "public", "private"


# --- replies ----------------------------------------------------------------------------------


class SendError(Exception):
    pass


class TemporarySendError(SendError):
    """What can heal (timeouts, 5xx, rate limits): the deliver task retries with backoff."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    """What cannot (bad address, closed window): shown to the agent."""


@dataclass
class ComposerRules:
    """What the agent may send on a conversation: visibility choices, length, reply window."""

    # Which of "public" / "private" the agent may pick; empty when the channel has one kind of reply.
    visibilities: list[str] = field(default_factory=list)
    default_visibility: str = PRIVATE
    max_chars: int | None = None
    # When set, every http(s) link counts as this many characters (X counts a link as 23, whatever its length).
    url_chars: int | None = None
    can_reply: bool = True
    # Shown above the composer, e.g. which Messenger window applies or why replying is closed.
    notice: str = ""
    # Channel specifics the sender needs (e.g. {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}).
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["notice"] = str(data["notice"])  # a lazy translation (the channel's no_outbound), in today's language
        return data


# --- the lookup, connected by the connectors app -------------------------------------------------

# kind -> the channel's declaration (apps.connectors.channel.Channel: .send, .composer, .no_outbound, .moderate), or None.
_channel_for: Callable[[str], object | None] = lambda kind: None


def channels_connect(lookup: Callable[[str], object | None]) -> None:
    global _channel_for
    _channel_for = lookup


# The channel accounts (for ingest), the kinds of channel (value, label) and each account's kind, for the filters and forms of the
# layers between the inbox and the connectors (routing rules, SLA policies) and the desk's own.
_kind_choices: list[tuple[str, str]] = []
_account_kinds: Callable[[set[int]], dict[int, str]] = lambda ids: {}
_accounts: Callable[[set[int]], dict] = lambda ids: {}


def kinds_connect(*, choices, account_kinds: Callable[[set[int]], dict[int, str]], accounts: Callable[[set[int]], dict]) -> None:
    global _account_kinds, _accounts
    _kind_choices[:] = list(choices)
    _account_kinds, _accounts = account_kinds, accounts


def channel_accounts(ids: set[int]) -> dict:
    """Channel account id -> the account (its kind, team, settings), for ingest."""
    return _accounts(ids)


def kind_choices() -> list[tuple[str, str]]:
    """[(kind, label)] of every channel kind (connected by the connectors app)."""
    return list(_kind_choices)


def account_kinds(ids: set[int]) -> dict[int, str]:
    """Channel account id -> its kind, for these ids (at least)."""
    return _account_kinds(ids)


def sender_for(kind: str):
    """send(*, message, account) -> the provider's id; raises TemporarySendError / PermanentSendError."""
    channel = _channel_for(kind)
    if channel is None or channel.send is None:
        raise PermanentSendError(f"channel {kind!r} cannot send replies")
    return channel.send


def can_reach(*, account, identity) -> bool:
    channel = _channel_for(account.kind)
    return channel is not None and channel.reaches is not None and channel.reaches(account, identity) is not None


def outbound_thread_key(*, account, identity) -> str:
    """The thread key of a conversation started with `identity` on `account` ("" when the channel
    threads by its messages); ApplicationError when the account cannot write to that identity."""
    channel = _channel_for(account.kind)
    key = channel.reaches(account, identity) if channel is not None and channel.reaches is not None else None
    if key is None:
        raise ApplicationError(
            _("%(account)s cannot write to this %(kind)s identity") % {"account": account.name, "kind": identity.kind},
            extra={"account_kind": account.kind, "identity_kind": identity.kind},
        )
    return key
def moderator_for(kind: str):
    """moderate(*, message, hidden) of the channel, or None when its comments cannot be hidden there."""
    channel = _channel_for(kind)
    return getattr(channel, "moderate", None) if channel is not None else None


def composer_rules(conversation) -> ComposerRules:
    channel = _channel_for(conversation.channel_account.kind)
    if channel is not None and channel.composer is not None:
        return channel.composer(conversation)
    if channel is not None and channel.send is None:
        # No outbound channel of its own (phone: call back; web form: answer by email).
        return ComposerRules(can_reply=False, notice=channel.no_outbound)
    return ComposerRules()


_URL = re.compile(r"https?://\S+", re.IGNORECASE)


def text_length(text: str, *, url_chars: int | None = None) -> int:
    """Length as the channel counts it: characters, with each link as url_chars when set."""
    if url_chars is None:
        return len(text)
    return len(_URL.sub("", text)) + url_chars * len(_URL.findall(text))


def reply_check(*, conversation, text: str, is_public: bool | None) -> bool:
    """Refuse what the channel cannot send; returns the visibility to use (True = public)."""
    rules = composer_rules(conversation)
    if not rules.can_reply:
        raise ApplicationError(rules.notice or _("Replies cannot be sent on this channel"), extra={"rules": rules.as_dict()})
    length = text_length(text, url_chars=rules.url_chars)
    if rules.max_chars is not None and length > rules.max_chars:
        raise ApplicationError(
            _("The reply is %(length)d characters; this channel allows %(max)d") % {"length": length, "max": rules.max_chars},
            extra={"max_chars": rules.max_chars, "length": length},
        )
    if rules.visibilities:
        if is_public is None:
            return rules.default_visibility == PUBLIC
        wanted = PUBLIC if is_public else PRIVATE
        if wanted not in rules.visibilities:
            raise ApplicationError((_("A public reply is not possible here") if wanted == PUBLIC else _("A private reply is not possible here")), extra={"visibilities": rules.visibilities})
        return is_public
    # One kind of reply only: a channel with rules says which (Messenger: private); others follow the conversation.
    channel = _channel_for(conversation.channel_account.kind)
    fixed = rules.default_visibility == PUBLIC if channel and channel.composer else conversation.is_public
    if is_public is not None and is_public != fixed:
        raise ApplicationError(
            _("Only public replies are possible here") if fixed else _("Only private replies are possible here"), extra={"visibilities": rules.visibilities}
        )
    return fixed
