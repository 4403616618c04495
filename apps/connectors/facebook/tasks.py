"""Celery tasks of the facebook channel (beat schedule in config/settings.py: "facebook-poll-all",
every 5 minutes). Webhooks are the main path; this poll is the fallback for missed events."""
from celery import shared_task

from . import services

# A poll still queued when the next round is due is dropped: the next one does the same work.
POLL_EXPIRES_SECONDS = 290


@shared_task(acks_late=True, ignore_result=True)
def facebook_poll_all():
    account_ids = services.facebook_accounts_due()
    for account_id in account_ids:
        facebook_account_poll.apply_async((account_id,), expires=POLL_EXPIRES_SECONDS)
    return len(account_ids)


@shared_task(acks_late=True, ignore_result=True)
def facebook_account_poll(account_id: int):
    """Thin shell over services.facebook_account_poll (cursor + dedupe make a repeat harmless)."""
    result = services.facebook_account_poll(account_id=account_id)
    return result.summary() if result else "skipped"
