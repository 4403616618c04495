from celery import shared_task

from .data_protection import conversations_redact_expired


@shared_task
def retention_redact() -> int:
    """Nightly (beat): resolved conversations older than the retention setting lose their content."""
    return conversations_redact_expired()
