from celery import shared_task

from . import drain
from .account_services import channel_account_alert as alert


@shared_task(acks_late=True, ignore_result=True)
def inbound_drain():
    """Thin shell: drains staged webhook payloads in batches (see drain.inbound_drain)."""
    counts = drain.inbound_drain()
    return counts.summary()


def polls_fan_out(poll_task, account_ids: list[int], *, expires: float) -> int:
    """One poll task per due account. A poll still queued when the next round is due is
    dropped (`expires`): the next one does the same work."""
    for account_id in account_ids:
        poll_task.apply_async((account_id,), expires=expires)
    return len(account_ids)


@shared_task(acks_late=True, ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def channel_account_alert(account_id: int, error: str):
    """Thin shell: tells the admins an account started failing (queued once per outage by
    services.channel_account_record_failure)."""
    return alert(account_id=account_id, error=error)
