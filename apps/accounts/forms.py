from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Role, Team


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
