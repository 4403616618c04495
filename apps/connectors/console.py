"""The admins' console for channels: pages under /console/ (admins only; agents and supervisors 403).

Thin views over account_services (writes) and selectors (reads), the same ones the REST API
uses. Each kind's form is generated from the Fields its channel.py declares. Secrets are
write-only inputs: a stored value is never put in a page, only "set on <date> by <user>".
A generated secret (inbound token, verify token) is rendered in the response that made it and
nowhere else (no redirect that would need to keep it in the session).
"""
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.models import Team
from apps.core.errors import ApplicationError
from apps.inbox.inbound import ParseError

from . import selectors
from .account_services import (
    channel_account_create,
    channel_account_remove,
    channel_account_rotate_secret,
    channel_account_test,
    channel_account_update,
    channel_alert_preference_set,
    dead_letter_discard,
    dead_letters_replay,
)
from .models import ChannelAccount, ChannelAlertPreference, ChannelKind, DeadLetter
from .phone.services import asterisk_file_import, asterisk_file_stage
from .registry import channel_for

ASTERISK_MAX_BYTES = 50 * 1024 * 1024
ASTERISK_SYNC_BYTES = 1024 * 1024


def admin_only(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_desk_admin:
            raise PermissionDenied(_("Only desk admins may manage channels."))
        return view(request, *args, **kwargs)

    return wrapped


def _account(account_id: int) -> ChannelAccount:
    account = selectors.account_with_counts(account_id)
    if account is None:
        raise Http404(_("No such channel account"))
    return account


def _kind_label(kind: str) -> str:
    return dict(ChannelKind.choices).get(kind, kind)


def _form_fields(kind: str, values: dict, errors: dict) -> list[dict]:
    channel = channel_for(kind)
    return [{"field": f, "value": values.get(f.name, ""), "errors": errors.get(f.name, []),
             "input": f"s_{f.name}"} for f in channel.settings]


def _secret_fields(account: ChannelAccount | None, kind: str, errors: dict) -> list[dict]:
    channel = channel_for(kind)
    status = {row["name"]: row for row in selectors.secrets_status(account)} if account else {}
    return [{"field": f, "status": status.get(f.name), "errors": errors.get(f.name, []), "input": f"x_{f.name}"}
            for f in channel.secrets]


def _posted(request, kind: str, account: ChannelAccount | None = None) -> dict:
    """The form's values in the services' shapes (settings typed by settings_clean, not here).
    Settings the form does not show (advanced keys set through the API) are kept."""
    channel = channel_for(kind)
    declared = {f.name for f in channel.settings}
    settings = {k: v for k, v in (account.settings if account else {}).items() if k not in declared}
    for f in channel.settings:
        if f.type == "bool":
            settings[f.name] = request.POST.get(f"s_{f.name}") == "on"
        else:
            settings[f.name] = request.POST.get(f"s_{f.name}", "").strip()
    secrets = {f.name: request.POST.get(f"x_{f.name}", "") for f in channel.secrets if request.POST.get(f"x_{f.name}", "")}
    team_id = request.POST.get("team") or None
    team = Team.objects.filter(pk=team_id).first() if team_id else None
    if team_id and team is None:
        raise ApplicationError(_("That team no longer exists"), extra={"fields": {"team": [_("Choose a team from the list.")]}})
    return {"name": request.POST.get("name", ""), "team": team, "settings": settings, "secrets": secrets,
            "poll_interval": request.POST.get("poll_interval") or None, "csat_enabled": request.POST.get("csat") == "on"}


def _form_context(request, *, kind: str, account=None, values=None, errors=None, message="", extra=None) -> dict:
    channel = channel_for(kind)
    values = values if values is not None else (account.settings if account else {})
    errors = errors or {}
    return {
        # can_test: a template would call channel.probe (a function) instead of testing it
        "kind": kind, "kind_label": _kind_label(kind), "channel": channel, "account": account, "can_test": channel.probe is not None,
        "name": request.POST.get("name", account.name if account else "") if request.method == "POST" else (account.name if account else ""),
        "team_id": str(request.POST.get("team", "")) if request.method == "POST" else str(account.team_id or "") if account else "",
        "poll_interval": (request.POST.get("poll_interval") if request.method == "POST" else None)
        or (account.poll_interval if account else channel.poll_interval),
        "csat_enabled": (request.POST.get("csat") == "on") if request.method == "POST" else bool(account and account.csat_enabled),
        "teams": Team.objects.order_by("name"), "settings_fields": _form_fields(kind, values, errors),
        "secret_fields": _secret_fields(account, kind, errors), "errors": errors, "message": message,
        "name_errors": errors.get("name", []), "team_errors": errors.get("team", []),
        "poll_errors": errors.get("poll_interval", []), **(extra or {}),
    }


# --- pages ---------------------------------------------------------------------------------------


@admin_only
@require_http_methods(["GET", "POST"])
def channels(request):
    """Every account with its health line, what waits, dead letters; add a channel; my alerts."""
    if request.method == "POST":  # the alert preference
        channel_alert_preference_set(user=request.user, email=request.POST.get("email_alerts") == "on")
        return redirect("console-channels")
    preference = ChannelAlertPreference.objects.filter(user=request.user).first()
    return render(request, "console/channels.html", {
        "accounts": list(selectors.accounts_with_counts()),
        "kinds": [(c["kind"], c["label"]) for c in selectors.channel_kinds()],
        "email_alerts": bool(preference and preference.email),
    })


@admin_only
@require_http_methods(["GET", "POST"])
def account_new(request, kind: str):
    if channel_for(kind) is None or kind not in ChannelKind.values:
        raise Http404(_("Unknown channel kind"))
    if request.method == "POST":
        try:
            data = _posted(request, kind)
            account = channel_account_create(kind=kind, actor=request.user, **data)
        except ApplicationError as exc:
            context = _form_context(request, kind=kind, values=request.POST and _raw_settings(request, kind),
                                    errors=exc.extra.get("fields", {}), message=exc.message)
            return render(request, "console/account_form.html", context, status=400)
        # Rendered here, not redirected: the generated secret is in this page only.
        return _account_page(request, _account(account.pk), shown_once=account.shown_once,
                             notice=_("%(name)s is connected.") % {"name": account.name}, status=201)
    return render(request, "console/account_form.html", _form_context(request, kind=kind, values={}))


def _raw_settings(request, kind: str) -> dict:
    return {f.name: request.POST.get(f"s_{f.name}", "") if f.type != "bool" else request.POST.get(f"s_{f.name}") == "on"
            for f in channel_for(kind).settings}


def _account_page(request, account, *, shown_once=None, notice="", probe=None, errors=None, message="", status=200,
                  values=None, imported=None):
    context = _form_context(request, kind=account.kind, account=account, values=values, errors=errors, message=message, extra={
        "webhook_urls": selectors.webhook_urls(account, base=request.build_absolute_uri("/").rstrip("/")),
        "shown_once": shown_once or {}, "notice": notice, "probe": probe, "health": selectors.account_health_detail(account),
        "imported": imported,
    })
    return render(request, "console/account.html", context, status=status)


@admin_only
@require_http_methods(["GET", "POST"])
def account_edit(request, account_id: int):
    account = _account(account_id)
    if request.method == "POST":
        try:
            data = _posted(request, account.kind, account)
            channel_account_update(account=account, actor=request.user, **data)
        except ApplicationError as exc:
            return _account_page(request, account, errors=exc.extra.get("fields", {}), message=exc.message, status=400,
                                 values=_raw_settings(request, account.kind))
        return redirect(f"{reverse('console-account', args=[account.pk])}?saved=1")
    notice = _("Saved.") if request.GET.get("saved") else ""
    return _account_page(request, account, notice=notice)


@admin_only
@require_POST
def account_enable(request, account_id: int):
    account = _account(account_id)
    channel_account_update(account=account, actor=request.user, enabled=request.POST.get("enabled") == "1")
    return redirect("console-account", account_id=account.pk)


@admin_only
@require_POST
def account_test(request, account_id: int):
    account = _account(account_id)
    return _account_page(request, account, probe=channel_account_test(account=account, actor=request.user))


@admin_only
@require_POST
def account_rotate(request, account_id: int):
    account = _account(account_id)
    try:
        name, value = channel_account_rotate_secret(account=account, actor=request.user)
    except ApplicationError as exc:
        return _account_page(request, account, message=exc.message, status=400)
    return _account_page(request, _account(account_id), shown_once={name: value},
                         notice=_("A new one is in force; the old one stopped working."))


@admin_only
@require_http_methods(["GET", "POST"])
def account_remove(request, account_id: int):
    account = _account(account_id)
    if request.method == "POST":
        try:
            channel_account_remove(account=account, actor=request.user)
        except ApplicationError as exc:
            return _account_page(request, account, message=exc.message, status=409)
        return redirect("console-channels")
    return render(request, "console/account_remove.html", {"account": account})


@admin_only
@require_POST
def account_asterisk_import(request, account_id: int):
    """A Master.csv into a phone account: small files at once (counts shown), large ones staged for the worker."""
    account = _account(account_id)
    if account.kind != ChannelKind.PHONE:  # the account exists and the admin sees it: a bad request, said on its page
        return _account_page(request, account, message=_("Only phone accounts import Asterisk files."), status=400)
    upload = request.FILES.get("file")
    if upload is None:
        return _account_page(request, account, message=_("Choose a Master.csv file to import."), status=400)
    if upload.size > ASTERISK_MAX_BYTES:
        return _account_page(request, account, status=400, message=_(
            "This file is over the %(n)s MB upload limit: import it with manage.py ingest asterisk FILE.") % {"n": ASTERISK_MAX_BYTES // 2**20})
    try:
        if upload.size > ASTERISK_SYNC_BYTES:
            staged = asterisk_file_stage(account=account, name=upload.name, raw=upload.read())
            imported = _("%(file)s: %(n)s rows staged; the worker imports them.") % {"file": upload.name, "n": staged}
        else:
            counts = asterisk_file_import(account=account, name=upload.name, raw=upload.read())
            imported = f"{upload.name}: {counts.summary()}"
    except (ParseError, ApplicationError) as exc:
        return _account_page(request, account, message=str(exc), status=400)
    return _account_page(request, _account(account_id), imported=imported)


@admin_only
@require_http_methods(["GET"])
def account_health(request, account_id: int):
    account = _account(account_id)
    return render(request, "console/health.html", {
        "account": account, "kind_label": _kind_label(account.kind), "health": selectors.account_health_detail(account),
        "dead_letters": list(selectors.dead_letters_for(account)[: selectors.DEAD_LETTERS_SHOWN]),
        "audit": list(selectors.audit_for(account.pk)[: selectors.AUDIT_SHOWN]),
        "replayed": request.session.pop("console_replayed", None),
    })


@admin_only
@require_POST
def dead_letters_replay_view(request, account_id: int):
    """Replay one (dead_letter=<id>) or every unresolved dead letter of the account."""
    account = _account(account_id)
    letters = DeadLetter.objects.filter(channel_account=account, resolved=False).order_by("created_at", "id")
    if request.POST.get("dead_letter"):
        letters = letters.filter(pk=request.POST["dead_letter"])
    results = dead_letters_replay(dead_letters=list(letters[:500]), actor=request.user)
    # Counts only (no payload text) for the next page.
    request.session["console_replayed"] = {
        "resolved": sum(1 for dl, _c in results if dl.resolved), "failed": sum(1 for dl, _c in results if not dl.resolved),
    }
    return redirect("console-account-health", account_id=account.pk)


@admin_only
@require_POST
def dead_letter_discard_view(request, account_id: int, dead_letter_id: int):
    account = _account(account_id)
    dead_letter = DeadLetter.objects.filter(pk=dead_letter_id, channel_account=account).first()
    if dead_letter is None:
        raise Http404(_("No such dead letter"))
    try:
        dead_letter_discard(dead_letter=dead_letter, actor=request.user)
    except ApplicationError:
        pass  # already resolved: the page shows it gone either way
    return redirect("console-account-health", account_id=account.pk)
