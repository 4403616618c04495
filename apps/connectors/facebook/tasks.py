"""Celery tasks of the facebook channel (beat schedule in config/settings.py: "facebook-poll-all",
every 5 minutes). Webhooks are the main path; this poll is the fallback for missed events."""
from celery import shared_task

from apps.connectors.tasks import polls_fan_out

from . import services

POLL_EXPIRES_SECONDS = 290


@shared_task(acks_late=True, ignore_result=True)
def facebook_poll_all():
    return polls_fan_out(facebook_account_poll, services.facebook_accounts_due(), expires=POLL_EXPIRES_SECONDS)


@shared_task(acks_late=True, ignore_result=True)
def facebook_account_poll(account_id: int):
    """Thin shell over services.facebook_account_poll (cursor + dedupe make a repeat harmless)."""
    result = services.facebook_account_poll(account_id=account_id)
    return result.summary() if result else "skipped"
