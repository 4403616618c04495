import logging

from celery import shared_task

from apps.inbox.channels import PermanentSendError, TemporarySendError
from apps.inbox.services.replies import retry_countdown

from . import services

logger = logging.getLogger(__name__)

CONFIRMATION_MAX_RETRIES = 5


@shared_task(bind=True, max_retries=CONFIRMATION_MAX_RETRIES, ignore_result=True)
def webform_confirmation_send(self, webform_id: int, submission: dict):
    """Thin shell over services.webform_confirmation_send: retries what can heal, with backoff.

    The submission is already safe in the desk: a confirmation that cannot be sent is logged,
    never an error for the visitor (run eagerly, in embedded mode, there is no later).
    """
    try:
        services.webform_confirmation_send(webform_id=webform_id, submission=submission)
    except TemporarySendError as exc:
        if self.request.is_eager or self.request.retries >= self.max_retries:
            logger.warning("web form confirmation to submission %s not sent: %s", submission.get("id"), exc)
            return
        raise self.retry(exc=exc, countdown=retry_countdown(retry_after=exc.retry_after, attempt=self.request.retries)) from exc
    except PermanentSendError as exc:
        logger.warning("web form confirmation to submission %s refused: %s", submission.get("id"), exc)
