"""Reads for the admins' console and REST API: accounts with their health, what waits in staging,
dead letters, errors and the audit trail. Counts come from SQL (subqueries), never rows loaded
into Python; no value of a secret ever leaves here, only which keys are set, when and by whom.
"""
from django.conf import settings as django_settings
from django.db.models import Count
from django.urls import reverse
from django.utils.dateparse import parse_datetime


from .health import account_health
from .models import ChannelAccount, ChannelAccountError, ChannelAuditEvent, ChannelKind, DeadLetter, InboundPayload
from .registry import CHANNELS, channel_for

DEAD_LETTERS_SHOWN = 50
ERRORS_SHOWN = 10
AUDIT_SHOWN = 30


def _counts_by_account(queryset, account_ids) -> dict[int, int]:
    rows = queryset.filter(channel_account_id__in=account_ids).order_by().values("channel_account_id").annotate(n=Count("id"))
    return {row["channel_account_id"]: row["n"] for row in rows}


def accounts_with_counts(queryset=None) -> list[ChannelAccount]:
    """Accounts with `staged` (payloads waiting for the worker) and `dead_letters` (unresolved)
    counted by two GROUP BY queries. Correlated count subqueries were measured at 10 s for 300
    accounts over 100k dead letters (one scan per account; bench/channels_console.py)."""
    accounts = list((queryset if queryset is not None else ChannelAccount.objects.all())
                    .select_related("team").prefetch_related("webforms").order_by("kind", "name", "id"))
    ids = [a.id for a in accounts]
    staged = _counts_by_account(InboundPayload.objects.all(), ids)
    dead = _counts_by_account(DeadLetter.objects.filter(resolved=False), ids)
    for account in accounts:
        account.staged, account.dead_letters = staged.get(account.id, 0), dead.get(account.id, 0)
        account.health_now = account_health(account)  # once: the page reads its state and its words
    return accounts


def account_with_counts(account_id: int) -> ChannelAccount | None:
    found = accounts_with_counts(ChannelAccount.objects.filter(pk=account_id))
    return found[0] if found else None


def secrets_status(account: ChannelAccount) -> list[dict]:
    """Each declared secret: set or not, when and by whom. Values never."""
    channel = channel_for(account.kind)
    meta, stored = account.secrets_meta or {}, account.secrets or {}
    rows = []
    for field in channel.secrets if channel else ():
        stamp = meta.get(field.name) or {}
        rows.append({
            "name": field.name, "label": field.label, "help": field.help, "required": field.required,
            "is_set": bool(stored.get(field.name)),
            "set_at": parse_datetime(stamp["at"]) if stamp.get("at") else None, "set_by": stamp.get("by") or "",
        })
    if channel and channel.generated_secret == "inbound_token":
        rows.append({"name": "inbound_token", "label": "Inbound token", "help": "Only its hash is stored.",
                     "required": True, "is_set": bool(account.inbound_token_hash), "set_at": None, "set_by": ""})
    return rows


def webhook_urls(account: ChannelAccount, *, base: str = "") -> list[dict]:
    """The URLs to give the provider, absolute (PUBLIC_BASE_URL, else the request's own host)."""
    base = (django_settings.PUBLIC_BASE_URL or base or "").rstrip("/")
    channel = channel_for(account.kind)
    urls = [{"label": label, "url": base + reverse(name, args=[account.pk])} for label, name in (channel.webhook_urls if channel else ())]
    if account.kind == "webform":
        for form in sorted(account.webforms.all(), key=lambda f: f.slug):  # prefetched by the lists
            urls.append({"label": f"Public page: {form.title}", "url": base + reverse("webform:form", args=[form.slug])})
    return urls


def account_health_detail(account: ChannelAccount) -> dict:
    health = account_health(account)
    oldest = InboundPayload.objects.filter(channel_account=account).order_by("received_at").values_list("received_at", flat=True).first()
    return {
        "state": health.state,
        "line": health.line,
        "detail": health.detail,
        "missing": list(health.missing),
        "last_success_at": account.last_success_at,
        "last_poll_at": account.last_poll_at,
        "last_error": account.last_error,
        "last_error_at": account.last_error_at,
        "failing_since": account.failing_since,
        "consecutive_failures": account.consecutive_failures,
        "paused_until": account.paused_until,
        "staged": InboundPayload.objects.filter(channel_account=account).count(),
        "oldest_staged_at": oldest,
        "errors": list(
            ChannelAccountError.objects.filter(channel_account=account)
            .values("kind", "error", "paused_until", "created_at")[:ERRORS_SHOWN]
        ),
        "dead_letters_unresolved": DeadLetter.objects.filter(channel_account=account, resolved=False).count(),
    }


def dead_letters_for(account: ChannelAccount, *, resolved: bool = False):
    return (
        DeadLetter.objects.filter(channel_account=account, resolved=resolved)
        .only("id", "kind", "source", "error", "created_at", "replayed_at", "resolved", "channel_account_id")
        .order_by("-created_at", "-id")
    )


def audit_for(account_id: int):
    return ChannelAuditEvent.objects.filter(account_id=account_id).select_related("actor").order_by("-created_at", "-id")


_kinds: dict[int, str] = {}


def account_kinds(ids: set[int]) -> dict[int, str]:
    """Channel kind per account (an account never changes kind): read once per process. The SLA
    clocks ask through the inbox's contract (apps/inbox/channels.py)."""
    missing = ids - _kinds.keys()
    if missing:
        _kinds.update(ChannelAccount.objects.filter(pk__in=missing).values_list("id", "kind"))
    return _kinds


def channel_kinds() -> list[dict]:
    """What the console's forms are generated from: each kind's declared Fields."""
    def fields(items):
        return [{"name": f.name, "label": f.label, "help": f.help, "required": f.required, "type": f.type,
                 "choices": list(f.choices), "min": f.min, "max": f.max} for f in items]

    return [
        {"kind": c.kind, "label": _kind_label(c.kind), "settings": fields(c.settings), "secrets": fields(c.secrets),
         "polled": bool(c.poll_interval), "default_poll_interval": c.poll_interval or None,
         "can_test": c.probe is not None, "generated_secret": c.generated_secret or None,
         "webhooks": [label for label, _name in c.webhook_urls]}
        for c in CHANNELS.values()
    ]


def _kind_label(kind: str) -> str:
    return dict(ChannelKind.choices).get(kind, kind)
