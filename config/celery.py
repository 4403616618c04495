import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("centralita")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _channels(sender, **kwargs):
    """Every app's tasks.py, and each channel's tasks.py and beat entries as its channel.py declares
    them (apps/connectors/registry.py). Finalizing happens once Django is set up, so the registry
    (which imports models) can load here. Imported in every process, not only a worker's: services
    queue their own app's tasks by name (their tasks.py imports them), and a name runs eagerly
    (embedded mode) only when its task is imported."""
    from apps.connectors.registry import beat_schedule, task_packages

    sender.autodiscover_tasks(force=True)
    sender.autodiscover_tasks(task_packages, force=True)
    sender.conf.beat_schedule = {**sender.conf.beat_schedule, **beat_schedule()}


@worker_process_init.connect
def _warm(**kwargs):
    """Each worker process loads what its first task would (apps/core/warmup.py), before taking one."""
    from apps.core.warmup import process_warm

    process_warm()
