"""Writes for the desk's people: invitations, roles, teams, deactivation, password mails, and a
user's own language and time zone.

Every change is audited (apps/audit, through the hook in hooks.py) with what it was before and after and the admin's address.
Validation errors raise ApplicationError with a plain message (one DRF handler, and the pages
show the same message).
"""
import smtplib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from apps.core.errors import ApplicationError

from .hooks import audit_record, run_user_access_changed, run_user_deactivated
from .models import Role, Team, User, time_zone_validate

USERNAME_MAX = 150


def _state(user: User) -> dict:
    """What the audit log shows of a user, before and after a change."""
    return {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "teams": sorted(user.teams.values_list("name", flat=True)) if user.pk else [],
        "is_active": user.is_active,
    }


def _diff(before: dict, after: dict) -> tuple[dict, dict]:
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise ApplicationError(_("Unknown role"), extra={"allowed": Role.values})


def _last_admin_guard(user: User, *, leaving: bool) -> None:
    """An admin cannot remove the last active admin: nobody could manage the desk any more."""
    if not leaving or not user.is_desk_admin or not user.is_active:
        return
    others = User.objects.filter(is_active=True, role=Role.ADMIN).exclude(pk=user.pk).exists() or \
        User.objects.filter(is_active=True, is_superuser=True).exclude(pk=user.pk).exists()
    if not others:
        raise ApplicationError(_("This is the last active admin; make someone else an admin first"), status_code=409)


def set_password_link(*, user: User, base_url: str) -> str:
    """The one-time link that lets `user` choose a password (Django's token machinery: the token
    dies once the password changes or the user signs in, and after PASSWORD_RESET_TIMEOUT)."""
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return base_url.rstrip("/") + reverse("password-set", args=[uidb64, token])


def _mail(*, user: User, template: str, base_url: str, subject: str, inviter: User | None = None) -> None:
    context = {
        "user": user, "link": set_password_link(user=user, base_url=base_url), "inviter": inviter,
        "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
    }
    body = render_to_string(template, context)
    # Sent inside the caller's transaction, last: a mail server that refuses it rolls the
    # invitation back with a clear error, rather than leaving a user nobody told.
    try:
        send_mail(subject, body, None, [user.email])
    except (OSError, smtplib.SMTPException) as exc:
        raise ApplicationError(_("The mail could not be sent: %(reason)s") % {"reason": exc}, status_code=502) from exc


@transaction.atomic
def user_invite(*, actor: User, username: str, email: str, role: str = Role.AGENT, teams: list[Team] = (),
                first_name: str = "", last_name: str = "", base_url: str, ip: str | None = None) -> User:
    """Create a user without a password and mail them a link to choose one."""
    username = (username or "").strip()
    email = (email or "").strip()
    _check_role(role)
    if not username or len(username) > USERNAME_MAX:
        raise ApplicationError(_("A username is required (at most 150 characters)"), extra={"field": "username"})
    if not email or "@" not in email:
        raise ApplicationError(_("An email address is required: the invitation goes there"), extra={"field": "email"})
    if User.objects.filter(username__iexact=username).exists():
        raise ApplicationError(_("That username is taken"), extra={"field": "username"}, status_code=409)
    try:
        with transaction.atomic():
            user = User(username=username, email=email, role=role, first_name=first_name.strip()[:150],
                        last_name=last_name.strip()[:150])
            user.set_unusable_password()
            user.save()
    except IntegrityError:  # the same username at the same moment
        raise ApplicationError(_("That username is taken"), extra={"field": "username"}, status_code=409) from None
    user.teams.set(teams)
    audit_record(actor=actor, action="user.invited", target=user, before={}, after=_state(user), ip=ip)
    _mail(user=user, template="accounts/mail/invitation.txt", base_url=base_url, inviter=actor,
          subject=_("You are invited to the Centralita desk"))
    return user


@transaction.atomic
def user_update(*, actor: User, user: User, ip: str | None = None, **changes) -> User:
    """Change role, teams (a list of Team), email, first_name, last_name. One audit entry with
    only what changed; nothing changed, no entry."""
    allowed = {"role", "teams", "email", "first_name", "last_name"}
    unknown = set(changes) - allowed
    if unknown:
        raise ApplicationError(_("These fields cannot be changed"), extra={"fields": sorted(unknown)})
    locked = User.objects.select_for_update().get(pk=user.pk)
    before = _state(locked)
    if "role" in changes:
        _check_role(changes["role"])
        if changes["role"] != Role.ADMIN:
            _last_admin_guard(locked, leaving=locked.role == Role.ADMIN and not locked.is_superuser)
        locked.role = changes["role"]
    if "email" in changes:
        email = (changes["email"] or "").strip()
        if not email or "@" not in email:
            raise ApplicationError(_("Enter a valid email address"), extra={"field": "email"})
        locked.email = email
    for name in ("first_name", "last_name"):
        if name in changes:
            setattr(locked, name, (changes[name] or "").strip()[:150])
    locked.save()
    if "teams" in changes:
        locked.teams.set(changes["teams"])
    old, new = _diff(before, _state(locked))
    if new:
        # Role and team changes are permission changes: their own action names, easy to filter.
        action = "user.role_changed" if set(new) == {"role"} else "user.teams_changed" if set(new) == {"teams"} else "user.updated"
        audit_record(actor=actor, action=action, target=locked, before=old, after=new, ip=ip)
        if {"role", "teams"} & set(new):
            # Their open sockets joined groups by the old rights: they reconnect with the new ones.
            run_user_access_changed(user_id=locked.pk)
    return locked


