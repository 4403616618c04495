"""Writes for channel accounts made by admins (the console pages, the REST API, the Django admin).

Kept apart from services.py, which the ingestion side owns. Every value is checked against the
Fields its channel declares (channel.py), with errors in plain words keyed by field; every
change leaves a ChannelAuditEvent (secrets are named, never written down).
"""
import copy
import re
import secrets as token_generator
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Role, User
from apps.audit.services import audit_record
from apps.core.errors import ApplicationError
from apps.core.validators import validate_json_without_nul
from apps.inbox.models import Conversation, Notification
from apps.inbox.services.notifications import notify_users

from .channel import Channel, Field
from .drain import dead_letter_replay
from .health import missing_requirements
from .models import ChannelAccount, ChannelAlertPreference, ChannelAuditEvent, ChannelKind, DeadLetter
from .registry import channel_for
from .services import channel_account_rotate_token, secrets_scrub

_validate_url = URLValidator(schemes=["http", "https"])
_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$")
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
_TWILIO_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
SECRET_MAX_CHARS = 4096
SETTING_MAX_CHARS = 1000
POLL_INTERVAL_MIN, POLL_INTERVAL_MAX = 30, 86400
PROBE_SECONDS = 15  # the whole connection test, whatever the provider does
PROBE_SOCKET_SECONDS = 8  # each network operation of a mail probe


# --- checking what the admin typed --------------------------------------------------------------


def _channel(kind: str) -> Channel:
    channel = channel_for(kind)
    if channel is None or kind not in ChannelKind.values:
        raise ApplicationError(_("Unknown channel kind"), extra={"allowed": ChannelKind.values})
    return channel


def _field_value(field: Field, value):
    """The value to store, or ValidationError saying in plain words what is wrong."""
    if field.type == "bool":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("1", "true", "on", "yes"):
            return True
        if str(value).lower() in ("0", "false", "off", "no", ""):
            return False
        raise ValidationError(_("Choose yes or no."))
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ValidationError(_("Give a single value."))
    text = str(value).strip()
    if len(text) > SETTING_MAX_CHARS:
        raise ValidationError(_("At most %(n)s characters.") % {"n": SETTING_MAX_CHARS})
    if field.type == "int":
        try:
            number = int(text)
        except ValueError:
            raise ValidationError(_("Give a whole number, like 993.")) from None
        if (field.min is not None and number < field.min) or (field.max is not None and number > field.max):
            raise ValidationError(_("Give a number from %(min)s to %(max)s.") % {"min": field.min, "max": field.max})
        return number
    if field.type == "choice" and text not in field.choices:
        raise ValidationError(_("Choose one of: %(choices)s.") % {"choices": ", ".join(field.choices)})
    if field.type == "host" and not _HOST.match(text):
        raise ValidationError(_("Give a host name like mail.example.com or an IP address, without a scheme or port."))
    if field.type == "email":
        try:
            validate_email(text)
        except ValidationError:
            raise ValidationError(_("Give an email address like soporte@example.com.")) from None
    if field.type == "url":
        try:
            _validate_url(text)
        except ValidationError:
            raise ValidationError(_("Give an http:// or https:// address.")) from None
    if field.type == "digits" and not text.isdigit():
        raise ValidationError(_("Give the number only (digits)."))
    if field.type == "phone" and not _PHONE.match(text):
        raise ValidationError(_("Give the number in international form, like +34910000000."))
    if field.type == "twilio_sid" and not _TWILIO_SID.match(text):
        raise ValidationError(_("A Twilio account SID is AC followed by 32 letters and digits."))
    if field.type == "file" and not text.startswith("/"):
        raise ValidationError(_("Give an absolute path on the server, like /etc/ssl/private-ca.pem."))
    return text


