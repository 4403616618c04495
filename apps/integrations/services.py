"""Writes for outgoing webhooks: endpoints (audited), deliveries, attempts, pausing and re-sending.

A delivery is one event for one endpoint. Its first attempt is a Celery task queued when the event
commits; a failed attempt is tried again at next_attempt_at (exponential backoff, kept in the
row, so a restart loses no retry) by the beat sweep, up to WEBHOOK_MAX_ATTEMPTS. An endpoint that
fails WEBHOOK_PAUSE_AFTER_FAILURES times in a row is paused: its waiting deliveries fail, new
events are not queued for it, and an admin resumes it once the receiver is fixed. Re-sending by
hand makes a new delivery of the same event (same event id) and tries it once, paused or not.
"""
import json
import secrets
import time
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.core.errors import ApplicationError

from . import signing
from .models import EventType, WebhookDelivery, WebhookEndpoint

# The delivery task is named, not imported: tasks.py is the thin shell over this module.
DELIVER_TASK = "apps.integrations.tasks.webhook_deliver"


def _deliver_on_commit(delivery_id: int) -> None:
    transaction.on_commit(current_app.signature(DELIVER_TASK, args=(delivery_id,)).delay)

EXCERPT_CHARS = 2000
USER_AGENT = "Centralita-Webhooks/1"


# --- endpoints (admins) ------------------------------------------------------------------------


def _check(*, name: str | None = None, url: str | None = None, event_types: list | None = None) -> None:
    if name is not None and not name.strip():
        raise ApplicationError(_("A webhook needs a name"), extra={"field": "name"})
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ApplicationError(_("The URL must start with https:// (or http://) and name a host"), extra={"field": "url"})
    if event_types is not None:
        unknown = sorted(set(event_types) - set(EventType.values))
        if unknown or not event_types:
            raise ApplicationError(_("Choose at least one event type from the list"),
                                   extra={"field": "event_types", "unknown": unknown, "allowed": EventType.values})


def _state(endpoint: WebhookEndpoint) -> dict:
    # Never the secret: only whether one is set.
    return {"name": endpoint.name, "url": endpoint.url, "event_types": sorted(endpoint.event_types), "enabled": endpoint.enabled}


@transaction.atomic
def webhook_endpoint_create(*, actor, name: str, url: str, event_types: list[str], ip: str | None = None) -> tuple[WebhookEndpoint, str]:
    """Returns (endpoint, signing secret): the secret is shown to the admin this once."""
    _check(name=name, url=url, event_types=event_types)
    secret = secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint.objects.create(
        name=name.strip()[:120], url=url, event_types=sorted(set(event_types)), secrets={"signing_secret": secret}, created_by=actor,
    )
    audit_record(actor=actor, action="webhook.created", target=endpoint, after=_state(endpoint), ip=ip)
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(*, actor, endpoint: WebhookEndpoint, ip: str | None = None, **changes) -> WebhookEndpoint:
    unknown = set(changes) - {"name", "url", "event_types", "enabled"}
    if unknown:
        raise ApplicationError(_("These fields cannot be changed"), extra={"fields": sorted(unknown)})
    _check(**{k: v for k, v in changes.items() if k != "enabled"})
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    before = _state(locked)
    for key, value in changes.items():
        setattr(locked, key, sorted(set(value)) if key == "event_types" else value.strip() if key == "name" else value)
    locked.save()
    after = _state(locked)
    changed = [k for k in after if before[k] != after[k]]
    if changed:
        audit_record(actor=actor, action="webhook.updated", target=locked, before={k: before[k] for k in changed},
                     after={k: after[k] for k in changed}, ip=ip)
    return locked


@transaction.atomic
def webhook_endpoint_rotate_secret(*, actor, endpoint: WebhookEndpoint, ip: str | None = None) -> str:
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = secrets.token_urlsafe(32)
    locked.secrets = {"signing_secret": secret}
    locked.save(update_fields=["secrets"])
    audit_record(actor=actor, action="webhook.secret_rotated", target=locked, ip=ip)
    return secret


