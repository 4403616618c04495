"""Agent changes to a conversation: status (snooze included), priority, assignee, team, tags —
each one audited — plus claim, bulk changes, read markers and the snooze wake-up."""
import re
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Team, User
from apps.core.errors import ApplicationError
from apps.core.realtime import publish_on_commit

from ..clocks import clocks_sync
from ..events import conversation_data
from ..models import IN_QUEUE, UNFINISHED, Conversation, ConversationEvent, ConversationRead, Tag
from ..visibility import conversation_groups, visible_conversations_q
from ..queue import capacity_left, queue_changed
from .notifications import notify_assigned

# changeable field -> the event kind recorded when it changes
_AUDITED = {
    "status": ConversationEvent.Kind.STATUS,
    "priority": ConversationEvent.Kind.PRIORITY,
    "assignee": ConversationEvent.Kind.ASSIGNED,
    "team": ConversationEvent.Kind.TEAM,
    "snoozed_until": ConversationEvent.Kind.SNOOZED,
}
CHANGEABLE = (*_AUDITED, "tags")
# What an SLA clock depends on (apps/inbox/clocks.py).
_CLOCKED = {"status", "priority", "team_id"}
MAX_TAGS = 20
TAG_NAME = re.compile(r"^[\w][\w .:/&+-]{0,49}$")
BULK_MAX = 200


def conversation_update(*, conversation: Conversation, actor: User | None, audit: dict | None = None, **changes) -> Conversation:
    """Apply changes under a row lock; one ConversationEvent per field that really changed.

    `changes` may hold status, priority, assignee (User or None), team (Team or None),
    snoozed_until (a future datetime: snoozes; status "snoozed" needs one) and tags (names:
    replaces the set). `audit` adds keys to each event's data (who decided when there is no
    actor: {"by": "routing", "reason": ...}). Returns the locked, updated row (fresh from the
    database). A change that queues work or frees an agent's capacity hands the queue out
    (apps/inbox/queue.py) in the same transaction.
    """
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise ApplicationError(_("These fields cannot be changed"), extra={"fields": sorted(unknown)})
    _validate(changes)
    tags = _tag_names(changes.pop("tags")) if "tags" in changes else None
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        _snooze_rules(locked, changes)
        before_groups = conversation_groups(team_id=locked.team_id, assignee_id=locked.assignee_id)
        before_status, before_assignee = locked.status, locked.assignee_id
        events, fields = [], []
        for name, value in changes.items():
            attname = name + "_id" if name in ("assignee", "team") else name
            old = getattr(locked, attname)
            new = value.pk if isinstance(value, (User, Team)) else value
            if old == new:
                continue
            setattr(locked, attname, new)
            fields.append(attname)
            if name == "snoozed_until" and new is None:
                continue  # leaving snooze is recorded by the status change
            events.append(ConversationEvent(conversation=locked, kind=_AUDITED[name], actor=actor, data={**_audit(old, new), **(audit or {})}))
        tag_names = None
        if tags is not None:
            tag_names, tag_event = _set_tags(locked, tags, actor)
            if tag_event:
                events.append(tag_event)
        if not events:
            return locked
        if locked.status not in UNFINISHED and "status" in fields:
            # Nobody is waiting on a resolved (or spam) conversation; a new inbound message restarts the clock.
            locked.waiting_since = None
            fields.append("waiting_since")
        if fields:
            locked.save(update_fields=fields)
        ConversationEvent.objects.bulk_create(events)
        if _CLOCKED.intersection(fields) or tag_names is not None:
            # Paused (pending, snoozed), resumed, stopped (resolved, spam), a new resolution clock on
            # reopening, the policy re-picked (priority, team, tags): before the event is built.
            clocks_sync([locked])
        # The old audience hears about it too, so a conversation moved to another team
        # leaves their lists at once.
        groups = sorted(set(before_groups) | set(conversation_groups(team_id=locked.team_id, assignee_id=locked.assignee_id)))
        # `changed` names what this update changed (outgoing webhooks tell "assigned" and "resolved" by it).
        changed = sorted(set(fields) | ({"tags"} if any(e.kind == ConversationEvent.Kind.TAGS for e in events) else set()))
        publish_on_commit([(groups, {"type": "conversation.updated", "conversation": conversation_data(locked, tags=tag_names),
                                     "changed": changed})])
        if "assignee_id" in fields and locked.assignee_id is not None:
            notify_assigned(conversation=locked, assignee_id=locked.assignee_id, actor=actor)  # heard after the update
        _queue_after(locked, fields, before_status, before_assignee)
    return locked


def _queue_after(locked: Conversation, fields: list[str], before_status: str, before_assignee: int | None) -> None:
    """Work entered a queue (unassigned and open after a status, assignee or team change) or an agent
    has room again (a conversation they held is no longer open or pending for them): hand out."""
    team_ids = set()
    if locked.assignee_id is None and locked.status == Conversation.Status.OPEN and {"status", "assignee_id", "team_id"} & set(fields):
        team_ids.add(locked.team_id)
    held_before = before_assignee is not None and before_status in IN_QUEUE
    still_held = locked.assignee_id == before_assignee and locked.status in IN_QUEUE
    if held_before and not still_held:
        team_ids.update(Team.objects.filter(members__id=before_assignee).values_list("id", flat=True))
    queue_changed(team_ids=team_ids)