def settings_clean(*, kind: str, settings: dict) -> dict:
    """Declared keys are checked and typed; an empty value removes the key (the channel's default
    applies). Undeclared keys pass through (advanced options the clients read, like `timeout`)."""
    channel = _channel(kind)
    if not isinstance(settings, dict):
        raise ApplicationError(_("Settings must be an object of names and values"))
    try:
        validate_json_without_nul(settings)
    except ValidationError as exc:
        raise ApplicationError(_("Settings may not hold a NUL character"), extra={"fields": {"settings": exc.messages}}) from None
    declared = {f.name: f for f in channel.settings}
    errors, cleaned = {}, {}
    for name, value in settings.items():
        field = declared.get(name)
        if field is None:
            cleaned[name] = value
            continue
        if value is None or (value == "" and field.type != "bool"):
            continue
        try:
            cleaned[name] = _field_value(field, value)
        except ValidationError as exc:
            errors[name] = [f"{field.label}: {m}" for m in exc.messages]
    if errors:
        raise ApplicationError(_("Some settings are not valid"), extra={"fields": errors})
    return cleaned


def secrets_clean(*, kind: str, secrets: dict) -> dict:
    """Strings of bounded size; None or "" means remove that key."""
    _channel(kind)
    if not isinstance(secrets, dict):
        raise ApplicationError(_("Secrets must be an object of names and values"))
    errors = {}
    for name, value in secrets.items():
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            errors[name] = [_("Give the secret as text.")]
        elif len(value) > SECRET_MAX_CHARS or "\x00" in value:
            errors[name] = [_("At most %(n)s characters, no NUL.") % {"n": SECRET_MAX_CHARS}]
    if errors:
        raise ApplicationError(_("Some secrets are not valid"), extra={"fields": errors})
    return {k: (v.strip() if isinstance(v, str) else v) for k, v in secrets.items()}


def _poll_interval(channel: Channel, value) -> int:
    if value in (None, ""):
        return channel.poll_interval or 60
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        seconds = None
    if seconds is None or not POLL_INTERVAL_MIN <= seconds <= POLL_INTERVAL_MAX:
        raise ApplicationError(
            _("Some settings are not valid"),
            extra={"fields": {"poll_interval": [_("Polling interval: give seconds from %(min)s to %(max)s.")
                                                % {"min": POLL_INTERVAL_MIN, "max": POLL_INTERVAL_MAX}]}},
        )
    return seconds


def _name(value) -> str:
    name = (value or "").strip()
    if not name:
        raise ApplicationError(_("Some settings are not valid"), extra={"fields": {"name": [_("Give the account a name.")]}})
    return name[:120]


# --- create, change, remove -----------------------------------------------------------------


def secrets_merge(current: dict, changes: dict) -> dict:
    merged = dict(current or {})
    for key, value in changes.items():
        if value is None or value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _secrets_meta(meta: dict, changes: dict, actor) -> dict:
    meta = dict(meta or {})
    stamp = {"at": timezone.now().isoformat(), "by": actor.username if actor is not None else ""}
    for key, value in changes.items():
        if value is None or value == "":
            meta.pop(key, None)
        else:
            meta[key] = stamp
    return meta


def _audit(account: ChannelAccount, action: str, actor=None, detail: str = "") -> None:
    """The account's own trail (its health page) and the desk's audit log (who changed what),
    written together in the caller's transaction. `detail` never holds a secret's value."""
    ChannelAuditEvent.objects.create(account_id=account.pk, account_name=account.name[:120], actor=actor,
                                     action=action, detail=detail[:500])
    if action not in (ChannelAuditEvent.Action.TESTED,):  # a connection test changes nothing
        audit_record(actor=actor, action=f"channel_account.{action}", target_type="channel_account", target_id=account.pk,
                     target_label=account.name[:200], after={"detail": detail[:500]} if detail else None)


