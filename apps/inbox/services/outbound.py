"""Agents write first: a conversation the desk starts with one of the customer's identities.

The channel says whether the account can reach the identity and which thread the conversation
is (apps/inbox/channels.py outbound_thread_key): an email address (threaded later by the
customer's answer to our mail), a Messenger PSID (the one conversation with that person), an
X user by direct message. Where that thread exists already, the message goes into it (reopened
if it was resolved) instead of a second conversation. The first message is an ordinary reply:
the composer's rules apply (Messenger's 24-hour window and tags), it is delivered after commit
(queued -> sent / failed, with Retry), and the customer's answer threads back into it.
"""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.errors import ApplicationError

from ..channels import outbound_thread_key
from ..events import publish_conversations_and_messages
from ..models import UNFINISHED, Conversation, ConversationEvent, Message
from .conversations import conversation_update
from .replies import reply_create

MAX_SUBJECT = 255


def conversation_start(*, author, customer, identity, account, subject: str = "", text: str, files=()) -> Message:
    """Start (or continue, where the channel has one thread per person) a conversation with
    `identity` on `account`, assigned to `author`; returns the queued first message."""
    if identity.customer_id != customer.id:
        raise ApplicationError(_("This address or account belongs to another customer"))
    if not account.enabled:
        raise ApplicationError(_("%(account)s is disabled") % {"account": account.name})
    thread_key = outbound_thread_key(account=account, identity=identity)
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update().filter(channel_account=account, thread_key=thread_key).first()
            if thread_key else None
        )
        if conversation is not None and conversation.customer_id != customer.id:
            raise ApplicationError(_("That thread belongs to another customer (merge the customers first)"))
        created = conversation is None
        if created:
            conversation = _new(author=author, customer=customer, account=account, subject=subject, thread_key=thread_key)
        elif conversation.status not in UNFINISHED:
            conversation = conversation_update(conversation=conversation, actor=author, status=Conversation.Status.OPEN)
        return reply_create(conversation=conversation, author=author, text=text, is_public=False, files=files, first=created)


def _new(*, author, customer, account, subject: str, thread_key: str) -> Conversation:
    now = timezone.now()
    conversation = Conversation.objects.create(
        customer=customer,
        channel_account=account,
        team_id=account.team_id,
        assignee=author,
        subject=(subject or "").strip()[:MAX_SUBJECT],
        thread_key=thread_key or None,
        is_public=False,
        last_activity_at=now,
    )
    ConversationEvent.objects.create(
        conversation=conversation, kind=ConversationEvent.Kind.CREATED, actor=author, data={"outbound": True},
    )
    publish_conversations_and_messages(conversations=[conversation], messages=[], created_ids={conversation.id})
    return conversation
