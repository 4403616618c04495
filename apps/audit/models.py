"""The audit log: who changed what in the desk's configuration and permissions, and every sign-in.

Conversation changes keep their own trail (inbox ConversationEvent, shown in the conversation);
an entry about a conversation links there. Rows are written by services.audit_record only, and
never updated: before/after are snapshots taken at the time, so a later rename does not rewrite
history (actor_label keeps the name the actor had then, and survives the actor's deletion).
"""
from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=150, blank=True, help_text="The actor's username at the time ('' for the system)")
    action = models.CharField(max_length=64, help_text="dotted: user.invited, user.role_changed, auth.login, webhook.created …")
    target_type = models.CharField(max_length=32, blank=True, help_text="user, team, customer, webhook, conversation …")
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # The log is read newest first (keyset on both columns), optionally per action, actor or target.
            models.Index(fields=["-created_at", "-id"], name="audit_time"),
            models.Index(fields=["action", "-created_at"], name="audit_action_time"),
            models.Index(fields=["actor", "-created_at"], name="audit_actor_time"),
            models.Index(fields=["target_type", "target_id", "-created_at"], name="audit_target_time"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label or 'system'} {self.action} {self.target_type}:{self.target_id}"
