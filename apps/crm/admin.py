from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _, ngettext

from .models import Customer, CustomerMerge, Identity, MergeSuggestion
from .services import customer_merge


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0
    fields = ("kind", "value", "handle", "display_name", "created_at")
    readonly_fields = ("created_at",)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("id", "display_name", "tags", "created_at", "merged_into")
    search_fields = ("display_name", "=identities__value")
    raw_id_fields = ("merged_into",)
    readonly_fields = ("created_at", "updated_at", "merged_into")
    inlines = [IdentityInline]
    show_full_result_count = False  # COUNT(*) over 100k customers on every page is wasted


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ("kind", "value", "handle", "display_name", "customer")
    list_filter = ("kind",)
    search_fields = ("=value", "handle")
    raw_id_fields = ("customer",)
    list_select_related = ("customer",)
    show_full_result_count = False


@admin.register(MergeSuggestion)
class MergeSuggestionAdmin(admin.ModelAdmin):
    list_display = ("id", "customer", "other", "reason", "status", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("customer", "other")
    list_select_related = ("customer", "other")
    actions = ["merge_other_into_customer"]

    @admin.action(description=_("Merge: fold “other” into “customer”"))
    def merge_other_into_customer(self, request, queryset):
        done = 0
        for suggestion in queryset.filter(status=MergeSuggestion.Status.OPEN).select_related("customer", "other"):
            if suggestion.customer.merged_into_id or suggestion.other.merged_into_id:
                continue  # an earlier merge in this batch already resolved it
            customer_merge(target=suggestion.customer, source=suggestion.other, actor=request.user)
            done += 1
        self.message_user(request, ngettext("%(count)d merge done", "%(count)d merges done", done) % {"count": done}, messages.SUCCESS)


@admin.register(CustomerMerge)
class CustomerMergeAdmin(admin.ModelAdmin):
    list_display = ("id", "target", "source_id", "source_display_name", "merged_by", "merged_at", "moved")
    raw_id_fields = ("target", "source", "merged_by")
    readonly_fields = ("target", "source", "source_display_name", "merged_by", "merged_at", "moved")

    def has_add_permission(self, request):
        return False  # merges are made by the merge service, which records them