@transaction.atomic
def webhook_endpoint_resume(*, actor, endpoint: WebhookEndpoint, ip: str | None = None) -> WebhookEndpoint:
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if locked.paused_at is None:
        raise ApplicationError(_("This webhook is not paused"), status_code=409)
    before = {"paused_at": locked.paused_at.isoformat(), "consecutive_failures": locked.consecutive_failures}
    locked.paused_at, locked.consecutive_failures = None, 0
    locked.save(update_fields=["paused_at", "consecutive_failures"])
    audit_record(actor=actor, action="webhook.resumed", target=locked, before=before,
                 after={"paused_at": None, "consecutive_failures": 0}, ip=ip)
    return locked


@transaction.atomic
def webhook_endpoint_delete(*, actor, endpoint: WebhookEndpoint, ip: str | None = None) -> None:
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    audit_record(actor=actor, action="webhook.deleted", target=locked, before=_state(locked), ip=ip)
    locked.delete()


# --- deliveries --------------------------------------------------------------------------------


def deliveries_create(*, events: list[tuple[str, dict]]) -> list[int]:
    """One delivery per (event, subscribed endpoint), in one INSERT; their first attempts queued.
    Called after the event's transaction committed (apps/integrations/hooks.py)."""
    subscribers = list(
        WebhookEndpoint.objects.filter(enabled=True, paused_at__isnull=True).order_by().values_list("id", "event_types")
    )
    if not subscribers:
        return []
    now = timezone.now()
    rows = []
    for event_type, data in events:
        event_id = str(uuid.uuid4())
        payload = {"id": event_id, "type": str(event_type), "created_at": now.isoformat(), "data": data}
        rows += [
            WebhookDelivery(endpoint_id=endpoint_id, event_type=event_type, event_id=event_id, payload=payload)
            for endpoint_id, types in subscribers if event_type in types
        ]
    if not rows:
        return []
    with transaction.atomic():
        created = WebhookDelivery.objects.bulk_create(rows)
        ids = [d.pk for d in created]
        for pk in ids:
            _deliver_on_commit(pk)
    return ids


