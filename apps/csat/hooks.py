"""From the desk's committed live events to survey tasks (connected in apps.py)."""
from django.conf import settings

from .tasks import csat_survey_for_resolution


def resolved_conversation_ids(events: list[dict]) -> list[int]:
    """Conversations an update just resolved (a conversation.updated whose `changed` names status)."""
    ids = []
    for event in events:
        if event.get("type") != "conversation.updated" or "status" not in (event.get("changed") or []):
            continue
        conversation = event.get("conversation") or {}
        if conversation.get("status") == "resolved" and conversation.get("id") not in ids:
            ids.append(conversation["id"])
    return ids


def events_committed(events: list[dict]) -> None:
    """Quick, as a listener must be: queue one task per resolved conversation."""
    if not settings.CSAT_ENABLED:
        return
    for conversation_id in resolved_conversation_ids(events):
        csat_survey_for_resolution.delay(conversation_id)
