"""Celery tasks of the twitter channel. Beat runs twitter_poll_all every minute (config/settings.py:
"twitter-poll-all"); it fans out one twitter_account_poll per enabled account that is neither
paused by a rate limit nor backing off after failures."""
from datetime import timedelta

from celery import shared_task

from apps.connectors.tasks import polls_fan_out

from . import services

POLL_EXPIRES_SECONDS = 55
RATE_LIMIT_RETRIES = 3  # then beat takes over once the pause ends


@shared_task(acks_late=True, ignore_result=True)
def twitter_poll_all():
    return polls_fan_out(twitter_account_poll, services.twitter_accounts_due(), expires=POLL_EXPIRES_SECONDS)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=RATE_LIMIT_RETRIES)
def twitter_account_poll(self, account_id: int):
    """Thin shell over services.twitter_account_poll (cursor + dedupe: acks_late is safe).

    Rate limited: retried at X's reset time, never slept on in the worker. Eagerly (embedded
    mode) there is no later: the account stays paused and beat polls it after the reset.
    """
    result = services.twitter_account_poll(account_id=account_id)
    if result is None:
        return "skipped"
    if result.retry_at and not self.request.is_eager and self.request.retries < self.max_retries:
        # The beat's expiry would drop a retry scheduled past it: this one expires a minute after its time.
        raise self.retry(eta=result.retry_at, expires=result.retry_at + timedelta(seconds=60))
    return result.summary()