def channel_account_create(
    *, kind: str, name: str, team=None, settings: dict | None = None, secrets: dict | None = None,
    enabled: bool = True, poll_interval: int | None = None, csat_enabled: bool = False, actor=None,
) -> ChannelAccount:
    """A new account. The secret the console generates for its channel (a Facebook verify token,
    the API channel's inbound token) is made here unless given, and handed back once in
    `account.shown_once` ({name: value}); nothing else can show it again."""
    channel = _channel(kind)
    settings = settings_clean(kind=kind, settings=settings or {})
    secrets = secrets_clean(kind=kind, secrets=secrets or {})
    shown_once = {}
    if channel.generated_secret and channel.generated_secret != "inbound_token" and not secrets.get(channel.generated_secret):
        secrets[channel.generated_secret] = shown_once[channel.generated_secret] = token_generator.token_urlsafe(24)
    with transaction.atomic():
        account = ChannelAccount.objects.create(
            kind=kind, name=_name(name), team=team, settings=settings, secrets=secrets_merge({}, secrets), enabled=enabled,
            csat_enabled=csat_enabled,
            poll_interval=_poll_interval(channel, poll_interval), secrets_meta=_secrets_meta({}, secrets, actor),
        )
        if channel.generated_secret == "inbound_token":
            shown_once["inbound_token"] = channel_account_rotate_token(account=account)
        _audit(account, ChannelAuditEvent.Action.CREATED, actor, f"{kind}; secrets set: {', '.join(sorted(account.secrets)) or 'none'}")
    account.shown_once = shown_once
    return account


def channel_account_update(*, account: ChannelAccount, actor=None, **changes) -> ChannelAccount:
    """Change name, team, settings, enabled, poll_interval, csat_enabled; `secrets` merges key by key (a null or
    empty value removes a key, a key left out keeps its value)."""
    allowed = {"name", "team", "settings", "enabled", "secrets", "poll_interval", "csat_enabled"}
    if set(changes) - allowed:
        raise ApplicationError(_("These fields cannot be changed"), extra={"fields": sorted(set(changes) - allowed)})
    channel = _channel(account.kind)
    with transaction.atomic():
        locked = ChannelAccount.objects.select_for_update().get(pk=account.pk)
        if "name" in changes:
            changes["name"] = _name(changes["name"])
        if "settings" in changes:
            changes["settings"] = settings_clean(kind=locked.kind, settings=changes["settings"])
        if "poll_interval" in changes:
            changes["poll_interval"] = _poll_interval(channel, changes["poll_interval"])
        secret_changes = secrets_clean(kind=locked.kind, secrets=changes.pop("secrets", None) or {})
        changed = [k for k, v in changes.items() if getattr(locked, k if k != "team" else "team") != v]
        for key, value in changes.items():
            setattr(locked, key, value)
        fields = [*changes]
        if secret_changes:
            locked.secrets = secrets_merge(locked.secrets, secret_changes)
            locked.secrets_meta = _secrets_meta(locked.secrets_meta, secret_changes, actor)
            fields += ["secrets", "secrets_meta"]
            _audit(locked, ChannelAuditEvent.Action.SECRETS, actor, ", ".join(sorted(secret_changes)))
        if fields:
            locked.save(update_fields=fields)
        if "enabled" in changed:
            _audit(locked, ChannelAuditEvent.Action.ENABLED if locked.enabled else ChannelAuditEvent.Action.DISABLED, actor)
            changed.remove("enabled")
        if changed:
            _audit(locked, ChannelAuditEvent.Action.UPDATED, actor, ", ".join(sorted(changed)))
    return locked


def channel_account_remove(*, account: ChannelAccount, actor=None) -> None:
    """Only an account nothing was received on: its conversations are customers' history."""
    conversations = Conversation.objects.filter(channel_account=account).count()
    if conversations:
        raise ApplicationError(
            _("This account has %(n)s conversation(s): removing it would erase them from customers' history. "
              "Disable it instead.") % {"n": conversations},
            extra={"conversations": conversations}, status_code=409,
        )
    if account.kind == ChannelKind.WEBFORM and account.webforms.exists():
        raise ApplicationError(_("Web forms still use this account: delete or move them first, or disable it."), status_code=409)
    with transaction.atomic():
        _audit(account, ChannelAuditEvent.Action.REMOVED, actor, account.kind)
        account.delete()


