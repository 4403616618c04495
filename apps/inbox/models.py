import re

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Conversation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PENDING = "pending", _("Pending")
        RESOLVED = "resolved", _("Resolved")
        SNOOZED = "snoozed", _("Snoozed")
        # Abusive or spam: out of every queue, no SLA clock, kept for the record.
        SPAM = "spam", _("Spam / abusive")

    class Priority(models.IntegerChoices):
        LOW = 0, _("Low")
        NORMAL = 1, _("Normal")
        HIGH = 2, _("High")
        URGENT = 3, _("Urgent")

    customer = models.ForeignKey("crm.Customer", on_delete=models.PROTECT, related_name="conversations")
    channel_account = models.ForeignKey("connectors.ChannelAccount", on_delete=models.PROTECT, related_name="conversations")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    priority = models.SmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    subject = models.CharField(max_length=255, blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_conversations")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations")
    # Channel thread identity: email root Message-ID, tweet conversation_id, Messenger PSID, caller…
    thread_key = models.CharField(max_length=255, null=True, blank=True)
    is_public = models.BooleanField(default=False)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    first_inbound_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(db_index=True)
    # Set while the customer waits for us (oldest unanswered inbound); cleared by a reply.
    waiting_since = models.DateTimeField(null=True, blank=True)
    last_message_preview = models.CharField(max_length=200, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    # The SLA clock that matters now, kept by apps/sla through services/clocks.py (see clocks.py):
    # lists, filters and counts read these columns only. The policy is an id, not a foreign key:
    # the inbox does not depend on the sla app.
    sla_policy_id = models.IntegerField(null=True, blank=True)
    sla_clock = models.CharField(max_length=16, blank=True)  # first_response / next_response / resolution / ""
    sla_due_at = models.DateTimeField(null=True, blank=True)
    sla_warn_at = models.DateTimeField(null=True, blank=True)
    # Working seconds left while the clock is paused (pending, snoozed); None while it runs.
    sla_paused_seconds = models.IntegerField(null=True, blank=True)
    # Set when its content was redacted (a customer's erasure, the retention sweep): rows and counts stay.
    redacted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel_account", "thread_key"], name="conversation_unique_thread"),
        ]
        indexes = [
            models.Index(fields=["status", "-last_activity_at", "-id"], name="conv_status_activity"),
            models.Index(fields=["assignee", "status", "-last_activity_at"], name="conv_assignee_activity"),
            models.Index(fields=["team", "status", "-last_activity_at"], name="conv_team_activity"),
            models.Index(fields=["customer", "-last_activity_at"], name="conv_customer_activity"),
            models.Index(fields=["channel_account", "customer", "status"], name="conv_account_customer"),
            # The inbox's page order (keyset on both columns) and the snooze wake-up sweep.
            models.Index(fields=["-last_activity_at", "-id"], name="conv_activity_id"),
            models.Index(fields=["snoozed_until"], condition=models.Q(status="snoozed"), name="conv_snoozed_until"),
            # The customers waiting longest, per priority.
            models.Index(fields=["priority", "waiting_since"], condition=models.Q(waiting_since__isnull=False), name="conv_waiting"),
            # SLA filters and counts: breached = a range on due, due soon = a range on warn.
            models.Index(fields=["sla_due_at"], condition=models.Q(sla_due_at__isnull=False), name="conv_sla_due"),
            models.Index(fields=["sla_warn_at"], condition=models.Q(sla_warn_at__isnull=False), name="conv_sla_warn"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.subject or self.last_message_preview[:40]}"

    def waiting_stop(self, at) -> None:
        """A reply (sent by an agent, or an answer seen on the channel) stops the customer's
        waiting clock; the first one stamps the first response."""
        self.first_response_at = self.first_response_at or at
        self.waiting_since = None


# "Still in a queue": what the inbox lists by default, what counts against an agent's capacity
# and load, and what waits for an answer. The one definition (filter with status__in=IN_QUEUE).
IN_QUEUE = (Conversation.Status.OPEN, Conversation.Status.PENDING)
# Work not finished: in a queue or snoozed. What an agent holds (and hands back on leaving), what an SLA
# clock runs for; resolved and spam conversations are finished. The one definition.
UNFINISHED = (*IN_QUEUE, Conversation.Status.SNOOZED)

PREVIEW_CHARS = 200


def message_preview(text: str, file_names=()) -> str:
    """The conversation list's preview of its last message: whitespace collapsed, 200 characters;
    a message without text shows its files' names."""
    return re.sub(r"\s+", " ", text).strip()[:PREVIEW_CHARS] or ", ".join(file_names)[:PREVIEW_CHARS]


class Message(models.Model):
    class Direction(models.TextChoices):
        IN = "in", _("Inbound")
        OUT = "out", _("Outbound")

    class Kind(models.TextChoices):
        MESSAGE = "message", _("Message")
        NOTE = "note", _("Internal note")
        CALL = "call", _("Call")
        FORM = "form", _("Form submission")

    class Delivery(models.TextChoices):
        RECEIVED = "received", _("Received")
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    # Denormalized so the customer timeline is one index range, and dedupe is one unique index.
    customer = models.ForeignKey("crm.Customer", on_delete=models.PROTECT, related_name="messages")
    channel_account = models.ForeignKey("connectors.ChannelAccount", on_delete=models.PROTECT, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.MESSAGE)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sender_identity = models.ForeignKey("crm.Identity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    subject = models.CharField(max_length=255, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True, help_text=_("Sanitized HTML"))
    is_public = models.BooleanField(default=False)
    sent_at = models.DateTimeField(help_text=_("When the customer or agent sent it (provider time)"))
    created_at = models.DateTimeField(auto_now_add=True)
    delivery_status = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.RECEIVED)
    delivery_error = models.TextField(blank=True)
    external_id = models.CharField(max_length=255, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            # At-least-once delivery is safe: the same provider message lands once.
            models.UniqueConstraint(fields=["channel_account", "external_id"], name="message_unique_external_id"),
        ]
        indexes = [
            models.Index(fields=["customer", "-sent_at", "-id"], name="msg_customer_timeline"),
            models.Index(fields=["conversation", "sent_at", "id"], name="msg_conversation_thread"),
            models.Index(fields=["channel_account", "-sent_at"], name="msg_account_sent"),
            # Small partial index: the beat sweep for replies whose delivery task was lost.
            models.Index(fields=["created_at"], condition=models.Q(delivery_status="queued"), name="msg_queued"),
            # A receipt or bounce names a reply whose id its echo took by the id kept in metadata
            # (services/statuses.py): without it each one read the account's every message.
            models.Index(models.F("channel_account"), models.F("metadata__provider_id"),
                         condition=models.Q(metadata__has_key="provider_id"), name="msg_provider_id"),
        ]

    def __str__(self):
        return f"{self.direction} {self.kind} #{self.pk}"

    # metadata keys the desk shows (the rest is connector bookkeeping): a call's facts, a form's
    # fields, the social network's ids and moderation state, the mails a mail forwards, what the
    # customer did to a message later (reactions, edits with the earlier texts, unsending), S/MIME
    # and calendar invitations, and the moderation a rule applied.
    # Shapes: see docs/channels/README.md, "Message details".
    # "rating": the customer's satisfaction rating shown in the thread ({"score", "comment", "scale"}).
    DETAIL_KEYS = ("call", "form", "twitter", "facebook", "forwarded", "reactions", "edits", "unsent", "smime", "invite", "moderation",
                   "rating")

    @property
    def details(self) -> dict:
        return {key: self.metadata[key] for key in self.DETAIL_KEYS if key in (self.metadata or {})}


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/", blank=True)
    url = models.URLField(max_length=1000, blank=True, help_text=_("Provider-hosted media not copied locally"))
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=127, blank=True)
    size = models.PositiveIntegerField(default=0)
    content_id = models.CharField(max_length=255, blank=True, help_text=_("Inline image reference (cid:)"))


