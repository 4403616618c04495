from django.contrib import admin

from .models import PriorityRule


@admin.register(PriorityRule)
class PriorityRuleAdmin(admin.ModelAdmin):
    list_display = ["position", "channel_kind", "is_public", "priority", "enabled"]
    list_editable = ["channel_kind", "is_public", "priority", "enabled"]
    list_display_links = ["position"]
