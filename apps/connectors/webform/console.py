"""The admins' console for web forms (/console/forms/): define a form, its fields and where it may
be embedded, without the Django admin. Thin views over webform_save."""
from django import forms
from django.contrib import messages
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.accounts.permissions import desk_admin_required
from apps.core.net import client_ip

from .admin import embed_snippet
from .models import DEFAULT_SUBMIT_LABEL, DEFAULT_SUCCESS_MESSAGE, MAX_FIELDS, WebForm, WebFormField
from .services import webform_save


class WebFormDefinitionForm(forms.ModelForm):
    class Meta:
        model = WebForm
        fields = ("title", "slug", "intro", "channel_account", "enabled", "submit_label", "success_message",
                  "confirmation_email_account", "allowed_origins")
        labels = {"title": gettext_lazy("Title"), "slug": gettext_lazy("Address"), "intro": gettext_lazy("Introduction"),
                  "channel_account": gettext_lazy("Channel account"), "enabled": gettext_lazy("Enabled"),
                  "submit_label": gettext_lazy("Button text"), "success_message": gettext_lazy("Message after sending"),
                  "confirmation_email_account": gettext_lazy("Confirmation email from"),
                  "allowed_origins": gettext_lazy("Sites that may embed it")}
        widgets = {"intro": forms.Textarea(attrs={"rows": 3}), "success_message": forms.Textarea(attrs={"rows": 2}),
                   "allowed_origins": forms.Textarea(attrs={"rows": 2, "placeholder": "https://www.example.com"})}


FieldsFormSet = forms.inlineformset_factory(
    WebForm, WebFormField, fields=("order", "name", "label", "type", "required", "choices", "help_text", "max_length"),
    labels={"order": gettext_lazy("Order"), "name": gettext_lazy("Name"), "label": gettext_lazy("Label"),
            "type": gettext_lazy("Type"), "required": gettext_lazy("Required"), "choices": gettext_lazy("Options"),
            "help_text": gettext_lazy("Help"), "max_length": gettext_lazy("Max. characters")},
    widgets={"choices": forms.Textarea(attrs={"rows": 2}), "order": forms.NumberInput(attrs={"class": "narrow"}),
             "max_length": forms.NumberInput(attrs={"class": "narrow"})},
    extra=2, can_delete=True, max_num=MAX_FIELDS, validate_max=True,
)


@desk_admin_required
def webforms(request):
    rows = WebForm.objects.select_related("channel_account").annotate(field_count=Count("fields")).order_by("title")
    return render(request, "console/webforms.html", {"section": "webforms", "webforms": rows})


@desk_admin_required
def webform_edit(request, webform_id: int | None = None):
    webform = None
    if webform_id is not None:
        webform = WebForm.objects.filter(pk=webform_id).first()
        if webform is None:
            raise Http404(_("No such web form"))
    # A new form's visitor-facing texts start in the admin's language (the model's defaults are English).
    initial = {} if webform else {"submit_label": _(DEFAULT_SUBMIT_LABEL), "success_message": _(DEFAULT_SUCCESS_MESSAGE)}
    form = WebFormDefinitionForm(request.POST or None, instance=webform, initial=initial)
    fields_formset = FieldsFormSet(request.POST or None, instance=webform or WebForm(), prefix="fields")
    if request.method == "POST" and form.is_valid() and fields_formset.is_valid():
        saved = webform_save(form=form, fields_formset=fields_formset, actor=request.user, ip=client_ip(request))
        messages.success(request, _("Web form “%(title)s” saved.") % {"title": saved.title})
        return redirect("console-webform", webform_id=saved.pk)
    context = {"section": "webforms", "webform": webform, "form": form, "fields_formset": fields_formset}
    if webform is not None:
        context |= embed_snippet(request, webform)
    return render(request, "console/webform_form.html", context, status=400 if request.method == "POST" else 200)
