"""Priority rules: which priority a new conversation starts with."""
from .models import PriorityRule

DEFAULT_PRIORITY = 1  # Conversation.Priority.NORMAL


def priority_resolver():
    """Load the enabled rules once (one query per ingest batch); returns priority_of(channel_kind, is_public)."""
    rules = list(PriorityRule.objects.filter(enabled=True))

    def priority_of(*, channel_kind: str, is_public: bool) -> int:
        for rule in rules:
            if rule.matches(channel_kind=channel_kind, is_public=is_public):
                return rule.priority
        return DEFAULT_PRIORITY

    return priority_of