def conversation_claim(*, conversation: Conversation, user: User, force: bool = False) -> Conversation:
    """Assign to `user`. Someone else holding it, or the user at capacity (routing's: their own, their
    team's, the desk's default): 409, unless force (a supervisor taking over, a colleague gone home,
    an agent taking one more on purpose)."""
    with transaction.atomic():
        locked = Conversation.objects.select_for_update(of=("self",)).select_related("assignee").get(pk=conversation.pk)
        if locked.assignee_id not in (None, user.id) and not force:
            holder = locked.assignee
            since = holder_since(conversation=locked)
            raise ApplicationError(
                _("%(name)s holds this conversation") % {"name": holder.get_full_name() or holder.username},
                extra={"assignee": {"id": holder.id, "username": holder.username, "name": holder.get_full_name() or holder.username},
                       "since": since.isoformat() if since else None},
                status_code=409,
            )
        # Capacity is an agent's: supervisors and admins stepping in are not held to it.
        if locked.assignee_id != user.id and locked.status in IN_QUEUE and not force and not user.sees_everything:
            left = capacity_left(user_id=user.id, team_id=locked.team_id)
            if left is not None and left <= 0:
                raise ApplicationError(
                    "You are at capacity: finish a conversation first, or take it anyway (force)",
                    extra={"capacity_left": left}, status_code=409,
                )
        return conversation_update(conversation=locked, actor=user, assignee=user)


def holder_since(*, conversation: Conversation) -> datetime | None:
    """When the current assignee got the conversation: the audit trail's latest assignment to them
    (one indexed query); None when nobody holds it or no event says (a row older than the audit)."""
    if conversation.assignee_id is None:
        return None
    return (
        ConversationEvent.objects.filter(conversation_id=conversation.pk, kind=ConversationEvent.Kind.ASSIGNED,
                                         data__to=conversation.assignee_id)
        .order_by("-created_at").values_list("created_at", flat=True).first()
    )


def conversation_callback_schedule(*, conversation: Conversation, user: User, at: datetime) -> Conversation:
    """"Call back at …": the conversation sleeps until then (the snooze) and comes back open at that
    time (conversations_wake_snoozed), held by `user`. One update: one lock, one event per field,
    each marked {"callback": true} in the audit trail."""
    return conversation_update(conversation=conversation, actor=user, audit={"callback": True},
                               assignee=user, status=Conversation.Status.SNOOZED, snoozed_until=at)


def conversations_bulk_update(*, user: User, ids: list[int], changes: dict) -> int:
    """Apply the same changes to many conversations, those the user may see only (others are
    skipped silently, as a 404 would not tell them apart). One transaction, rows locked in id
    order. Returns how many were visible (changed or already so)."""
    if len(ids) > BULK_MAX:
        raise ApplicationError(_("At most %(count)d conversations at once") % {"count": BULK_MAX}, extra={"max": BULK_MAX})
    if not changes:
        raise ApplicationError(_("Nothing to change"))
    visible = list(
        Conversation.objects.filter(visible_conversations_q(user), pk__in=set(ids)).order_by("id").values_list("id", flat=True)
    )
    with transaction.atomic():
        for conversation_id in visible:
            conversation_update(conversation=Conversation(pk=conversation_id), actor=user, **changes)
    return len(visible)


def conversations_release(*, user: User, actor: User | None) -> dict:
    """Unassign every conversation `user` holds that still needs work (UNFINISHED: resolved and
    spam stay theirs on record): each goes back to its team's queue (or the unteamed one), with an "assigned -> nobody" event by `actor` in its trail and a
    live update to whoever sees it. Rows locked in id order. Connected as the accounts app's
    deactivation hook (apps/inbox/apps.py); returns {"released_conversations": [ids]}."""
    ids = list(
        Conversation.objects.filter(assignee=user, status__in=UNFINISHED).order_by("id").values_list("id", flat=True)
    )
    with transaction.atomic():
        for conversation_id in ids:
            conversation_update(conversation=Conversation(pk=conversation_id), actor=actor, assignee=None)
    return {"released_conversations": ids}


def conversation_mark_read(*, conversation: Conversation, user: User) -> None:
    """Unread (for this user) until the next inbound message. One upsert."""
    ConversationRead.objects.bulk_create(
        [ConversationRead(user=user, conversation_id=conversation.pk, last_read_at=timezone.now())],
        update_conflicts=True, unique_fields=["user", "conversation"], update_fields=["last_read_at"],
    )


WAKE_BATCH = 500


