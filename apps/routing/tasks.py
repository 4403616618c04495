from celery import shared_task

from . import assignment


@shared_task(ignore_result=True)
def agents_offline_release():
    """Beat, every minute: thin shell over assignment.agents_offline_release."""
    return assignment.agents_offline_release()
