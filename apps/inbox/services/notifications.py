"""Notifications: a @mention in a note, a conversation assigned to someone by someone else, an SLA
warning or breach.

Rows are made in the caller's transaction and published after commit to the user's own
group (live event "notification"); GET /api/notifications/ lists them, and marking them
read is per user.
"""
import re

from django.conf import settings
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.accounts.models import User

from ..events import publish_notifications
from ..models import Conversation, Message, Notification
from ..visibility import visible_conversations_q

MENTION = re.compile(r"(?<![\w@.])@([\w.+-]{1,150})")
MAX_MENTIONS = 20
TEXT_CHARS = 300


def mentioned_usernames(text: str) -> list[str]:
    names = []
    for name in MENTION.findall(text or ""):
        name = name.rstrip(".")  # "thanks @laura." ends a sentence
        if name and name not in names:
            names.append(name)
    return names[:MAX_MENTIONS]


def notify_mentions(*, message: Message, author) -> list[Notification]:
    """Notify each active user @named in a note who may see its conversation (not the author)."""
    names = mentioned_usernames(message.text)
    if not names:
        return []
    users = User.objects.filter(username__in=names, is_active=True).exclude(pk=getattr(author, "pk", None))
    conversation = message.conversation
    recipients = [u for u in users if _can_see(u, conversation)]
    who = _name(author)
    notifications = []
    for u in recipients:
        with _language_of(u.language):
            text = _("%(who)s mentioned you: %(text)s") % {"who": who, "text": message.text}
        notifications.append(Notification(user=u, kind=Notification.Kind.MENTION, conversation=conversation, message=message,
                                          actor=author, text=text[:TEXT_CHARS]))
    return _create(notifications)


def notify_assigned(*, conversation: Conversation, assignee_id: int, actor) -> list[Notification]:
    """Tell the new assignee, unless they took it themselves."""
    if actor is not None and actor.pk == assignee_id:
        return []
    subject = conversation.subject or conversation.last_message_preview
    language = User.objects.filter(pk=assignee_id).values_list("language", flat=True).first()
    with _language_of(language):
        if actor is not None:
            text = _("Conversation #%(id)s assigned to you by %(who)s") % {"id": conversation.id, "who": _name(actor)}
        else:
            text = _("Conversation #%(id)s assigned to you by routing") % {"id": conversation.id}
    text += f": {subject}" if subject else ""
    return _create(
        [Notification(user_id=assignee_id, kind=Notification.Kind.ASSIGNED, conversation=conversation, actor=actor,
                      text=text[:TEXT_CHARS])]
    )


def notify_sla(notes: list[tuple[Conversation, int, str, str]]) -> list[Notification]:
    """SLA warnings and breaches: (conversation, user id, kind, text) each; one insert for the lot."""
    return _create([Notification(user_id=u, kind=kind, conversation=c, text=text[:TEXT_CHARS]) for c, u, kind, text in notes])


def notify_about_conversation(*, conversation: Conversation, user_ids: list[int], kind: str, text) -> list[Notification]:
    """A notification about `conversation` to those of `user_ids` who may see it (a low satisfaction
    rating to the supervisors). `text()` is called once per recipient, in their language."""
    users = User.objects.filter(pk__in=user_ids, is_active=True)
    notifications = []
    for u in users:
        if not _can_see(u, conversation):
            continue
        with _language_of(u.language):
            body = str(text())
        notifications.append(Notification(user=u, kind=kind, conversation=conversation, text=body[:TEXT_CHARS]))
    return _create(notifications)


def notify_users(*, user_ids: list[int], kind: str, text: str, link: str = "") -> list[Notification]:
    """A notification about something other than a conversation (a channel account that started
    failing): the caller chooses who may see it."""
    return _create([Notification(user_id=uid, kind=kind, text=text[:TEXT_CHARS], link=link) for uid in user_ids])


def notifications_mark_read(*, user, ids: list[int]) -> int:
    """Mark the user's own notifications read (others' ids are ignored); returns how many changed."""
    return Notification.objects.filter(user=user, pk__in=ids, read_at__isnull=True).update(read_at=timezone.now())


def _create(notifications: list[Notification]) -> list[Notification]:
    if not notifications:
        return []
    Notification.objects.bulk_create(notifications)
    publish_notifications(notifications)
    return notifications


def _language_of(language: str | None):
    """The text is stored once, so it is written in the recipient's language (the desk's default if none)."""
    return translation.override(language or settings.LANGUAGE_CODE)


def _can_see(user, conversation: Conversation) -> bool:
    if user.sees_everything:
        return True
    return Conversation.objects.filter(Q(pk=conversation.pk) & visible_conversations_q(user)).exists()


def _name(user) -> str:
    return (user.get_full_name() or user.username) if user is not None else "someone"
