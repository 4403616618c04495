"""The channel-neutral shape every connector's parse() produces."""
from dataclasses import dataclass, field
from datetime import datetime


class ParseError(ValueError):
    """The payload cannot become an InboundMessage; the message says why."""


@dataclass(frozen=True)
class SenderIdentity:
    kind: str  # crm.IdentityKind value
    value: str  # raw; normalized by crm.identities.normalize during ingest
    display_name: str = ""
    handle: str = ""


@dataclass
class InboundAttachment:
    filename: str
    content_type: str = "application/octet-stream"
    content: bytes | None = None  # stored in Django storage when present
    url: str = ""  # provider-hosted media
    content_id: str = ""


@dataclass
class InboundMessage:
    account_id: int
    external_id: str
    senders: list[SenderIdentity]  # first is the primary identity
    sent_at: datetime
    text: str = ""
    html: str = ""  # untrusted: sanitized during ingest
    subject: str = ""
    thread_key: str = ""  # same key, same conversation (email root id, tweet conversation_id, …)
    references: list[str] = field(default_factory=list)  # external ids this message answers
    kind: str = "message"  # message / call / form
    direction: str = "in"  # "out" for the account's own messages seen on the channel (echoes)
    is_public: bool = False
    opens_conversation: bool = True  # False for auto-replies, bounces: kept, never reopen/SLA
    # Inbound, yet itself the answer (a call an agent took live): the customer stops waiting.
    answers_waiting: bool = False
    priority: int | None = None
    attachments: list[InboundAttachment] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)


@dataclass
class InboundStatus:
    """A fact a provider reports later about messages already stored (never a message itself).

    kind: "failed" (a bounce: data["reason"]), "delivered", "read" (receipts), "reaction"
    (data["emoji"], data["reaction"]; data["removed"] when taken back), "edited" (data["text"]),
    "unsent", "hidden" / "shown" (a public comment hidden on the network itself; data["on"]: the
    channel kind whose metadata holds the mark). The messages concerned: `external_ids` (the provider's ids, as stored on the
    message), or a watermark: every outbound message of the conversation with `thread_key`
    sent up to `until` (Messenger's delivery and read watermarks).
    """

    account_id: int
    kind: str
    external_ids: list[str] = field(default_factory=list)
    thread_key: str = ""
    until: datetime | None = None
    at: datetime | None = None
    data: dict = field(default_factory=dict)
