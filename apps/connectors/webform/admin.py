from django.contrib import admin
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.translation import gettext_lazy as _

from .models import MAX_FIELDS, WebForm, WebFormField


class WebFormFieldInline(admin.TabularInline):
    model = WebFormField
    extra = 0
    max_num = MAX_FIELDS
    fields = ("order", "name", "label", "type", "required", "choices", "help_text", "max_length")


@admin.register(WebForm)
class WebFormAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "channel_account", "enabled", "public_link")
    list_filter = ("enabled", "channel_account")
    list_select_related = ("channel_account",)
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    inlines = [WebFormFieldInline]
    fieldsets = (
        (None, {"fields": ("title", "slug", "intro", "channel_account", "enabled")}),
        (_("After sending"), {"fields": ("submit_label", "success_message", "confirmation_email_account")}),
        (_("Embedding on your site"), {"fields": ("allowed_origins",)}),
    )

    @admin.display(description=_("Public page"))
    def public_link(self, webform):
        url = reverse("webform:form", args=[webform.slug])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            context.update(embed_snippet(request, obj))
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


def embed_snippet(request, webform: WebForm) -> dict:
    """The public URL and the HTML an admin pastes on the company's site (shown on the change page)."""
    page = request.build_absolute_uri(reverse("webform:form", args=[webform.slug]))
    script = request.build_absolute_uri(static("webform/embed.js"))
    snippet = (
        f'<iframe src="{escape(page)}?embed=1" title="{escape(webform.title)}" data-centralita-form loading="lazy"\n'
        f'        style="width:100%;border:0" height="700"></iframe>\n'
        f'<script src="{escape(script)}" async></script>'
    )
    return {"webform_public_url": page, "webform_embed_snippet": snippet, "webform_embed_origins": webform.origins}
