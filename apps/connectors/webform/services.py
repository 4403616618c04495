"""Web-form submissions: rate limits, staging for the one ingest path, the confirmation email; saving a definition."""
import json
import logging
import re
import uuid
from email.headerregistry import Address
from email.message import EmailMessage

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django_ratelimit import ALL
from django_ratelimit.core import _get_window, _make_cache_key, get_usage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.connectors.email.send import SMTP_POLICY, smtp_deliver  # the email channel's SMTP delivery and error mapping
from apps.connectors.services import payload_stage

from .models import WebForm
from .parse import person_name

logger = logging.getLogger(__name__)

DEFAULT_RATE_LIMIT = "5/10m"
# Confirmations per recipient address: the form must not become a way to mail-bomb someone.
CONFIRMATION_RATE_LIMIT = "3/1h"
CONFIRMATION_TASK = "apps.connectors.webform.tasks.webform_confirmation_send"  # named, not imported: tasks.py calls this module
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


# --- rate limits -----------------------------------------------------------------------------


def rate_parse(rate: str) -> tuple[int, int]:
    """"5/10m" -> (5, 600): at most 5 in a window of 10 minutes. Units s, m, h, d."""
    match = _RATE.match(rate or "")
    if not match:
        raise ImproperlyConfigured(f"rate {rate!r}: write it as COUNT/WINDOW, e.g. 5/10m, 100/1h, 20/d")
    count, amount, unit = int(match[1]), int(match[2] or 1), match[3]
    if count < 1 or amount < 1:
        raise ImproperlyConfigured(f"rate {rate!r}: count and window must be positive")
    return count, amount * _UNIT_SECONDS[unit]


# The counting is django-ratelimit's (fixed windows in the shared cache: Redis in production, an
# atomic INCR; each subject's window edge is offset by a hash of it). Its own key functions are not
# used: who is asking is apps/core/net.py's one rule (trusted proxies counted from the right, the
# sign-in lockout's too) and views.rate_limit_subject (an IPv6 /64 counts as one address).


def _group(scope: str) -> str:
    return f"webform:{scope}"


def rate_limit_hit(*, scope: str, subject: str, rate: str) -> int:
    """Count one hit; 0 when allowed, else the seconds until the window ends (for Retry-After)."""
    usage = get_usage(None, group=_group(scope), key=lambda group, request: subject, rate=rate_parse(rate), increment=True)
    if usage is None or not usage["should_limit"]:  # None: RATELIMIT_ENABLE is off
        return 0
    return max(1, usage["time_left"])


def rate_limit_reset(*, scope: str, subject: str, rate: str) -> None:
    """Forget the subject's count in the current window (tests, and an admin clearing a block).

    `rate` is the one the hits were counted with: it is part of django-ratelimit's key."""
    parsed = rate_parse(rate)
    # django-ratelimit has no reset: its key for this window (pinned version, requirements.txt).
    cache.delete(_make_cache_key(_group(scope), _get_window(subject, parsed[1]), parsed, subject, ALL))


def submission_rate_limit() -> str:
    return getattr(settings, "WEBFORM_RATE_LIMIT", "") or DEFAULT_RATE_LIMIT


# --- submissions -----------------------------------------------------------------------------


def webform_submit(*, webform: WebForm, values: list[dict], ip: str, user_agent: str) -> str:
    """Stage the submission for the ingest drain (as a webhook would) and schedule the confirmation.

    `values`: [{"name", "label", "type", "value"}] in form order, already validated.
    Returns the submission id (the message's external id).
    """
    submission_id = uuid.uuid4().hex
    payload = {
        "id": submission_id,
        "form": webform.slug,
        "title": webform.title,
        "fields": values,
        "submitted_at": timezone.now().isoformat(),
        # The page's language (the visitor's browser): the conversation's language from here on.
        "language": translation.get_language() or settings.LANGUAGE_CODE,
        "ip": ip,
        "user_agent": user_agent[:500],
    }
    raw = json.dumps(payload, ensure_ascii=False).encode()
    with transaction.atomic():
        payload_stage(account=webform.channel_account, kind="webform", raw=raw, source="webform")
        recipient = next((v["value"] for v in values if v["type"] == "email" and v["value"]), "")
        if webform.confirmation_email_account_id and recipient:
            if rate_limit_hit(scope="confirm", subject=recipient.lower(), rate=CONFIRMATION_RATE_LIMIT):
                logger.warning("web form %s: no confirmation to %s (too many in the last hour)", webform.slug, recipient)
            else:
                transaction.on_commit(current_app.signature(CONFIRMATION_TASK, args=(webform.id, payload)).delay)
    return submission_id


