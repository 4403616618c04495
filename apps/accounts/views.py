"""The admin's pages for the team (admins only: agents and supervisors get 403), and the public
set-password / forgot-password pages the mailed links lead to, and every user's own profile
(language and time zone). Thin: forms validate, services write."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.encoding import force_str
from django.utils import translation
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.errors import ApplicationError
from apps.core.net import client_ip

from . import services
from .admin_api import base_url
from .forms import InviteForm, PasswordResetRequestForm, ProfileForm, TeamForm, UserEditForm
from .models import Team, User
from .permissions import desk_admin_required


def _people():
    return User.objects.prefetch_related(Prefetch("teams", queryset=Team.objects.order_by("name"))).order_by("-is_active", "username")


@desk_admin_required
@require_http_methods(["GET", "POST"])
def team(request):
    """Everyone with role, teams and status; the invitation form beside it."""
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        v = form.cleaned_data
        try:
            user = services.user_invite(
                actor=request.user, username=v["username"], email=v["email"], role=v["role"], teams=list(v["teams"]),
                first_name=v["first_name"], last_name=v["last_name"], base_url=base_url(request), ip=client_ip(request),
            )
        except ApplicationError as exc:
            form.add_error(exc.extra.get("field"), exc.message)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": user.email})
            return redirect("team")
    return render(request, "console/team.html", {"section": "team", "people": _people(), "form": form},
                  status=400 if form.errors else 200)


@desk_admin_required
@require_http_methods(["GET", "POST"])
def team_user(request, user_id: int):
    person = get_object_or_404(User.objects.prefetch_related("teams"), pk=user_id)
    initial = {"email": person.email, "first_name": person.first_name, "last_name": person.last_name,
               "role": person.role, "teams": list(person.teams.all())}
    form = UserEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        v = form.cleaned_data
        try:
            services.user_update(actor=request.user, user=person, ip=client_ip(request), email=v["email"],
                                 first_name=v["first_name"], last_name=v["last_name"], role=v["role"], teams=list(v["teams"]))
        except ApplicationError as exc:
            form.add_error(exc.extra.get("field"), exc.message)
        else:
            messages.success(request, _("Saved."))
            return redirect("team-user", user_id=person.pk)
    return render(request, "console/team_user.html", {"section": "team", "person": person, "form": form},
                  status=400 if form.errors else 200)


def _act(request, person, action, done: str):
    try:
        result = action()
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done if not callable(done) else done(result))
    return redirect("team-user", user_id=person.pk)


@desk_admin_required
@require_POST
def team_user_deactivate(request, user_id: int):
    person = get_object_or_404(User, pk=user_id)

    def done(summary):
        n = len(summary.get("released_conversations", []))
        return _("%(user)s can no longer sign in; %(n)d open conversation(s) went back to the queue.") % {"user": person.username, "n": n}

    return _act(request, person, lambda: services.user_deactivate(actor=request.user, user=person, ip=client_ip(request)), done)


@desk_admin_required
@require_POST
def team_user_reactivate(request, user_id: int):
    person = get_object_or_404(User, pk=user_id)
    return _act(request, person, lambda: services.user_reactivate(actor=request.user, user=person, ip=client_ip(request)),
                _("%(user)s can sign in again.") % {"user": person.username})


@desk_admin_required
@require_POST
def team_user_password_reset(request, user_id: int):
    person = get_object_or_404(User, pk=user_id)
    return _act(
        request, person,
        lambda: services.user_password_reset_send(actor=request.user, user=person, base_url=base_url(request), ip=client_ip(request)),
        _("A link to choose a new password was mailed to %(email)s.") % {"email": person.email},
    )


@desk_admin_required
@require_http_methods(["GET", "POST"])
def team_teams(request):
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.team_create(actor=request.user, name=form.cleaned_data["name"], ip=client_ip(request))
        except ApplicationError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, _("Team created."))
            return redirect("team-teams")
    teams = Team.objects.annotate(member_count=Count("members")).order_by("name")
    return render(request, "console/teams.html", {"section": "teams", "teams": teams, "form": form},
                  status=400 if form.errors else 200)


@desk_admin_required
@require_POST
def team_rename(request, team_id: int):
    team_ = get_object_or_404(Team, pk=team_id)
    form = TeamForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError(_("A team needs a name (at most 100 characters)"))
        services.team_rename(actor=request.user, team=team_, name=form.cleaned_data["name"], ip=client_ip(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Team renamed."))
    return redirect("team-teams")


@desk_admin_required
@require_POST
def team_delete(request, team_id: int):
    team_ = get_object_or_404(Team, pk=team_id)
    services.team_delete(actor=request.user, team=team_, ip=client_ip(request))
    messages.success(request, _("Team deleted."))
    return redirect("team-teams")


# --- public: the mailed links ----------------------------------------------------------------


def _user_from_link(uidb64: str, token: str) -> User | None:
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))), is_active=True)
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        return None
    return user if default_token_generator.check_token(user, token) else None


@require_http_methods(["GET", "POST"])
def password_set(request, uidb64: str, token: str):
    """Choose a password from an invitation or reset link (one use: the token dies with the old password)."""
    user = _user_from_link(uidb64, token)
    if user is None:
        return render(request, "accounts/password_set.html", {"invalid": True}, status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_password_set(user=user, password=form.cleaned_data["new_password1"], ip=client_ip(request))
        messages.success(request, _("Your password is set. Sign in with it."))
        return redirect("login")
    return render(request, "accounts/password_set.html", {"form": form, "person": user}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def password_reset(request):
    """Forgot your password: the same answer whether or not the address is known (no account discovery)."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            for user in User.objects.filter(email__iexact=form.cleaned_data["email"], is_active=True):
                services.user_password_reset_send(actor=None, user=user, base_url=base_url(request), ip=client_ip(request))
        except ApplicationError:
            form.add_error("email", _("The mail could not be sent just now. Try again in a few minutes."))
            return render(request, "accounts/password_reset.html", {"form": form}, status=503)
        return render(request, "accounts/password_reset.html", {"sent": True})
    return render(request, "accounts/password_reset.html", {"form": form})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user = services.user_locale_update(
            user=request.user, language=form.cleaned_data["language"], time_zone=form.cleaned_data["time_zone"]
        )
        # The confirmation is already in the language just chosen.
        translation.activate(user.language or translation.get_language_from_request(request))
        messages.success(request, _("Your language and time zone are saved."))
        return redirect("profile")
    return render(request, "accounts/profile.html", {"form": form})