@transaction.atomic
def user_deactivate(*, actor: User, user: User, ip: str | None = None) -> dict:
    """The user can no longer sign in, and their open work goes back to their team's queue
    (the inbox's hook unassigns it, each change in the conversation's own trail). Returns the summary."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.pk == actor.pk:
        raise ApplicationError(_("You cannot deactivate yourself"), status_code=409)
    if not locked.is_active:
        raise ApplicationError(_("This user is already inactive"), status_code=409)
    _last_admin_guard(locked, leaving=True)
    locked.is_active = False
    locked.save(update_fields=["is_active"])
    summary = run_user_deactivated(user=locked, actor=actor)
    audit_record(actor=actor, action="user.deactivated", target=locked, before={"is_active": True},
                 after={"is_active": False, **summary}, ip=ip)
    run_user_access_changed(user_id=locked.pk)  # their open desks stop hearing events at once
    return summary


@transaction.atomic
def user_reactivate(*, actor: User, user: User, ip: str | None = None) -> User:
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.is_active:
        raise ApplicationError(_("This user is already active"), status_code=409)
    locked.is_active = True
    locked.save(update_fields=["is_active"])
    audit_record(actor=actor, action="user.reactivated", target=locked, before={"is_active": False},
                 after={"is_active": True}, ip=ip)
    return locked


def user_password_reset_send(*, actor: User | None, user: User, base_url: str, ip: str | None = None) -> None:
    """Mail `user` a link to choose a new password (an admin's button, or the user's own request)."""
    if not user.is_active or not user.email:
        raise ApplicationError(_("This user has no active account with an email address"), status_code=409)
    with transaction.atomic():
        audit_record(actor=actor, action="user.password_reset_sent", target=user, ip=ip)
        _mail(user=user, template="accounts/mail/password_reset.txt", base_url=base_url,
              subject=_("Choose a new password for the Centralita desk"))


def user_password_set(*, user: User, password: str, ip: str | None = None) -> None:
    """The user chose a password from a mailed link (the form validated it)."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(actor=user, action="user.password_set", target=user, ip=ip)


# --- teams ------------------------------------------------------------------------------------


def _team_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ApplicationError(_("A team needs a name (at most 100 characters)"), extra={"field": "name"})
    return name


@transaction.atomic
def team_create(*, actor: User, name: str, ip: str | None = None) -> Team:
    name = _team_name(name)
    if Team.objects.filter(name__iexact=name).exists():
        raise ApplicationError(_("A team with that name exists"), extra={"field": "name"}, status_code=409)
    team = Team.objects.create(name=name)
    audit_record(actor=actor, action="team.created", target=team, after={"name": name}, ip=ip)
    return team


@transaction.atomic
def team_rename(*, actor: User, team: Team, name: str, ip: str | None = None) -> Team:
    name = _team_name(name)
    locked = Team.objects.select_for_update().get(pk=team.pk)
    if locked.name == name:
        return locked
    if Team.objects.filter(name__iexact=name).exclude(pk=locked.pk).exists():
        raise ApplicationError(_("A team with that name exists"), extra={"field": "name"}, status_code=409)
    before = locked.name
    locked.name = name
    locked.save(update_fields=["name"])
    audit_record(actor=actor, action="team.renamed", target=locked, before={"name": before}, after={"name": name}, ip=ip)
    return locked


@transaction.atomic
def team_delete(*, actor: User, team: Team, ip: str | None = None) -> None:
    """Its conversations keep their rows and lose the team (they become visible to every agent)."""
    locked = Team.objects.select_for_update().get(pk=team.pk)
    members = sorted(locked.members.values_list("username", flat=True))
    audit_record(actor=actor, action="team.deleted", target=locked, before={"name": locked.name, "members": members}, ip=ip)
    locked.delete()


def user_locale_update(*, user: User, language: str, time_zone: str) -> User:
    """Set the user's own language and time zone ("" for each: the browser's / the desk's default)."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": "unknown language"})
    time_zone_validate(time_zone)
    user.language, user.time_zone = language, time_zone
    user.save(update_fields=["language", "time_zone"])
    return user
