import hashlib

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.fields import EncryptedJSONField


class ChannelKind(models.TextChoices):
    API = "api", _("API")
    EMAIL = "email", _("Email")
    TWITTER = "twitter", _("Twitter / X")
    FACEBOOK = "facebook", _("Facebook")
    PHONE = "phone", _("Phone")
    WEBFORM = "webform", _("Web form")


class ChannelAccount(models.Model):
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    name = models.CharField(max_length=120)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="channel_accounts",
        help_text=_("Team that receives this account's conversations; none = every agent"),
    )
    settings = models.JSONField(default=dict, blank=True)
    secrets = EncryptedJSONField(blank=True, default="", help_text=_("Encrypted at rest; never shown back"))
    cursor = models.JSONField(default=dict, blank=True, help_text=_("Polling position (since_id, UID, …)"))
    inbound_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # health
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    # A provider's rate limit (HTTP 429 reset time): no poll or send before this moment.
    paused_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.name}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def health(self) -> str:
        """One line an admin reads at a glance: what is wrong, since when, and what happens next."""
        from django.utils import timezone

        if not self.enabled:
            return "Disabled"
        if self.paused_until and self.paused_until > timezone.now():
            reason = f": {self.last_error[:160]}" if self.last_error else ""
            return f"Paused until {timezone.localtime(self.paused_until):%Y-%m-%d %H:%M} (provider rate limit){reason}"
        if not self.is_healthy:
            times = f" ({self.consecutive_failures} failures in a row)" if self.consecutive_failures > 1 else ""
            return f"Failing{times}: {self.last_error[:200]}"
        if self.last_success_at:
            return f"OK, last success {timezone.localtime(self.last_success_at):%Y-%m-%d %H:%M}"
        return "OK"

    @property
    def is_healthy(self) -> bool:
        return not self.last_error_at or bool(self.last_success_at and self.last_success_at > self.last_error_at)


class InboundPayload(models.Model):
    """A raw provider payload waiting for the worker: webhooks stage, the worker drains in batches."""

    channel_account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, help_text=_("Payload kind: which parser reads it"))
    source = models.CharField(max_length=16, default="webhook")
    raw = models.BinaryField()
    received_at = models.DateTimeField(auto_now_add=True)
