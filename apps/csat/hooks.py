"""From the desk's committed live events to survey tasks (connected in apps.py)."""
from django.conf import settings

from apps.inbox.events import resolution_of

from .tasks import csat_survey_for_resolution


def resolved_conversation_ids(events: list[dict]) -> list[int]:
    """Conversations an update just resolved, once each."""
    return list(dict.fromkeys(c["id"] for c in map(resolution_of, events) if c))


def events_committed(events: list[dict]) -> None:
    """Quick, as a listener must be: queue one task per resolved conversation."""
    if not settings.CSAT_ENABLED:
        return
    for conversation_id in resolved_conversation_ids(events):
        csat_survey_for_resolution.delay(conversation_id)
