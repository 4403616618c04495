"""/desk/routing/rules/: supervisors and admins order, add, change and delete the priority rules.

Server-rendered forms (no script): the same services as /api/priority-rules/ write, so the page
and the API accept and refuse the same things. Agents get 403 here, as on the API's writes.
"""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from apps.inbox.channels import kind_choices
from apps.core.errors import ApplicationError

from .models import PriorityRule
from .rules import keywords_parse
from .services import priority_rule_create, priority_rule_delete, priority_rule_update

PUBLIC_CHOICES = [("", gettext_lazy("Public or private")), ("true", gettext_lazy("Public only")), ("false", gettext_lazy("Private only"))]


class PriorityRuleForm(forms.ModelForm):
    channel_kind = forms.ChoiceField(label=gettext_lazy("Channel"), required=False,
                                     choices=lambda: [("", gettext_lazy("Any channel")), *kind_choices()])
    is_public = forms.TypedChoiceField(label=gettext_lazy("Public"), required=False, choices=PUBLIC_CHOICES,
                                       coerce=lambda v: {"true": True, "false": False}.get(v), empty_value=None)
    priority = forms.TypedChoiceField(
        label=gettext_lazy("Priority"), required=False, coerce=int, empty_value=None,
        choices=[("", gettext_lazy("No change (moderation only)")), (3, gettext_lazy("Urgent")), (2, gettext_lazy("High")),
                 (1, gettext_lazy("Normal")), (0, gettext_lazy("Low"))],
    )

    class Meta:
        model = PriorityRule
        fields = ["position", "name", "channel_kind", "is_public", "keywords", "customer_tag", "repeated_contact",
                  "priority", "moderation", "stop", "enabled"]
        widgets = {"keywords": forms.Textarea(attrs={"rows": 4, "placeholder": "vergüenza\nestafa\ncancel my account"})}

    def clean_keywords(self):
        try:
            return "\n".join(keywords_parse(self.cleaned_data.get("keywords") or ""))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


def _supervisor(request):
    if not request.user.sees_everything:
        raise PermissionDenied(_("Only supervisors and admins may edit the priority rules."))


def _save(request, form, rule=None) -> bool:
    if not form.is_valid():
        return False
    try:
        if rule is None:
            priority_rule_create(values=form.cleaned_data, actor=request.user)
        else:
            priority_rule_update(rule=rule, values=form.cleaned_data, actor=request.user)
    except ApplicationError as exc:
        form.add_error(None, str(exc))
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def rules_page(request):
    _supervisor(request)
    form = PriorityRuleForm(request.POST or None, initial={"position": _next_position(), "enabled": True, "priority": 2})
    if request.method == "POST":
        if request.POST.get("action") == "delete":
            rule = get_object_or_404(PriorityRule, pk=request.POST.get("rule"))
            priority_rule_delete(rule=rule, actor=request.user)
            messages.success(request, _("Rule deleted."))
            return redirect("routing-rules")
        if _save(request, form):
            messages.success(request, _("Rule added."))
            return redirect("routing-rules")
    return render(request, "routing/rules.html", {"rules": PriorityRule.objects.all(), "form": form, "editing": None})


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request, rule_id: int):
    _supervisor(request)
    rule = get_object_or_404(PriorityRule, pk=rule_id)
    form = PriorityRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and _save(request, form, rule):
        messages.success(request, _("Rule saved."))
        return redirect("routing-rules")
    return render(request, "routing/rules.html", {"rules": PriorityRule.objects.all(), "form": form, "editing": rule})


def _next_position() -> int:
    last = PriorityRule.objects.order_by("-position").values_list("position", flat=True).first()
    return (last or 0) + 10
