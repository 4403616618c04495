"""The admin's team forms, and the profile form: a user's own language and time zone."""
import zoneinfo

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import Role, Team, User


class InviteForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("Email"), help_text=_("The invitation goes here"))
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.AGENT)
    teams = forms.ModelMultipleChoiceField(label=_("Teams"), queryset=Team.objects.order_by("name"), required=False,
                                           widget=forms.CheckboxSelectMultiple)


class UserEditForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    teams = forms.ModelMultipleChoiceField(label=_("Teams"), queryset=Team.objects.order_by("name"), required=False,
                                           widget=forms.CheckboxSelectMultiple)


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=100)


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(label=_("Your email address"))


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
