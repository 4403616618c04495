"""/desk/sla/: supervisors and admins manage calendars and policies (agents: 403)."""
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from apps.core.errors import ApplicationError
from apps.inbox.models import Conversation

from . import services
from .api import CalendarSerializer
from .forms import CalendarForm, PolicyForm, closures_text, hours_text
from .models import BusinessCalendar, SlaPolicy


def supervisors_only(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.sees_everything:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@supervisors_only
def sla_home(request):
    calendars = list(BusinessCalendar.objects.prefetch_related("periods", "closures"))
    for calendar in calendars:
        calendar.hours = hours_text(calendar)
        calendar.closures_list = closures_text(calendar)
        calendar.upcoming = CalendarSerializer().get_upcoming_holidays(calendar)[:6]
    now = timezone.now()
    # The clocks on the desk right now: three counts from the partial indexes on the conversation.
    counts = Conversation.objects.aggregate(
        breached=Count("id", filter=Q(sla_due_at__lte=now)),
        warning=Count("id", filter=Q(sla_warn_at__lte=now, sla_due_at__gt=now)),
        paused=Count("id", filter=Q(sla_paused_seconds__isnull=False)),
    )
    return render(request, "sla/sla.html", {
        "calendars": calendars, "policies": SlaPolicy.objects.select_related("calendar", "team"), "counts": counts,
        "saved": request.GET.get("saved"),
    })


@supervisors_only
@require_http_methods(["GET", "POST"])
def calendar_edit(request, calendar_id=None):
    calendar = get_object_or_404(BusinessCalendar, pk=calendar_id) if calendar_id else None
    initial = {"hours": hours_text(calendar), "closures": closures_text(calendar)} if calendar else {
        "hours": "Mon-Fri 09:00-14:00, 16:00-20:00", "time_zone": "Europe/Madrid"}
    form = CalendarForm(request.POST or None, instance=calendar, initial=initial)
    if request.method == "POST":
        if "delete" in request.POST and calendar:
            return _or_error(request, form, "sla/calendar_form.html", lambda: services.calendar_delete(calendar=calendar, actor=request.user), calendar)
        if form.is_valid():
            data = dict(form.cleaned_data)
            periods, closures = data.pop("hours"), data.pop("closures")
            return _or_error(request, form, "sla/calendar_form.html",
                             lambda: services.calendar_save(calendar=calendar, periods=periods, closures=closures, actor=request.user, **data), calendar)
    return render(request, "sla/calendar_form.html", {"form": form, "calendar": calendar})


@supervisors_only
@require_http_methods(["GET", "POST"])
def policy_edit(request, policy_id=None):
    policy = get_object_or_404(SlaPolicy, pk=policy_id) if policy_id else None
    form = PolicyForm(request.POST or None, instance=policy, initial=None if policy else {"warning_percent": 75, "position": 10})
    if request.method == "POST":
        if "delete" in request.POST and policy:
            return _or_error(request, form, "sla/policy_form.html", lambda: services.policy_delete(policy=policy, actor=request.user), policy)
        if form.is_valid():
            data = dict(form.cleaned_data)
            return _or_error(request, form, "sla/policy_form.html", lambda: services.policy_save(policy=policy, actor=request.user, **data), policy)
    return render(request, "sla/policy_form.html", {"form": form, "policy": policy})


def _or_error(request, form, template, action, obj):
    try:
        action()
    except ApplicationError as exc:
        form.add_error(None, exc.message if hasattr(exc, "message") else str(exc))
        return render(request, template, {"form": form, "calendar": obj, "policy": obj}, status=400)
    return redirect("/desk/sla/?saved=1")
