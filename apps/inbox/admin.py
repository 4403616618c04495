from django.contrib import admin

from .models import Attachment, CannedResponse, Conversation, ConversationEvent, Message
from .services.conversations import conversation_update

EDITABLE_CONVERSATION_FIELDS = ("status", "priority", "assignee", "team")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by services only: the admin shows them, never edits them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = ConversationEvent
    extra = 0
    fields = ("created_at", "kind", "actor", "data")
    readonly_fields = fields
    ordering = ("-created_at",)
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("id", "subject", "customer", "channel_account", "status", "priority", "assignee", "team", "last_activity_at")
    list_filter = ("status", "priority", "channel_account__kind", "team")
    list_select_related = ("customer", "channel_account", "assignee", "team")
    search_fields = ("=id", "subject")
    raw_id_fields = ("customer", "assignee")
    show_full_result_count = False
    inlines = [EventInline]

    def get_readonly_fields(self, request, obj=None):
        # Only the audited fields change, and only through conversation_update.
        return [f.name for f in Conversation._meta.fields if f.name not in EDITABLE_CONVERSATION_FIELDS]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE_CONVERSATION_FIELDS}
        if changes:
            conversation_update(conversation=obj, actor=request.user, **changes)


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    fields = ("filename", "content_type", "size", "file", "url")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "conversation_id", "customer", "channel_account", "direction", "kind", "delivery_status", "sent_at")
    list_filter = ("direction", "kind", "delivery_status", "channel_account__kind")
    list_select_related = ("customer", "channel_account")
    search_fields = ("=id", "=external_id")
    raw_id_fields = ("conversation", "customer", "author", "sender_identity")
    show_full_result_count = False
    inlines = [AttachmentInline]


@admin.register(ConversationEvent)
class ConversationEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "conversation_id", "kind", "actor", "data", "created_at")
    list_filter = ("kind",)
    list_select_related = ("actor",)
    raw_id_fields = ("conversation",)
    show_full_result_count = False


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    """Supervisors and admins manage canned responses here or over the API."""

    list_display = ("shortcut", "title", "updated_at")
    search_fields = ("shortcut", "title")
    readonly_fields = ("created_by", "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
