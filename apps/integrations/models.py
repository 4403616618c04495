"""Outgoing webhooks: other systems (a CRM, BI, a Slack bridge) subscribe a URL to the desk's events."""
from django.conf import settings
from django.db import models

from apps.core.fields import EncryptedJSONField


class EventType(models.TextChoices):
    CONVERSATION_CREATED = "conversation.created", "Conversation created"
    CONVERSATION_ASSIGNED = "conversation.assigned", "Conversation assigned"
    CONVERSATION_RESOLVED = "conversation.resolved", "Conversation resolved"
    MESSAGE_CREATED = "message.created", "Message created"
    SLA_BREACHED = "sla.breached", "SLA breached"


WEBHOOK_STATES = [("active", "Active"), ("paused", "Paused"), ("disabled", "Disabled")]


class WebhookEndpoint(models.Model):
    name = models.CharField(max_length=120)
    url = models.URLField(max_length=1000)
    event_types = models.JSONField(default=list, help_text="EventType values this endpoint receives")
    # {"signing_secret": "..."}: encrypted at rest, shown once (creation, rotation), never rendered back.
    secrets = EncryptedJSONField(blank=True, default=dict)
    enabled = models.BooleanField(default=True, help_text="Switched by an admin")
    # Set when the endpoint failed WEBHOOK_PAUSE_AFTER_FAILURES times in a row: nothing is sent until resumed.
    paused_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    @property
    def signing_secret(self) -> str:
        return (self.secrets or {}).get("signing_secret", "")

    @property
    def state(self) -> str:
        return "paused" if self.paused_at else "active" if self.enabled else "disabled"


class WebhookDelivery(models.Model):
    """One event for one endpoint: its attempts, the last response, and when it is tried next."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # queued, first attempt not made yet
        RETRYING = "retrying", "Retrying"  # failed, tried again at next_attempt_at
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"  # out of attempts, or its endpoint was paused

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=40)
    event_id = models.CharField(max_length=40, help_text="The same for a re-send: receivers dedupe on it")
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True, help_text="The first characters of the receiver's answer")
    error = models.TextField(blank=True)
    resent_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["endpoint", "-created_at", "-id"], name="delivery_endpoint_time"),
            # The retry sweep: only the few deliveries waiting for another attempt.
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="retrying"), name="delivery_retry_due"),
        ]
