"""One satisfaction survey per resolution of a conversation (apps/csat/services.py says how)."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Survey(models.Model):
    class Status(models.TextChoices):
        SENT = "sent", _("Sent")  # handed to the channel's outbound path (the message says queued/sent/failed)
        SKIPPED = "skipped", _("Not sent")  # `skip_reason` says why
        ANSWERED = "answered", _("Answered")

    class Skip(models.TextChoices):
        DISABLED = "disabled", _("Surveys are turned off")
        PUBLIC = "public", _("A public conversation (a tweet or a comment): never asked in public")
        AUTOMATED = "automated", _("The last message came from a machine (auto-reply, bounce, list)")
        NO_REPLY = "no_reply", _("A no-reply or system address")
        RECENT = "recent", _("The customer was asked recently")
        CHANNEL = "channel", _("The channel cannot send it now")
        NO_ADDRESS = "no_address", _("No email address to send it to")

    # The resolution it asks about: the "status -> resolved" event. Unique: an event heard twice or a
    # task that retries finds the survey already made (one survey per resolution).
    resolution = models.OneToOneField("inbox.ConversationEvent", on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey("inbox.Conversation", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("crm.Customer", on_delete=models.CASCADE, related_name="+")
    # Who and where, as they were at the resolution: the reports group by these.
    channel_kind = models.CharField(max_length=16)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices)
    skip_reason = models.CharField(max_length=12, choices=Skip.choices, blank=True)
    skip_detail = models.CharField(max_length=300, blank=True)
    language = models.CharField(max_length=8)
    # The link's secret (random, 256 bits): unguessable, stored to be looked up; expires at expires_at.
    token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # The outbound message that carried the link, and the conversation it went in (the resolved one,
    # or for a phone call or web form a new email conversation: `carrier`).
    message = models.ForeignKey("inbox.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    carrier = models.ForeignKey("inbox.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    score = models.SmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5), name="csat_score_1_5"),
            models.CheckConstraint(condition=~Q(status="answered") | Q(score__isnull=False, answered_at__isnull=False),
                                   name="csat_answered_has_score"),
        ]
        indexes = [
            # at most one survey per customer every CSAT_MIN_DAYS: the newest one sent
            models.Index(fields=["customer", "-created_at"], condition=Q(status__in=["sent", "answered"]), name="csat_customer_sent"),
            models.Index(fields=["carrier"], condition=Q(carrier__isnull=False), name="csat_carrier"),
        ]

    def __str__(self):
        return f"survey #{self.pk} of conversation #{self.conversation_id} ({self.status})"
