"""The one rule for a channel account's health, read by the console, the REST API and the Django admin.

In order: Disabled; Not configured (a required setting or secret is missing: it cannot work, so
it never reads OK); Paused (the provider's rate limit); Failing (the last poll, webhook or send
failed after the last success); OK (with the last success), or Waiting when nothing has
succeeded or failed yet.
"""
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from .registry import channel_for

DISABLED, NOT_CONFIGURED, PAUSED, FAILING, OK, WAITING = "disabled", "not_configured", "paused", "failing", "ok", "waiting"


@dataclass(frozen=True)
class Health:
    state: str
    line: str
    missing: tuple[str, ...] = ()

    detail: str = ""  # the line without its state word, for pages that show the state as a pill


def missing_requirements(account) -> list[str]:
    """What the account still needs before it can work, in words."""
    channel = channel_for(account.kind)
    if channel is None:
        return []
    settings, secrets = account.settings or {}, account.secrets or {}
    if channel.missing is not None:
        missing = list(channel.missing(settings, secrets))
    else:
        missing = [str(f.label) for f in channel.settings if f.required and settings.get(f.name) in (None, "")]
        missing += [str(f.label) for f in channel.secrets if f.required and not secrets.get(f.name)]
    if channel.generated_secret == "inbound_token" and not account.inbound_token_hash:
        missing.append(_("an inbound token (rotate one)"))
    return missing


def account_health(account) -> Health:
    if not account.enabled:
        return Health(DISABLED, _("Disabled"), detail="")
    missing = missing_requirements(account)
    if missing:
        what = _("missing %(what)s") % {"what": ", ".join(missing)}
        return Health(NOT_CONFIGURED, _("Not configured") + f": {what}", tuple(missing), what)
    now = timezone.now()
    if account.paused_until and account.paused_until > now:
        reason = f": {account.last_error[:160]}" if account.last_error else ""
        until = f"{timezone.localtime(account.paused_until):%Y-%m-%d %H:%M}"
        line = _("Paused until %(until)s (provider rate limit)") % {"until": until} + reason
        return Health(PAUSED, line, detail=line)
    if not account.is_healthy:
        failures = account.consecutive_failures
        times = _(" (%(n)s failures in a row)") % {"n": failures} if failures > 1 else ""
        return Health(FAILING, _("Failing") + f"{times}: {account.last_error[:200]}", detail=f"{account.last_error[:200]}{times}")
    if account.last_success_at:
        when = f"{timezone.localtime(account.last_success_at):%Y-%m-%d %H:%M}"
        return Health(OK, _("OK, last success %(when)s") % {"when": when}, detail=_("last success %(when)s") % {"when": when})
    return Health(WAITING, _("Waiting: configured, nothing received or sent yet"), detail=_("configured, nothing received or sent yet"))
