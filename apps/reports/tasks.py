from celery import shared_task

from . import services, topics


@shared_task(ignore_result=True)
def wallboard_publish():
    """The leading publish of a wallboard change (services.py explains the throttle)."""
    services.wallboard_publish_and_schedule()


@shared_task(ignore_result=True)
def wallboard_flush():
    """The trailing check, one interval after a publish."""
    services.wallboard_flush()


@shared_task(acks_late=True, ignore_result=True)
def topics_compute(params: dict):
    """Compute and cache the frequent-questions report for one set of filters (idempotent)."""
    topics.topics_compute(params=params)
