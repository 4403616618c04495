"""Writes the sla app asks of the inbox: the clock summary on conversation rows, the audit of a
policy re-pick, and a warning or breach (event, notifications, live update). The sla app decides;
the conversation rows and their audit trail are written here only (see ../clocks.py)."""
from dataclasses import dataclass, field

from django.db import connection

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
    if rows:
        _update(rows)
    if events:
        ConversationEvent.objects.bulk_create(events)


def _update(rows: list[Conversation]) -> None:
    if connection.vendor != "postgresql" or len(rows) == 1:
        for c in rows:
            Conversation.objects.filter(pk=c.pk).update(**{f: getattr(c, f) for f in SUMMARY_FIELDS})
        return
    fields = [Conversation._meta.get_field(name) for name in SUMMARY_FIELDS]
    assignments = ", ".join(f"{f.column} = v.{f.column}::{f.db_type(connection)}" for f in fields)
    row = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    params = [value for c in rows for value in (c.pk, *(f.get_db_prep_save(getattr(c, f.attname), connection) for f in fields))]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Conversation._meta.db_table} AS c SET {assignments} "
            f"FROM (VALUES {', '.join([row] * len(rows))}) AS v(id, {', '.join(f.column for f in fields)}) WHERE c.id = v.id",
            params,
        )


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
