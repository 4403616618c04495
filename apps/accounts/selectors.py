"""Reads about the desk's people."""
from django.db.models import Count, Prefetch, Q

from . import presence
from .models import Team, User

# Statuses in someone's hands (the same queue statuses the inbox lists by default).
OPEN_STATUSES = ("open", "pending")


def agents_with_presence() -> list[User]:
    """Active users, each with .name, .status (online/away/offline), .open_assigned and teams:
    two queries and one Redis round trip, whatever the head count."""
    users = list(
        User.objects.filter(is_active=True)
        .annotate(open_assigned=Count("assigned_conversations", filter=Q(assigned_conversations__status__in=OPEN_STATUSES)))
        .prefetch_related(Prefetch("teams", queryset=Team.objects.order_by("name")))
        .order_by("username")
    )
    status = presence.statuses(u.id for u in users)
    for u in users:
        u.name = u.get_full_name() or u.username
        u.status = status[u.id]
    return users
