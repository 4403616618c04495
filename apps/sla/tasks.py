from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def sla_sweep():
    """Beat, every SLA_SWEEP_SECONDS: fire due warnings and breaches (each once)."""
    return services.clocks_sweep()