def conversations_wake_snoozed(*, now: datetime | None = None) -> int:
    """Snoozed conversations whose time has come go back to the queue (open). Beat, every minute."""
    now = now or timezone.now()
    due = list(
        Conversation.objects.filter(status=Conversation.Status.SNOOZED, snoozed_until__lte=now)
        .order_by("snoozed_until").values_list("id", flat=True)[:WAKE_BATCH]
    )
    woken = 0
    for conversation_id in due:
        # Each on its own transaction; re-checked under the lock, as an agent may have just changed it.
        with transaction.atomic():
            still = (
                Conversation.objects.select_for_update()
                .filter(pk=conversation_id, status=Conversation.Status.SNOOZED, snoozed_until__lte=now)
                .first()
            )
            if still is not None:
                conversation_update(conversation=still, actor=None, status=Conversation.Status.OPEN)
                woken += 1
    return woken


# --- rules -------------------------------------------------------------------------------


def _validate(changes: dict) -> None:
    if "status" in changes and changes["status"] not in Conversation.Status.values:
        raise ApplicationError(_("Unknown status"), extra={"allowed": Conversation.Status.values})
    if "priority" in changes and changes["priority"] not in Conversation.Priority.values:
        raise ApplicationError(_("Unknown priority"), extra={"allowed": Conversation.Priority.values})
    assignee = changes.get("assignee")
    if assignee is not None and not assignee.is_active:
        raise ApplicationError(_("Cannot assign to an inactive user"), extra={"assignee": assignee.pk})
    until = changes.get("snoozed_until")
    if until is not None and until <= timezone.now():
        raise ApplicationError(_("The snooze time must be in the future"), extra={"snoozed_until": until.isoformat()})
    if until is not None and changes.get("status", Conversation.Status.SNOOZED) != Conversation.Status.SNOOZED:
        raise ApplicationError(_("A snooze time goes with the status snoozed"), extra={"status": changes["status"]})


def _snooze_rules(locked: Conversation, changes: dict) -> None:
    """A date alone snoozes; snoozing needs a date; leaving snooze forgets the date."""
    status = changes.get("status")
    if changes.get("snoozed_until") is not None:
        changes["status"] = Conversation.Status.SNOOZED
    elif status == Conversation.Status.SNOOZED and "snoozed_until" not in changes:
        if locked.status != Conversation.Status.SNOOZED:
            raise ApplicationError(_("Snoozing needs a time when it comes back"))
    elif status is not None and status != Conversation.Status.SNOOZED:
        changes["snoozed_until"] = None
    elif "snoozed_until" in changes and changes["snoozed_until"] is None and locked.status == Conversation.Status.SNOOZED:
        changes["status"] = Conversation.Status.OPEN  # un-snooze
    # status first, then the date: the audit reads in that order
    if "snoozed_until" in changes:
        changes["snoozed_until"] = changes.pop("snoozed_until")


def _audit(old, new) -> dict:
    if isinstance(old, datetime) or isinstance(new, datetime):
        return {"from": old.isoformat() if old else None, "to": new.isoformat() if new else None}
    return {"from": old, "to": new}


def _tag_names(raw) -> list[str]:
    if not isinstance(raw, (list, tuple)):
        raise ApplicationError(_("Tags must be a list of names"))
    names = []
    for name in raw:
        name = str(name).strip().lower()
        if not TAG_NAME.match(name):
            raise ApplicationError(_("Bad tag name (letters, digits, spaces and .:/&+- ; at most 50)"), extra={"tag": name})
        if name not in names:
            names.append(name)
    if len(names) > MAX_TAGS:
        raise ApplicationError(_("At most %(count)d tags") % {"count": MAX_TAGS}, extra={"max": MAX_TAGS})
    return sorted(names)


def _set_tags(locked: Conversation, names: list[str], actor) -> tuple[list[str], ConversationEvent | None]:
    old = sorted(locked.tags.values_list("name", flat=True))
    if old == names:
        return old, None
    Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
    locked.tags.set(Tag.objects.filter(name__in=names))
    return names, ConversationEvent(conversation=locked, kind=ConversationEvent.Kind.TAGS, actor=actor,
                                    data={"from": old, "to": names})


def conversations_assign_routed(conversations: list[Conversation], picks: dict[int, int]) -> list[Conversation]:
    """Apply routing's picks ({conversation id: agent id}, apps/inbox/queue.py) to conversations
    an ingest batch just created or reopened, in its transaction: each is born assigned (one UPDATE
    per agent) with an ASSIGNED event "by routing". Returns the assigned ones; the caller publishes
    them and then calls assignments_notify."""
    assigned = [c for c in conversations if c.pk in picks]
    by_agent: dict[int, list[int]] = {}
    for conversation in assigned:
        conversation.assignee_id = picks[conversation.pk]
        by_agent.setdefault(conversation.assignee_id, []).append(conversation.pk)
    for agent_id, ids in by_agent.items():
        Conversation.objects.filter(pk__in=ids).update(assignee_id=agent_id)
    ConversationEvent.objects.bulk_create(
        ConversationEvent(conversation_id=c.id, kind=ConversationEvent.Kind.ASSIGNED,
                          data={"from": None, "to": c.assignee_id, "by": "routing"})
        for c in assigned
    )
    return assigned


def assignments_notify(assigned: list[Conversation]) -> None:
    """Tell each assignee (after the conversation events were queued, so they arrive first)."""
    for conversation in assigned:
        notify_assigned(conversation=conversation, assignee_id=conversation.assignee_id, actor=None)