def backoff(attempts: int) -> timedelta:
    """Wait before attempt n+1: base * 2^(n-1), capped (30 s, 1 min, 2 min ... 1 h by default)."""
    seconds = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.WEBHOOK_RETRY_MAX_SECONDS))


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """POST the delivery once, signed; record the answer; schedule a retry, fail it, or pause the
    endpoint. The row stays locked during the call (bounded by the timeout) so the retry sweep and
    a late first task never send it twice. Returns the delivery, or None when there was nothing to do."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",)).select_related("endpoint")
            .filter(pk=delivery_id, status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING]).first()
        )
        if delivery is None:
            return None
        endpoint = delivery.endpoint
        manual = delivery.resent_from_id is not None
        if not manual and (endpoint.paused_at or not endpoint.enabled):
            delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
            delivery.error = _("Not sent: the webhook is paused or disabled")
            delivery.save(update_fields=["status", "next_attempt_at", "error"])
            return delivery
        ok, status_code, excerpt, error = _post(endpoint, delivery)
        now = timezone.now()
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.response_status, delivery.response_excerpt, delivery.error = status_code, excerpt, error
        if ok:
            delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.SUCCEEDED, None
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0, last_success_at=now)
        elif manual:
            delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None  # one try, by hand
        else:
            _failed(delivery, endpoint, now)
        delivery.save()
    return delivery


def _failed(delivery: WebhookDelivery, endpoint: WebhookEndpoint, now: datetime) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=F("consecutive_failures") + 1, last_failure_at=now)
    failures = WebhookEndpoint.objects.values_list("consecutive_failures", flat=True).get(pk=endpoint.pk)
    if failures >= settings.WEBHOOK_PAUSE_AFTER_FAILURES:
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
        _pause(endpoint, failures=failures, now=now, except_id=delivery.pk)
    elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
    else:
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.RETRYING, now + backoff(delivery.attempts)


def _pause(endpoint: WebhookEndpoint, *, failures: int, now: datetime, except_id: int) -> None:
    """Stop sending to a receiver that keeps failing: once, not per failure."""
    paused = WebhookEndpoint.objects.filter(pk=endpoint.pk, paused_at__isnull=True).update(paused_at=now)
    if not paused:
        return
    WebhookDelivery.objects.filter(
        endpoint_id=endpoint.pk, status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING],
        resent_from__isnull=True,
    ).exclude(pk=except_id).update(
        status=WebhookDelivery.Status.FAILED, next_attempt_at=None, error=_("Not sent: the webhook was paused"),
    )
    audit_record(actor=None, action="webhook.paused", target=endpoint, before={"paused_at": None},
                 after={"paused_at": now.isoformat(), "consecutive_failures": failures})


def _post(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> tuple[bool, int | None, str, str]:
    """(success, HTTP status, the answer's first characters, error). Only a 2xx is a success;
    redirects are not followed (the subscribed URL is the one that must answer)."""
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.EVENT_HEADER: delivery.event_type,
        signing.DELIVERY_HEADER: str(delivery.pk),
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.SIGNATURE_HEADER: signing.signature(secret=endpoint.signing_secret, timestamp=timestamp, body=body),
    }
    try:
        with requests.post(endpoint.url, data=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
                           allow_redirects=False, stream=True) as response:
            excerpt = response.raw.read(EXCERPT_CHARS * 4, decode_content=True).decode("utf-8", "replace")[:EXCERPT_CHARS]
            ok = 200 <= response.status_code < 300
            return ok, response.status_code, excerpt, "" if ok else f"HTTP {response.status_code}"
    except requests.RequestException as exc:
        return False, None, "", f"{type(exc).__name__}: {exc}"[:1000]


def webhook_deliveries_retry_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Queue the deliveries whose next attempt is due (beat, every few seconds)."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.RETRYING, next_attempt_at__lte=now)
        .order_by("next_attempt_at").values_list("id", flat=True)[:limit]
    )
    for pk in due:
        current_app.signature(DELIVER_TASK, args=(pk,)).delay()
    return len(due)


@transaction.atomic
def webhook_delivery_resend(*, actor, delivery: WebhookDelivery, ip: str | None = None) -> WebhookDelivery:
    """A new delivery of the same event (same event id, so the receiver can dedupe), tried once now."""
    copy = WebhookDelivery.objects.create(
        endpoint_id=delivery.endpoint_id, event_type=delivery.event_type, event_id=delivery.event_id,
        payload=delivery.payload, resent_from=delivery,
    )
    audit_record(actor=actor, action="webhook.delivery_resent", target=delivery.endpoint,
                 after={"delivery": copy.pk, "resent_from": delivery.pk, "event_type": delivery.event_type}, ip=ip)
    _deliver_on_commit(copy.pk)
    return copy


def deliveries_redact(conversation_ids: list[int]) -> int:
    """Logged payloads about these conversations lose their content (the log rows stay)."""
    about = Q(payload__data__conversation__id__in=conversation_ids) | Q(payload__data__message__conversation_id__in=conversation_ids)
    return WebhookDelivery.objects.filter(about).update(payload={"redacted": True}, response_excerpt="")


PRUNE_BATCH = 5000


def webhook_deliveries_prune(*, now: datetime | None = None) -> int:
    """Finished deliveries (delivered or failed) older than WEBHOOK_LOG_DAYS leave the log, in
    batches: the log shows recent traffic, it is not an archive (daily, beat)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.WEBHOOK_LOG_DAYS)
    old = WebhookDelivery.objects.filter(
        status__in=[WebhookDelivery.Status.SUCCEEDED, WebhookDelivery.Status.FAILED], created_at__lt=cutoff
    )
    total = 0
    while True:
        ids = list(old.order_by("id").values_list("id", flat=True)[:PRUNE_BATCH])
        if not ids:
            return total
        # Re-sent copies point at their original: SET_NULL keeps them when the original goes first.
        total += WebhookDelivery.objects.filter(pk__in=ids).delete()[0]
