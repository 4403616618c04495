"""Beat runs email_poll_all every minute (config/settings.py: "email-poll-all"); it fans out one
email_account_poll per enabled account that is not backing off after failures."""
from celery import shared_task

from . import services

# A poll still queued when the next round is due is dropped: the next one does the same work.
POLL_EXPIRES_SECONDS = 55


@shared_task(acks_late=True, ignore_result=True)
def email_poll_all():
    account_ids = services.email_accounts_due()
    for account_id in account_ids:
        email_account_poll.apply_async((account_id,), expires=POLL_EXPIRES_SECONDS)
    return len(account_ids)


@shared_task(acks_late=True, ignore_result=True)
def email_account_poll(account_id: int):
    """Thin shell over services.email_account_poll (idempotent: cursor + dedupe, so acks_late is safe)."""
    result = services.email_account_poll(account_id=account_id)
    return result.summary() if result else "skipped"
