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
    import file into payloads."""

    name: str
    parse: Callable
    split: Callable[[str, bytes], list[tuple[str, bytes]]] = whole_file


@dataclass(frozen=True)
class Field:
    """One key of a channel account's `settings` or `secrets`, as the admin fills it in."""

    name: str
    label: str
    help: str = ""
    required: bool = False


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
    # (URL prefix, the package's urls module): mounted by config/urls.py.
    webhooks: tuple[tuple[str, ModuleType], ...] = ()
    beat: tuple[Beat, ...] = ()
    settings: tuple[Field, ...] = ()
    secrets: tuple[Field, ...] = ()
    # probe(account) -> a one-line description of what answered; raises with the reason otherwise.
    probe: Callable | None = None