def channel_account_rotate_secret(*, account: ChannelAccount, actor=None) -> tuple[str, str]:
    """A new generated secret (name, value): shown this once. The old one stops working now."""
    channel = _channel(account.kind)
    name = channel.generated_secret
    if not name:
        raise ApplicationError(_("This kind of channel has no token for Centralita to generate"), status_code=400)
    with transaction.atomic():
        if name == "inbound_token":
            value = channel_account_rotate_token(account=account)
        else:
            value = token_generator.token_urlsafe(24)
            locked = ChannelAccount.objects.select_for_update().get(pk=account.pk)
            locked.secrets = {**locked.secrets, name: value}
            locked.secrets_meta = _secrets_meta(locked.secrets_meta, {name: value}, actor)
            locked.save(update_fields=["secrets", "secrets_meta"])
        _audit(account, ChannelAuditEvent.Action.ROTATED, actor, name)
    return name, value


# --- test connection -------------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    message: str
    seconds: float


def channel_account_test(*, account: ChannelAccount, actor=None) -> ProbeResult:
    """Run the channel's probe with the real client against the configured host, bounded by
    PROBE_SECONDS. Writes nothing but an audit row: a test is not a poll, so health is untouched."""
    channel = _channel(account.kind)
    started = time.monotonic()
    if channel.probe is None:
        result = ProbeResult(True, _("Nothing remote to test for this kind of channel."), 0.0)
    else:
        missing = missing_requirements(account)
        if missing:
            result = ProbeResult(False, _("Not configured: missing %(what)s") % {"what": ", ".join(missing)}, 0.0)
        else:
            probed = copy.copy(account)  # a copy: the probe's shorter timeouts are never saved
            probed.settings = {**(account.settings or {}), "timeout": PROBE_SOCKET_SECONDS}
            executor = ThreadPoolExecutor(max_workers=1)
            future = executor.submit(channel.probe, probed)
            try:
                result = ProbeResult(True, future.result(timeout=PROBE_SECONDS), time.monotonic() - started)
            except FutureTimeout:
                result = ProbeResult(False, _("No answer within %(n)s seconds: check the host, the port and the firewall.")
                                     % {"n": PROBE_SECONDS}, time.monotonic() - started)
            except Exception as exc:  # any failure is the answer the admin asked for
                result = ProbeResult(False, probe_error_text(exc), time.monotonic() - started)
            finally:
                executor.shutdown(wait=False)  # a hung socket ends on its own timeout; the admin does not wait for it
    result = ProbeResult(result.ok, secrets_scrub(result.message, account.secrets), result.seconds)
    _audit(account, ChannelAuditEvent.Action.TESTED, actor, ("OK: " if result.ok else "Failed: ") + result.message)
    return result


def probe_error_text(exc: BaseException) -> str:
    """What went wrong, in words an admin can act on (the library's own text follows)."""
    import requests
    import tweepy

    seen = exc
    for _i in range(8):  # the root of a wrapped error says more (MailServerError, requests' ConnectionError)
        if isinstance(seen, (ConnectionRefusedError, socket.gaierror, TimeoutError, ssl.SSLError)):
            break
        inner = seen.__cause__ or seen.__context__ or getattr(seen, "reason", None)
        if not isinstance(inner, BaseException):
            seen = exc
            break
        seen = inner
    if isinstance(seen, ConnectionRefusedError):
        return _("Connection refused: nothing listens on that host and port (check the port and the security setting).") + f" ({exc})"
    if isinstance(seen, socket.gaierror):
        return _("Host not found: check the host name.") + f" ({seen})"
    if isinstance(seen, (TimeoutError, socket.timeout)):
        return _("No answer in time: check the host, the port and the firewall.") + f" ({exc})"
    if isinstance(seen, ssl.SSLCertVerificationError):
        return _("The server's TLS certificate is not trusted.") + f" ({seen.verify_message})"
    if isinstance(seen, ssl.SSLError):
        return _("TLS failed: check the security setting (ssl or starttls) for this port.") + f" ({seen})"
    if isinstance(exc, tweepy.Unauthorized):
        return _("X refused the credentials (401 Unauthorized): check the keys and tokens.")
    if isinstance(exc, tweepy.HTTPException):
        return _("X answered HTTP %(status)s.") % {"status": exc.response.status_code if exc.response is not None else "?"} + f" ({exc})"
    if isinstance(exc, requests.ConnectionError):
        return _("Could not connect.") + f" ({exc})"
    return str(exc) or exc.__class__.__name__


