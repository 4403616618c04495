from django.db.models import QuerySet

from .models import WebhookDelivery, WebhookEndpoint


def endpoints_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("name", "id")


def deliveries_of(*, endpoint: WebhookEndpoint, status: str = "") -> QuerySet[WebhookDelivery]:
    qs = WebhookDelivery.objects.filter(endpoint=endpoint)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")
