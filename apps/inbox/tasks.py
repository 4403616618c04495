from celery import shared_task

from apps.inbox.channels import TemporarySendError

from .services import conversations, moderation, replies

DELIVERY_MAX_RETRIES = 6  # ~16 minutes of backoff at the default base


@shared_task(bind=True, acks_late=True, max_retries=DELIVERY_MAX_RETRIES, ignore_result=True)
def message_deliver(self, message_id: int):
    """Thin shell over replies.message_deliver: retries what can heal, with backoff.

    Idempotent (a message no longer queued is left alone), so acks_late is safe. Run
    eagerly (embedded mode) there is no later: the first failure is final and shown,
    and the agent can retry it.
    """
    final = self.request.is_eager or self.request.retries >= self.max_retries
    try:
        replies.message_deliver(message_id=message_id, final_attempt=final)
    except TemporarySendError as exc:
        countdown = replies.retry_countdown(retry_after=exc.retry_after, attempt=self.request.retries)
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(acks_late=True, ignore_result=True)
def replies_requeue_stale():
    """Beat: replies whose delivery task was lost are queued again."""
    return replies.replies_requeue_stale()


@shared_task(ignore_result=True)
def conversations_wake_snoozed():
    """Beat, every minute: snoozed conversations whose time has come are open again."""
    return conversations.conversations_wake_snoozed()


@shared_task(bind=True, acks_late=True, max_retries=DELIVERY_MAX_RETRIES, ignore_result=True)
def message_moderate(self, message_id: int):
    """After ingest: hide a public comment a priority rule marked "hide". Idempotent (an already
    hidden comment records nothing new), so acks_late is safe; retries what can heal."""
    try:
        return moderation.message_moderate(message_id=message_id)
    except TemporarySendError as exc:
        if self.request.is_eager or self.request.retries >= self.max_retries:
            return "gave up"
        countdown = replies.retry_countdown(retry_after=exc.retry_after, attempt=self.request.retries)
        raise self.retry(exc=exc, countdown=countdown) from exc