class ConversationEvent(models.Model):
    """The audit trail: every change to a conversation, who made it and when."""

    class Kind(models.TextChoices):
        CREATED = "created"
        REOPENED = "reopened"
        STATUS = "status"
        ASSIGNED = "assigned"
        TEAM = "team"
        PRIORITY = "priority"
        CUSTOMER_MERGED = "customer_merged"
        REPLIED = "replied"
        NOTE = "note"
        TAGS = "tags"
        SNOOZED = "snoozed"
        SLA_POLICY = "sla_policy"
        SLA_WARNING = "sla_warning"
        SLA_BREACHED = "sla_breached"
        # The customer's satisfaction rating (apps/csat asks for it after a resolution): data = score, comment.
        RATED = "rated"
        # A public comment flagged by the rules, hidden or shown again (by the desk or on the network):
        # data = action (comment_flagged / comment_hidden / comment_shown), message_id, by / on, reasons.
        MODERATED = "moderated"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="event_conversation"),
            models.Index(fields=["kind", "created_at"], name="event_kind_time"),
        ]


# --- the agents' side of the inbox: tags, read markers, notifications, canned responses ------


class Tag(models.Model):
    """A label on conversations ("billing", "vip"). Set by name: unknown names are created."""

    name = models.CharField(max_length=50, unique=True)
    conversations = models.ManyToManyField(Conversation, related_name="tags", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ConversationRead(models.Model):
    """Where a user last read a conversation: it is unread for them while a newer inbound
    message (conversation.last_inbound_at) exists. One row per (user, conversation) read."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="reads")
    last_read_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "conversation"], name="conversation_read_unique")]


class Notification(models.Model):
    """Something a user should look at: a @mention in a note, a conversation given to them."""

    class Kind(models.TextChoices):
        MENTION = "mention", _("Mentioned in a note")
        ASSIGNED = "assigned", _("Assigned to you")
        SLA_WARNING = "sla_warning", _("SLA due soon")
        SLA_BREACHED = "sla_breached", _("SLA breached")
        CHANNEL_FAILING = "channel_failing", _("A channel account started failing")
        LOW_RATING = "low_rating", _("A customer gave a low satisfaction rating")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # None for notifications about something else than a conversation (a failing channel: see `link`).
    conversation = models.ForeignKey(Conversation, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    link = models.CharField(max_length=200, blank=True, help_text="Where the notification leads when it is not a conversation")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    text = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_time"),
            models.Index(fields=["user", "-created_at"], condition=models.Q(read_at__isnull=True), name="notification_unread"),
        ]


class CannedResponse(models.Model):
    """A saved reply with variables: {{customer.name}}, {{customer.first_name}}, {{agent.name}},
    {{conversation.id}}. Supervisors and admins manage them; every agent uses them."""

    shortcut = models.SlugField(max_length=50, unique=True, help_text=_("Typed after / in the composer"))
    title = models.CharField(max_length=120)
    text = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["shortcut"]

    def __str__(self):
        return f"/{self.shortcut} {self.title}"
