"""Moderating customers' public comments: hidden on the network (through the channel), never dropped.

A comment stays in the conversation and the customer's history whatever happens to it; what
changes is its mark: `metadata[<channel kind>]["hidden"]` (what the network shows) and
`metadata["moderation"]` (what a priority rule decided: flagged, with the rules and words that
fired). Every change is audited (a MODERATED event) and published live.
"""
import logging

from django.db import transaction
from django.utils import timezone

from apps.core.errors import ApplicationError

from ..channels import PermanentSendError, TemporarySendError, moderator_for
from ..events import publish_message_updated
from ..models import ConversationEvent, Message

logger = logging.getLogger(__name__)


def message_visibility_set(*, message: Message, hidden: bool, actor, reason: dict | None = None) -> Message:
    """Hide (or show again) a customer's public comment on its network, then record it.

    The network is asked first, outside any transaction (a slow provider holds no lock); only
    when it said yes does the desk mark the comment. Already in that state: the network is asked
    again (harmless) and nothing new is recorded. Raises ApplicationError when the channel cannot
    hide comments or this message is not one, TemporarySendError / PermanentSendError when the
    network refused (nothing changed). `reason` goes into the audit event (e.g. the rules that fired).
    """
    kind = message.channel_account.kind
    moderate = moderator_for(kind)
    if moderate is None:
        raise ApplicationError("Comments on this channel cannot be hidden from the desk", extra={"channel": kind})
    moderate(message=message, hidden=hidden)
    with transaction.atomic():
        locked = Message.objects.select_for_update().select_related("conversation").get(pk=message.pk)
        channel_meta = dict((locked.metadata or {}).get(kind) or {})
        if bool(channel_meta.get("hidden")) == hidden:
            return locked
        channel_meta.update(hidden=hidden, hidden_at=timezone.now().isoformat() if hidden else None,
                            hidden_by=actor.id if actor else None)
        locked.metadata = {**(locked.metadata or {}), kind: channel_meta}
        locked.save(update_fields=["metadata"])
        ConversationEvent.objects.create(
            conversation=locked.conversation, kind=ConversationEvent.Kind.MODERATED, actor=actor,
            data={"action": "comment_hidden" if hidden else "comment_shown",
                  "message_id": locked.id, "comment_id": channel_meta.get("comment_id"), **(reason or {})},
        )
        publish_message_updated(locked)
    return locked


def message_moderate(*, message_id: int) -> str:
    """After ingest: hide a comment a rule marked "hide" (the rules' reasons in the audit). Returns
    what happened: "hidden", "skipped" or "refused" (the network would not: it stays flagged, with the
    error noted, for an agent to look at). TemporarySendError propagates: the task retries it."""
    message = Message.objects.select_related("channel_account").filter(pk=message_id).first()
    moderation = ((message.metadata or {}).get("moderation") or {}) if message else {}
    if message is None or moderation.get("action") != "hide":
        return "skipped"
    reason = {"by": "rules", "reasons": moderation.get("reasons") or []}
    try:
        message_visibility_set(message=message, hidden=True, actor=None, reason=reason)
    except TemporarySendError:
        raise
    except (PermanentSendError, ApplicationError) as exc:
        logger.warning("message %s: the rules asked to hide it and the channel refused: %s", message_id, exc)
        with transaction.atomic():
            locked = Message.objects.select_for_update().select_related("conversation").get(pk=message_id)
            locked.metadata = {**locked.metadata, "moderation": {**moderation, "error": str(exc)[:300]}}
            locked.save(update_fields=["metadata"])
            publish_message_updated(locked)
        return "refused"
    return "hidden"
