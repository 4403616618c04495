"""Who may see a conversation: one rule, as a queryset filter and as websocket groups.

Supervisors and admins see everything. An agent sees the conversations of their
teams, those with no team, and those assigned to them.
"""
from django.db.models import Q

ALL_GROUP = "desk.all"
UNTEAMED_GROUP = "desk.unteamed"


def team_group(team_id: int) -> str:
    return f"desk.team.{team_id}"


def user_group(user_id: int) -> str:
    return f"desk.user.{user_id}"


def visible_conversations_q(user, prefix: str = "") -> Q:
    if user.sees_everything:
        return Q()
    return (
        Q(**{f"{prefix}team_id__in": team_ids_subquery(user)})
        | Q(**{f"{prefix}team__isnull": True})
        | Q(**{f"{prefix}assignee_id": user.id})
    )


def team_ids_subquery(user):
    """The user's teams inside the query that needs them (a semi-join), not one more query before it."""
    return user.teams.through.objects.filter(user_id=user.id).values("team_id")


def conversation_groups(*, team_id: int | None, assignee_id: int | None) -> list[str]:
    groups = [ALL_GROUP, team_group(team_id) if team_id else UNTEAMED_GROUP]
    if assignee_id:
        groups.append(user_group(assignee_id))
    return groups


def groups_for_user(user) -> list[str]:
    if user.sees_everything:
        # Their own group too: mentions, assignments and the end of their session reach them there.
        return [ALL_GROUP, user_group(user.id)]
    teams = [team_group(t) for t in user.team_ids]
    return [UNTEAMED_GROUP, user_group(user.id), *teams]
