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


# --- the supervisor's room (wallboard and reports) ---------------------------------------------

WALLBOARD_GROUP = "desk.wallboard"


def wallboard_team_group(team_id: int) -> str:
    return f"desk.wallboard.team.{team_id}"


def report_team_scope(user) -> list[int] | None:
    """Whose figures a user may read in the supervisor's room: None for every team (admins, and
    supervisors who belong to no team); a supervisor who belongs to teams is scoped to those
    teams; agents read no reports ([])."""
    if user.is_desk_admin:
        return None
    if not user.sees_everything:
        return []
    return user.team_ids or None


def wallboard_groups(user) -> list[str]:
    """The groups a wallboard socket joins: the whole board, or one slice per team of a scoped supervisor."""
    scope = report_team_scope(user)
    if scope is None:
        return [WALLBOARD_GROUP]
    return [wallboard_team_group(t) for t in scope]
