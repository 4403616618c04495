from django import forms
from django.utils.translation import gettext_lazy as _

from .models import EventType


class WebhookForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120, help_text=_("e.g. CRM sync, Slack bridge"))
    url = forms.URLField(label=_("URL"), max_length=1000, assume_scheme="https")
    event_types = forms.MultipleChoiceField(label=_("Events"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
