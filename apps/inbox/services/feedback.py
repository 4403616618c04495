"""The customer's verdict on a conversation, recorded in its history.

Another app asks the customer (apps/csat: a survey after each resolution) and hands the answer
here: the inbox owns the conversation's history, so the rating becomes a conversation event
(kind "rated", what the reports and the audit read) and a line in the thread (an internal note of
no author, `details.rating`), published like every other write so the desks that show the
conversation see it at once. The inbox knows nothing of surveys.
"""
from django.db import transaction
from django.utils import timezone

from ..events import publish_conversations_and_messages
from ..models import Conversation, ConversationEvent, Message

SCALE = 5
COMMENT_MAX_CHARS = 2000


def conversation_rating_record(*, conversation: Conversation, score: int, comment: str = "", data: dict | None = None) -> Message:
    """Record a 1..5 rating (and the customer's comment) on `conversation`; returns the thread line."""
    if not 1 <= int(score) <= SCALE:
        raise ValueError(f"a rating is 1..{SCALE}, not {score!r}")
    comment = (comment or "").strip()[:COMMENT_MAX_CHARS]
    rating = {"score": int(score), "scale": SCALE, "comment": comment}
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        now = timezone.now()
        stars = "★" * rating["score"] + "☆" * (SCALE - rating["score"])
        message = Message.objects.create(
            conversation=locked, customer_id=locked.customer_id, channel_account_id=locked.channel_account_id,
            direction=Message.Direction.OUT, kind=Message.Kind.NOTE, author=None,
            # Language-neutral: the desk shows details.rating in the reader's language.
            text=f"{stars} {rating['score']}/{SCALE}" + (f" — {comment}" if comment else ""),
            is_public=False, sent_at=now, delivery_status=Message.Delivery.SENT,
            metadata={"rating": rating},
        )
        locked.message_count += 1
        locked.last_activity_at = max(now, locked.last_activity_at)
        locked.save(update_fields=["message_count", "last_activity_at"])
        ConversationEvent.objects.create(
            conversation=locked, kind=ConversationEvent.Kind.RATED, actor=None,
            data={**(data or {}), **rating, "message_id": message.id},
        )
        publish_conversations_and_messages(conversations=[locked], messages=[message])
    return message
