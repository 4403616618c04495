from celery import shared_task

from . import services


@shared_task(acks_late=True, ignore_result=True)
def inbound_drain():
    """Thin shell: drains staged webhook payloads in batches (see services.inbound_drain)."""
    counts = services.inbound_drain()
    return counts.summary()
