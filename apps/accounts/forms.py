"""The profile form: an agent's own language and time zone."""
import zoneinfo

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import User


def _time_zone_choices():
    return [("", _("The desk's default (%(zone)s)") % {"zone": settings.TIME_ZONE})] + [
        (name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones()) if "/" in name or name == "UTC"
    ]


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["language", "time_zone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("The browser's language")), *settings.LANGUAGES]
        self.fields["language"].help_text = _("The desk's pages, messages and notifications in this language.")
        self.fields["time_zone"] = forms.ChoiceField(
            label=_("Time zone"), required=False, choices=_time_zone_choices,
            help_text=_("Times on the desk are shown in this zone."),
        )
