from contextlib import contextmanager

from config.celery import app as celery_app


@contextmanager
def tasks_routed_to(queue: str, *task_names: str):
    """Route these tasks to `queue` in this process. Celery caches its router on first use, so it
    is rebuilt: changing conf.task_routes alone is ignored once any task was sent."""
    amqp, before = celery_app.amqp, celery_app.conf.task_routes
    celery_app.conf.task_routes = {name: {"queue": queue} for name in task_names}
    amqp._rtable = None  # the route table and the router are both built lazily, then cached
    amqp.__dict__.pop("router", None)
    try:
        yield
    finally:
        celery_app.conf.task_routes = before
        amqp._rtable = None
        amqp.__dict__.pop("router", None)
