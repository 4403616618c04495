"""Beat runs email_poll_all every minute (config/settings.py: "email-poll-all"); it fans out one
email_account_poll per enabled account that is not backing off after failures."""
from celery import shared_task

from apps.connectors.tasks import polls_fan_out

from . import services

POLL_EXPIRES_SECONDS = 55


@shared_task(acks_late=True, ignore_result=True)
def email_poll_all():
    return polls_fan_out(email_account_poll, services.email_accounts_due(), expires=POLL_EXPIRES_SECONDS)


@shared_task(acks_late=True, ignore_result=True)
def email_account_poll(account_id: int):
    """Thin shell over services.email_account_poll (idempotent: cursor + dedupe, so acks_late is safe)."""
    result = services.email_account_poll(account_id=account_id)
    return result.summary() if result else "skipped"
