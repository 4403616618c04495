from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext, gettext_lazy as _

from apps.core.validators import validate_json_without_nul

from .account_services import secrets_merge
from .drain import dead_letter_replay
from .models import ChannelAccount, DeadLetter, InboundPayload
from .phone.admin import PhoneAdminMixin
from .services import channel_account_rotate_token


class ChannelAccountForm(forms.ModelForm):
    """`secrets` is write-only: the form never shows stored values, only takes new ones."""

    new_secrets = forms.JSONField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text='Write-only. JSON object of secrets to set, e.g. {"outbound_secret": "…"}; a null value '
        "removes a key. Leave empty to keep the current secrets.",
    )

    class Meta:
        model = ChannelAccount
        # The console (/console/channels/) owns the polling interval and the secrets' who-and-when.
        exclude = ("secrets", "inbound_token_hash", "secrets_meta", "poll_interval", "last_poll_at", "failing_since")

    def clean_settings(self):
        validate_json_without_nul(self.cleaned_data.get("settings"))
        return self.cleaned_data.get("settings")

    def clean_cursor(self):
        validate_json_without_nul(self.cleaned_data.get("cursor"))
        return self.cleaned_data.get("cursor")

    def clean_new_secrets(self):
        value = self.cleaned_data.get("new_secrets")
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Give a JSON object"))
        return value

    def save(self, commit=True):
        account = super().save(commit=False)
        account.secrets = secrets_merge(account.secrets if account.pk else {}, self.cleaned_data["new_secrets"])
        if commit:
            account.save()
        return account


@admin.register(ChannelAccount)
class ChannelAccountAdmin(PhoneAdminMixin, admin.ModelAdmin):  # + Master.csv upload on phone accounts
    form = ChannelAccountForm
    list_display = ("name", "kind", "team", "enabled", "is_healthy", "health")
    list_filter = ("kind", "enabled", "team")
    search_fields = ("name",)
    readonly_fields = ("health", "secret_keys", "has_inbound_token", "created_at", "last_success_at", "last_error",
                       "last_error_at", "consecutive_failures", "paused_until", "failing_since", "poll_interval", "last_poll_at")
    actions = ["rotate_token"]

    @admin.display(description=_("Health"))
    def health(self, account):
        return account.health

    @admin.display(description=_("Secrets set"))
    def secret_keys(self, account):
        return ", ".join(sorted(account.secrets or {})) or "—"

    @admin.display(boolean=True)
    def has_inbound_token(self, account):
        return bool(account.inbound_token_hash)

    @admin.action(description=_("Rotate the inbound token (shown once)"))
    def rotate_token(self, request, queryset):
        for account in queryset:
            token = channel_account_rotate_token(account=account)
            self.message_user(request, gettext("%(account)s: new inbound token %(token)s — copy it now, it is not stored") % {"account": account, "token": token}, messages.WARNING)


@admin.register(InboundPayload)
class InboundPayloadAdmin(admin.ModelAdmin):
    list_display = ("id", "channel_account", "kind", "source", "received_at")
    list_filter = ("kind", "source")
    list_select_related = ("channel_account",)
    exclude = ("raw",)
    readonly_fields = ("channel_account", "kind", "source", "received_at")


# Dead letters are written by the connectors only (staging, the drain, imports): they are managed here.
@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "source", "channel_account", "short_error", "created_at", "replayed_at", "resolved")
    list_filter = ("resolved", "kind", "source")
    list_select_related = ("channel_account",)
    exclude = ("raw",)
    readonly_fields = ("channel_account", "kind", "source", "raw_text", "error", "created_at", "replayed_at", "resolved")
    actions = ["replay"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("error"))
    def short_error(self, dead_letter):
        return dead_letter.error[:120]

    @admin.action(description=_("Replay: parse and ingest again"))
    def replay(self, request, queryset):
        for dead_letter in queryset.filter(resolved=False):
            counts = dead_letter_replay(dead_letter=dead_letter)
            level = messages.ERROR if counts.failed else messages.SUCCESS
            detail = f" — {dead_letter.error}" if counts.failed else ""
            self.message_user(request, f"#{dead_letter.id}: {counts.summary()}{detail}", level)