# --- dead letters ------------------------------------------------------------------------------


def dead_letter_discard(*, dead_letter: DeadLetter, actor) -> DeadLetter:
    """Give up on a payload: it stays stored (resolved), with who discarded it in the trail."""
    with transaction.atomic():
        locked = DeadLetter.objects.select_for_update().get(pk=dead_letter.pk)
        if locked.resolved:
            raise ApplicationError(_("This dead letter is already resolved"), status_code=409)
        locked.resolved = True
        locked.save(update_fields=["resolved"])
        if locked.channel_account_id:
            account = ChannelAccount.objects.only("id", "name").get(pk=locked.channel_account_id)
            _audit(account, ChannelAuditEvent.Action.DISCARDED, actor, f"#{locked.pk}: {locked.error[:300]}")
    return locked


def dead_letters_replay(*, dead_letters, actor):
    """Parse and ingest each again (after the fix); returns [(dead letter, counts)]."""
    results = []
    for dead_letter in dead_letters:
        counts = dead_letter_replay(dead_letter=dead_letter)
        results.append((dead_letter, counts))
        if dead_letter.channel_account_id:
            account = ChannelAccount.objects.only("id", "name").get(pk=dead_letter.channel_account_id)
            _audit(account, ChannelAuditEvent.Action.REPLAYED, actor, f"#{dead_letter.pk}: {counts.summary()}")
    return results


# --- alerts --------------------------------------------------------------------------------------


def channel_alert_preference_set(*, user, email: bool) -> ChannelAlertPreference:
    preference, _created = ChannelAlertPreference.objects.update_or_create(user=user, defaults={"email": email})
    return preference


def channel_account_alert(*, account_id: int, error: str) -> int:
    """An account started failing (services.channel_account_record_failure decided it, once per
    outage): a live notification to every active admin, and an email to those who asked."""
    account = ChannelAccount.objects.filter(pk=account_id).only("id", "name", "kind").first()
    if account is None:
        return 0
    admins = User.objects.filter(is_active=True).filter(role=Role.ADMIN) | User.objects.filter(is_active=True, is_superuser=True)
    admin_ids = list(admins.values_list("id", flat=True).distinct())
    text = _("%(account)s started failing: %(error)s") % {"account": str(account), "error": error}
    link = f"/console/channels/{account.pk}/health/"
    with transaction.atomic():
        notify_users(user_ids=admin_ids, kind=Notification.Kind.CHANNEL_FAILING, text=text, link=link)
    emails = list(
        User.objects.filter(pk__in=admin_ids, channel_alerts__email=True).exclude(email="").values_list("email", flat=True)
    )
    if emails:
        base = (django_settings.PUBLIC_BASE_URL or "").rstrip("/")
        send_mail(
            subject=_("[Centralita] %(account)s is failing") % {"account": str(account)},
            message=f"{text}\n\n{base}{link}\n",
            from_email=None, recipient_list=emails, fail_silently=False,
        )
    return len(admin_ids)


def webhook_host_ok(url: str) -> bool:
    """Providers refuse plain-http or local webhook URLs; the console warns (docs/admin-channels.md)."""
    parts = urlsplit(url)
    return parts.scheme == "https" and parts.hostname not in ("localhost", "127.0.0.1")
