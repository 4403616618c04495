"""The policies a desk starts with: the targets it had before policies existed (first and next
response 15 / 60 / 240 / 1440 minutes for urgent / high / normal / low, every minute counting),
as a 24/7 calendar and four policies placed after any a supervisor adds. Used by the data
migration (0002) and by the tests, whose transactional runs flush migration data."""
from .book import book_changed
from .models import BusinessCalendar, SlaPolicy

DEFAULTS = [(3, "Urgent", 15), (2, "High", 60), (1, "Normal", 240), (0, "Low", 1440)]
CALENDAR_NAME = "24/7"


def default_policies_ensure(calendar_model=None, policy_model=None) -> None:
    """Create them unless any policy exists (models given by a migration, else the current ones)."""
    migrating = calendar_model is not None
    if not migrating:
        calendar_model, policy_model = BusinessCalendar, SlaPolicy
    if policy_model.objects.exists():
        return
    calendar, _ = calendar_model.objects.get_or_create(name=CALENDAR_NAME, defaults={"always_open": True, "time_zone": "UTC"})
    policy_model.objects.bulk_create(
        policy_model(
            name=f"{label} (default)", position=1000 + position, calendar=calendar, priority=priority,
            first_response_minutes=minutes, next_response_minutes=minutes, warning_percent=75,
        )
        for position, (priority, label, minutes) in enumerate(DEFAULTS, start=1)
    )
    if not migrating:
        book_changed()  # every process drops policies it may hold from before (tests flush and re-create)
