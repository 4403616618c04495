"""What a channel declares about itself, once, in its package's `channel.py`.

`registry.py` collects the declarations by import; everything that differs per channel (the
drain's parsers, `manage.py ingest`, reply senders, the composer's rules, webhook URLs, beat
entries, the admin's settings form and connection test) is read from there. Adding a channel
is one new package with its `channel.py` and one line in the registry (docs/new-channel.md).

This module is the bottom of the connectors package: it imports no channel and no service. The
types a channel's sender and composer use (send errors, ComposerRules) are the inbox's side of
the contract: apps/inbox/channels.py.
"""
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from django.utils.translation import gettext_lazy

NO_OUTBOUND_MESSAGES = gettext_lazy("This channel has no outbound messages: call the customer back or write from an email conversation.")


def whole_file(name: str, raw: bytes) -> list[tuple[str, bytes]]:
    """The default splitter: a file is one payload."""
    return [(name, raw)]


@dataclass(frozen=True)
class PayloadKind:
    """One kind of raw payload a channel receives (the phone channel has two: twilio, asterisk).
    `parse(raw, *, account_id) -> list[InboundMessage]` is pure; `split(name, raw)` cuts an
    import file into payloads; `statuses(raw, messages, *, account_id) -> list[InboundStatus]`
    (optional, pure) reads what the payload says about messages already stored (receipts,
    bounces, reactions, edits), given what parse made of it."""

    name: str
    parse: Callable
    split: Callable[[str, bytes], list[tuple[str, bytes]]] = whole_file
    statuses: Callable | None = None


@dataclass(frozen=True)
class Field:
    """One key of a channel account's `settings` or `secrets`, as the admin fills it in.

    `type` decides the console's input and how the value is checked and stored: text, int
    (a whole number within `min`..`max`), choice (one of `choices`), bool (a checkbox), url
    (http or https), email, file (a server path). Secrets are always write-only text."""

    name: str
    label: str
    help: str = ""
    required: bool = False
    type: str = "text"
    choices: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True)
class Beat:
    """A periodic task of the channel: `task` is a function name in the package's tasks.py."""

    name: str
    task: str
    seconds: float


@dataclass(frozen=True)
class Channel:
    kind: str  # a ChannelKind value
    package: str  # the channel's package (its tasks.py is found there): pass __package__
    payloads: tuple[PayloadKind, ...]
    # send(*, message, account) -> provider id; None: the channel sends nothing, `no_outbound` says why.
    send: Callable | None = None
    no_outbound: str = ""
    # rules(conversation) -> ComposerRules; None: any text, the conversation's own visibility.
    composer: Callable | None = None
    # moderate(*, message, hidden) hides (or shows again) a customer's public comment on the network;
    # raises ApplicationError (not a comment), TemporarySendError or PermanentSendError. None: cannot.
    moderate: Callable | None = None
    # (URL prefix, the package's urls module): mounted by config/urls.py.
    webhooks: tuple[tuple[str, ModuleType], ...] = ()
    beat: tuple[Beat, ...] = ()
    settings: tuple[Field, ...] = ()
    secrets: tuple[Field, ...] = ()
    # probe(account) -> a one-line description of what answered; raises with the reason otherwise.
    probe: Callable | None = None
    # reaches(account, identity) -> the thread key of a conversation the desk starts with that
    # identity ("" when the channel threads by its messages, as email does), or None when this
    # account cannot write to it. None here: the channel never starts conversations.
    reaches: Callable | None = None
    # Seconds between polls of a new account (0: the channel is not polled); each account may change it.
    poll_interval: int = 0
    # (label, URL name taking account_id): the provider is given these, ready to copy from the console.
    webhook_urls: tuple[tuple[str, str], ...] = ()
    # A secret the console generates, shows once at creation and rotates ("verify_token"); "inbound_token"
    # is the API channel's token, of which only a hash is kept.
    generated_secret: str = ""
    # missing(settings, secrets) -> what is still needed, in words; None: the `required` Fields.
    missing: Callable | None = None


# How often the polled channels' beat entries fan out; each account is polled when its own
# poll_interval has passed (read from the database at every tick: a change needs no restart).
POLL_TICK_SECONDS = 15.0
