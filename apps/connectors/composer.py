"""What the agent may send on a conversation's channel: visibility choices, length, reply window.

Each channel that has limits registers a `rules(conversation) -> ComposerRules` here (Twitter:
280 characters, public reply or DM; Messenger: the 24-hour window). The desk's composer shows
them (GET /api/conversations/<id>/composer/) and reply_create enforces them, so an API client
gets the same clear refusal as the browser.
"""
import re
from dataclasses import asdict, dataclass, field
from importlib import import_module

from apps.core.errors import ApplicationError

PUBLIC, PRIVATE = "public", "private"


@dataclass
class ComposerRules:
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
        return asdict(self)


RULES: dict[str, str] = {
    "twitter": "apps.connectors.twitter.composer.rules",
    "facebook": "apps.connectors.facebook.composer.rules",
}


def composer_rules(conversation) -> ComposerRules:
    kind = conversation.channel_account.kind
    if kind in RULES:
        module_path, name = RULES[kind].rsplit(".", 1)
        return getattr(import_module(module_path), name)(conversation)
    if kind in ("phone", "webform"):
        # No outbound channel of their own: the agent calls back, or answers by email.
        return ComposerRules(can_reply=False, notice="This channel has no outbound messages: call the customer back or write from an email conversation.")
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
        raise ApplicationError(rules.notice or "Replies cannot be sent on this channel", extra={"rules": rules.as_dict()})
    length = text_length(text, url_chars=rules.url_chars)
    if rules.max_chars is not None and length > rules.max_chars:
        raise ApplicationError(
            f"The reply is {length} characters; this channel allows {rules.max_chars}",
            extra={"max_chars": rules.max_chars, "length": length},
        )
    if rules.visibilities:
        if is_public is None:
            return rules.default_visibility == PUBLIC
        wanted = PUBLIC if is_public else PRIVATE
        if wanted not in rules.visibilities:
            raise ApplicationError(f"A {wanted} reply is not possible here", extra={"visibilities": rules.visibilities})
        return is_public
    # One kind of reply only: a channel with rules says which (Messenger: private); others follow the conversation.
    fixed = rules.default_visibility == PUBLIC if conversation.channel_account.kind in RULES else conversation.is_public
    if is_public is not None and is_public != fixed:
        raise ApplicationError(
            f"Only {'public' if fixed else 'private'} replies are possible here", extra={"visibilities": rules.visibilities}
        )
    return fixed
