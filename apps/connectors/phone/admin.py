"""Admin: upload an Asterisk Master.csv into a phone channel account (mixed into ChannelAccountAdmin)."""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext, gettext_lazy as _

from apps.connectors.models import ChannelAccount, ChannelKind
from apps.core.errors import ApplicationError
from apps.inbox.inbound import ParseError

from .services import asterisk_file_import, asterisk_file_stage

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # a Master.csv of ~200k calls
# Up to this size the rows are imported in the request (a few seconds) and the counts shown;
# a larger file is staged row by row for the worker's drain, like webhook payloads.
SYNC_IMPORT_BYTES = 1024 * 1024
SHOWN_FAILURES = 20


class AsteriskUploadForm(forms.Form):
    file = forms.FileField(label="Master.csv", help_text=_("Asterisk cdr_csv file (Master.csv); rows already imported are skipped."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("%(size)d bytes is over the %(limit)d byte upload limit: use manage.py ingest asterisk FILE")
                % {"size": upload.size, "limit": MAX_UPLOAD_BYTES}
            )
        return upload


class PhoneAdminMixin:
    """Adds the "Import an Asterisk Master.csv" page and action to the channel account admin."""

    def get_urls(self):
        upload = self.admin_site.admin_view(self.asterisk_upload_view)
        name = "connectors_channelaccount_asterisk_upload"
        return [path("<int:account_id>/asterisk-upload/", upload, name=name)] + super().get_urls()

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            action = PhoneAdminMixin.asterisk_upload
            actions["asterisk_upload"] = (action, "asterisk_upload", action.short_description)
        return actions

    @admin.action(description=_("Import an Asterisk Master.csv (one phone account)"))
    def asterisk_upload(self, request, queryset):
        accounts = list(queryset[:2])
        if len(accounts) != 1 or accounts[0].kind != ChannelKind.PHONE:
            self.message_user(request, gettext("Select exactly one phone account to import a Master.csv into"), messages.ERROR)
            return None
        return redirect("admin:connectors_channelaccount_asterisk_upload", account_id=accounts[0].pk)

    def asterisk_upload_view(self, request, account_id: int):
        account = get_object_or_404(ChannelAccount, pk=account_id, kind=ChannelKind.PHONE)
        if not self.has_change_permission(request, account):
            raise PermissionDenied
        form = AsteriskUploadForm(request.POST or None, request.FILES or None)
        counts = error = staged = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > SYNC_IMPORT_BYTES:
                    staged = asterisk_file_stage(account=account, name=upload.name, raw=upload.read())
                else:
                    counts = asterisk_file_import(account=account, name=upload.name, raw=upload.read())
            except (ParseError, ApplicationError) as exc:
                error = str(exc)
            else:
                if staged is not None:
                    self.message_user(request, gettext("%(file)s: %(count)d rows staged; the worker imports them "
                                                       "(rows already imported are skipped, failures become dead letters)")
                                      % {"file": upload.name, "count": staged}, messages.SUCCESS)
                else:
                    level = messages.WARNING if counts.failed else messages.SUCCESS
                    self.message_user(request, f"{upload.name}: {counts.summary()}", level)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Import an Asterisk Master.csv into {account.name}",
            "account": account,
            "form": form,
            "counts": counts,
            "staged": staged,
            "failures": counts.failures[:SHOWN_FAILURES] if counts else [],
            "error": error,
            "change_url": reverse("admin:connectors_channelaccount_change", args=[account.pk]),
        }
        return TemplateResponse(request, "admin/connectors/channelaccount/asterisk_upload.html", context)
