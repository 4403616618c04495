from celery import shared_task

from . import services


@shared_task(acks_late=True)
def webhook_deliver(delivery_id: int) -> None:
    # Retries are scheduled in the delivery row (next_attempt_at), not by Celery: see services.
    services.webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task
def webhook_deliveries_retry_due() -> int:
    return services.webhook_deliveries_retry_due()


@shared_task
def webhook_deliveries_prune() -> int:
    return services.webhook_deliveries_prune()