def webform_confirmation_send(*, webform_id: int, submission: dict) -> str | None:
    """Mail the submitter that the form arrived, with a copy of what they sent; returns the Message-ID.

    Sent from the form's email account, so a reply lands in the support mailbox and from there
    in the same customer's history (same email identity). Raises the email channel's
    TemporarySendError / PermanentSendError.
    """
    webform = WebForm.objects.select_related("confirmation_email_account").filter(pk=webform_id).first()
    account = webform.confirmation_email_account if webform else None
    recipient = next((f["value"] for f in submission["fields"] if f["type"] == "email" and f["value"]), "")
    if account is None or not account.enabled or not recipient:
        return None
    account_settings, secrets = account.settings or {}, account.secrets or {}
    address = (account_settings.get("address") or "").strip()
    if "@" not in address:
        logger.warning("web form %s: confirmation account %s has no address", webform.slug, account.pk)
        return None
    mail = _confirmation_mail(webform, submission, account_settings, address, recipient)
    smtp_deliver(mail, account, account_settings, secrets, address, recipient)
    return mail["Message-ID"].strip("<>")


def _confirmation_mail(webform, submission, account_settings, address, recipient) -> EmailMessage:
    # In the submitter's language (the page they saw), whatever the worker's own language is.
    with translation.override(submission.get("language") or settings.LANGUAGE_CODE):
        return _confirmation_mail_in_language(webform, submission, account_settings, address, recipient, SMTP_POLICY)


def _confirmation_mail_in_language(webform, submission, account_settings, address, recipient, policy) -> EmailMessage:
    mail = EmailMessage(policy=policy)
    # The same on every attempt: a retry after an unclear failure is one mail in the customer's client.
    mail["Message-ID"] = f"<webform-{submission['id']}@{address.rpartition('@')[2]}>"
    mail["Date"] = timezone.now()
    mail["From"] = Address(account_settings.get("display_name") or "", addr_spec=address)
    mail["To"] = Address(person_name(submission["fields"]), addr_spec=recipient)
    mail["Subject"] = _("We have received your message: %(title)s") % {"title": webform.title}
    # RFC 3834: machine-written; auto-responders must not answer it (no mail loops).
    mail["Auto-Submitted"] = "auto-generated"
    lines = [webform.success_message, "", _("What you sent:"), ""]
    lines += [f"{f['label']}: {f['value'] or '—'}" for f in submission["fields"]]
    mail.set_content("\n".join(lines) + "\n", cte="quoted-printable")
    return mail



# --- definitions (the admins' console) ---------------------------------------------------------

AUDITED_FIELDS = ("title", "slug", "enabled", "channel_account_id", "confirmation_email_account_id", "allowed_origins")


def webform_save(*, form, fields_formset, actor, ip: str | None = None) -> WebForm:
    """Save a web form and its fields (validated console forms) in one transaction, audited.

    The audit keeps the settings that change who receives what or where the form may appear, and
    the list of field names; texts shown to visitors are not copied into the log."""
    before = {}
    if form.instance.pk:
        old = WebForm.objects.get(pk=form.instance.pk)
        before = {name: getattr(old, name) for name in AUDITED_FIELDS} | {"fields": list(old.fields.values_list("name", flat=True))}
    with transaction.atomic():
        webform = form.save()
        fields_formset.instance = webform
        fields_formset.save()
        after = {name: getattr(webform, name) for name in AUDITED_FIELDS} | {"fields": list(webform.fields.values_list("name", flat=True))}
        changed = {k for k in after if before.get(k) != after[k]}
        if changed:
            audit_record(actor=actor, action="webform.created" if not before else "webform.updated", target=webform,
                         before={k: before[k] for k in changed if k in before}, after={k: after[k] for k in changed}, ip=ip)
    return webform
