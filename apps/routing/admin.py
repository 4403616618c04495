from django.contrib import admin

from .models import PriorityRule, TeamRouting


@admin.register(PriorityRule)
class PriorityRuleAdmin(admin.ModelAdmin):
    list_display = ["position", "channel_kind", "is_public", "priority", "enabled"]
    list_editable = ["channel_kind", "is_public", "priority", "enabled"]
    list_display_links = ["position"]


@admin.register(TeamRouting)
class TeamRoutingAdmin(admin.ModelAdmin):
    list_display = ["team", "mode", "max_open_per_agent", "last_assigned"]
    list_editable = ["mode", "max_open_per_agent"]
    raw_id_fields = ["last_assigned"]
