import hashlib

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.fields import EncryptedJSONField


def _no_health_rule(account):
    raise RuntimeError("the health rule is connected when the connectors app is ready (apps.py)")


# The health rule (health.py) reads each channel's declaration in the registry, and the registry
# builds on this module: the rule is connected at start (apps.py), as the inbox's contracts are.
_health_rule = _no_health_rule


def health_rule_connect(rule) -> None:
    global _health_rule
    _health_rule = rule


class ChannelKind(models.TextChoices):
    PUSH = "api", _("API")  # the push channel: integrations POST messages in, replies POSTed back (stored as "api")
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
    # Opt-in, as in Zendesk and Chatwoot (CSAT per inbox): a channel's customers are asked to rate
    # the help after each resolution only when an admin turned it on (apps/csat; docs/csat.md).
    csat_enabled = models.BooleanField(
        default=False, help_text=_("Ask the customer to rate the help (1-5) after each resolution"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # health
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    # A provider's rate limit (HTTP 429 reset time): no poll or send before this moment.
    paused_until = models.DateTimeField(null=True, blank=True)
    # Set by the first failure after a success (cleared by the next success): admins are told once per outage.
    failing_since = models.DateTimeField(null=True, blank=True)
    # Polling: the beat's fan-out ticks every few seconds and polls an account once this many seconds have passed.
    poll_interval = models.PositiveIntegerField(default=60, help_text="Seconds between polls (polled channels)")
    last_poll_at = models.DateTimeField(null=True, blank=True)
    # Who set each secret and when ({key: {"at": iso, "by": username}}): the console shows it, never the value.
    secrets_meta = models.JSONField(default=dict, blank=True)

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
        return _health_rule(self).line

    @property
    def health_state(self) -> str:
        return _health_rule(self).state

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


class ChannelAuditEvent(models.Model):
    """Who changed what on a channel account from the console or the API (secrets named, never shown)."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        SECRETS = "secrets", "Secrets replaced"
        ENABLED = "enabled", "Enabled"
        DISABLED = "disabled", "Disabled"
        REMOVED = "removed", "Removed"
        ROTATED = "rotated", "Token rotated"
        TESTED = "tested", "Connection tested"
        REPLAYED = "replayed", "Dead letter replayed"
        DISCARDED = "discarded", "Dead letter discarded"

    # No FK: the trail outlives a removed account.
    account_id = models.PositiveIntegerField(db_index=True)
    account_name = models.CharField(max_length=120)
    actor = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices)
    detail = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account_id", "-created_at"], name="channel_audit_account_time")]


class ChannelAlertPreference(models.Model):
    """An admin's choice to get an email (besides the live notification) when an account starts failing."""

    user = models.OneToOneField("accounts.User", on_delete=models.CASCADE, related_name="channel_alerts")
    email = models.BooleanField(default=False)


class ChannelAccountError(models.Model):
    """The last failures and rate-limit pauses of an account, with their time (the health page
    lists them; services keep the newest KEEP per account)."""

    KEEP = 20

    class Kind(models.TextChoices):
        FAILURE = "failure", "Failure"
        RATE_LIMIT = "rate_limit", "Rate-limit pause"

    channel_account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="errors")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.FAILURE)
    error = models.TextField()
    paused_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["channel_account", "-created_at", "-id"], name="channel_error_account_time")]


class DeadLetter(models.Model):
    """A payload that could not be ingested, kept with its error so nothing is lost (beside staging:
    the connectors write and replay them). The table keeps its first name (it began in the inbox)."""

    channel_account = models.ForeignKey(ChannelAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=16, help_text=_("Payload kind: api, email, twitter, …"))
    source = models.CharField(max_length=32, help_text=_("webhook, poll, import, api"))
    raw = models.BinaryField()
    error = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    replayed_at = models.DateTimeField(null=True, blank=True)
    resolved = models.BooleanField(default=False, db_index=True)

    @property
    def raw_text(self) -> str:
        return bytes(self.raw).decode("utf-8", errors="replace")

    class Meta:
        db_table = "inbox_deadletter"
