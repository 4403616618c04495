"""Reads for the inbox: every query here is filtered by the visibility rule.

Querysets come back with what their serializers need joined or prefetched, so a
page costs the same number of queries at 3 rows as at 300.
"""
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from apps.core.errors import ApplicationError

from .models import Attachment, Conversation, Message
from .visibility import visible_conversations_q

LIST_RELATED = ("customer", "channel_account", "assignee", "team")


@dataclass(frozen=True)
class ConversationFilters:
    """Parsed ?status=&channel=&channel_account=&assignee=&team=&customer= of the list."""

    statuses: tuple[str, ...] = ()
    channel_kind: str | None = None
    channel_account_id: int | None = None
    assignee: int | str | None = None  # a user id, "me" or "none"
    team: int | str | None = None  # a team id or "none"
    customer_id: int | None = None

    @classmethod
    def from_query(cls, params) -> "ConversationFilters":
        statuses = tuple(s for s in (params.get("status") or "").split(",") if s)
        unknown = set(statuses) - set(Conversation.Status.values)
        if unknown:
            raise ApplicationError("Unknown status", extra={"status": sorted(unknown), "allowed": Conversation.Status.values})
        return cls(
            statuses=statuses,
            channel_kind=params.get("channel") or None,
            channel_account_id=_int_param(params, "channel_account"),
            assignee=_int_or_word(params, "assignee", ("me", "none")),
            team=_int_or_word(params, "team", ("none",)),
            customer_id=_int_param(params, "customer"),
        )


def _int_param(params, name: str) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApplicationError(f"{name} must be an integer id", extra={name: raw}) from None


def _int_or_word(params, name: str, words: tuple[str, ...]):
    raw = params.get(name)
    if raw in words:
        return raw
    return _int_param(params, name)


def conversations_visible(*, user) -> QuerySet[Conversation]:
    return Conversation.objects.filter(visible_conversations_q(user))


def conversation_list(*, user, filters: ConversationFilters = ConversationFilters()) -> QuerySet[Conversation]:
    """The inbox: visible conversations, newest activity first (the paginator orders by -last_activity_at, -id)."""
    qs = conversations_visible(user=user).select_related(*LIST_RELATED)
    if filters.statuses:
        qs = qs.filter(status__in=filters.statuses)
    if filters.channel_kind:
        qs = qs.filter(channel_account__kind=filters.channel_kind)
    if filters.channel_account_id is not None:
        qs = qs.filter(channel_account_id=filters.channel_account_id)
    if filters.assignee == "me":
        qs = qs.filter(assignee_id=user.id)
    elif filters.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee is not None:
        qs = qs.filter(assignee_id=filters.assignee)
    if filters.team == "none":
        qs = qs.filter(team__isnull=True)
    elif filters.team is not None:
        qs = qs.filter(team_id=filters.team)
    if filters.customer_id is not None:
        qs = qs.filter(customer_id=filters.customer_id)
    return qs.order_by("-last_activity_at", "-id")


def conversation_get(*, user, conversation_id: int) -> Conversation:
    """A visible conversation or 404: an agent cannot tell an invisible one from a missing one."""
    conversation = conversations_visible(user=user).select_related(*LIST_RELATED).filter(pk=conversation_id).first()
    if conversation is None:
        raise Http404("No such conversation")
    return conversation


def _with_message_details(qs: QuerySet[Message]) -> QuerySet[Message]:
    return qs.select_related("author", "channel_account").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )


def message_list(*, conversation: Conversation) -> QuerySet[Message]:
    """The thread, oldest first (the paginator orders by sent_at, id)."""
    return _with_message_details(Message.objects.filter(conversation=conversation)).order_by("sent_at", "id")


def message_get(*, user, message_id: int) -> Message:
    """A message of a visible conversation, or 404."""
    qs = Message.objects.filter(visible_conversations_q(user, prefix="conversation__"), pk=message_id)
    message = _with_message_details(qs.select_related("conversation")).first()
    if message is None:
        raise Http404("No such message")
    return message


def attachment_get(*, user, attachment_id: int) -> Attachment:
    qs = Attachment.objects.filter(visible_conversations_q(user, prefix="message__conversation__"), pk=attachment_id)
    attachment = qs.first()
    if attachment is None:
        raise Http404("No such attachment")
    return attachment


def customer_timeline(*, user, customer_id: int) -> QuerySet[Message]:
    """Every message of a customer on every channel the user may see (paginated newest first)."""
    qs = Message.objects.filter(customer_id=customer_id)
    if not user.sees_everything:
        qs = qs.filter(visible_conversations_q(user, prefix="conversation__"))
    return _with_message_details(qs).order_by("-sent_at", "-id")
