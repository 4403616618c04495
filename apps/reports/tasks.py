from celery import shared_task

from . import facts, services, topics


def _queue(request) -> str | None:
    """The queue this task came from: the trailing check follows it there (a worker that serves
    only some queues still gets its own follow-ups)."""
    return (getattr(request, "delivery_info", None) or {}).get("routing_key") or None


@shared_task(bind=True, ignore_result=True)
def wallboard_publish(self):
    """The leading publish of a wallboard change (services.py explains the throttle)."""
    services.wallboard_publish_and_schedule(queue=_queue(self.request))


@shared_task(bind=True, ignore_result=True)
def wallboard_flush(self):
    """The trailing check, one interval after a publish."""
    services.wallboard_flush(queue=_queue(self.request))


@shared_task(acks_late=True, ignore_result=True)
def topics_compute(params: dict):
    """Compute and cache the frequent-questions report for one set of filters (idempotent)."""
    topics.topics_compute(params=params)


@shared_task(ignore_result=True)
def facts_maintain():
    """Every minute (beat): working time of the new facts, and the last days' inbound count deltas merged."""
    facts.facts_working_time_fill()
    facts.rollups_compact(since=facts.recent(days=2))
