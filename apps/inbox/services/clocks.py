"""Writes the sla app asks of the inbox: the clock summary on conversation rows, the audit of a
policy re-pick, and a warning or breach (event, notifications, live update). The sla app decides;
the conversation rows and their audit trail are written here only (see ../clocks.py)."""
from dataclasses import dataclass, field

from apps.core.bulk import rows_update
from apps.core.realtime import publish_on_commit

from ..events import conversation_data, tags_of
from ..models import Conversation, ConversationEvent, Notification
from ..visibility import conversation_groups
from .notifications import notify_sla

SUMMARY_FIELDS = ("sla_policy_id", "sla_clock", "sla_due_at", "sla_warn_at", "sla_paused_seconds")


def conversations_sla_set(*, changes: list[tuple[Conversation, dict]], events: list[ConversationEvent] = ()) -> None:
    """Store each conversation's clock summary ({field: value} of SUMMARY_FIELDS) and set it on the
    object the caller holds (it publishes that object next). Rows must be locked by the caller.
    One statement for the lot: ingest calls this for a whole batch."""
    rows = []
    for conversation, summary in changes:
        unknown = set(summary) - set(SUMMARY_FIELDS)
        if unknown:
            raise ValueError(f"not SLA summary fields: {sorted(unknown)}")
        for name, value in summary.items():
            setattr(conversation, name, value)
        rows.append(conversation)
    rows_update(rows, SUMMARY_FIELDS)
    if events:
        ConversationEvent.objects.bulk_create(events)


@dataclass
class SlaAlert:
    conversation: Conversation
    breached: bool  # False: the warning share was crossed
    data: dict  # the audit event's data
    notify_user_ids: list[int] = field(default_factory=list)
    text: str = ""


def conversations_sla_alert(*, alerts: list[SlaAlert]) -> None:
    """Clocks crossed their warning share or target: audit each, notify the users named, and tell
    every desk showing each conversation (its badge changes without a reload). Set-based: one
    insert for the events, one for the notifications, one publish."""
    if not alerts:
        return
    ConversationEvent.objects.bulk_create(
        ConversationEvent(conversation=a.conversation, data=a.data,
                          kind=ConversationEvent.Kind.SLA_BREACHED if a.breached else ConversationEvent.Kind.SLA_WARNING)
        for a in alerts
    )
    tags = tags_of(list({a.conversation.id: a.conversation for a in alerts}.values()))
    events = []
    for a in alerts:
        c = a.conversation
        groups = conversation_groups(team_id=c.team_id, assignee_id=c.assignee_id)
        payload = conversation_data(c, tags=tags[c.id])
        events += [
            (groups, {"type": "conversation.updated", "conversation": payload}),
            (groups, {"type": "sla.breached" if a.breached else "sla.warning", "conversation_id": c.id, "sla": payload["sla"]}),
        ]
    publish_on_commit(events)
    notify_sla([
        (a.conversation, user_id, Notification.Kind.SLA_BREACHED if a.breached else Notification.Kind.SLA_WARNING, a.text)
        for a in alerts for user_id in dict.fromkeys(a.notify_user_ids)
    ])
