from django.contrib import admin

from .models import PriorityRule, TeamRouting


@admin.register(PriorityRule)
class PriorityRuleAdmin(admin.ModelAdmin):
    list_display = ["position", "name", "channel_kind", "is_public", "priority", "moderation", "enabled"]
    list_editable = ["enabled"]
    list_display_links = ["position", "name"]


@admin.register(TeamRouting)
class TeamRoutingAdmin(admin.ModelAdmin):
    list_display = ["team", "mode", "max_open_per_agent", "offline_grace_minutes", "last_assigned"]
    list_editable = ["mode", "max_open_per_agent", "offline_grace_minutes"]
    raw_id_fields = ["last_assigned"]
