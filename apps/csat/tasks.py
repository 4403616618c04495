from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(acks_late=True, ignore_result=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def csat_survey_for_resolution(conversation_id: int) -> None:
    """Idempotent (one survey per resolution, a unique key): acks_late and retries are safe."""
    services.survey_for_resolution(conversation_id=conversation_id)
