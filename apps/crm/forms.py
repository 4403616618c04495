from django import forms
from django.utils.translation import gettext_lazy as _


class RetentionForm(forms.Form):
    retention_months = forms.IntegerField(label=_("Redact resolved conversations after (months)"), min_value=0, max_value=600,
                                          required=False, help_text=_("Empty or 0: keep everything"))


class EraseForm(forms.Form):
    confirm = forms.CharField(label=_("Type the customer's number to confirm"), max_length=20)
