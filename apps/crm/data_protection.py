"""Data protection (GDPR) services: export everything held about a customer, erase a customer,
and the retention sweep. Writes to inbox rows go through the inbox's own redaction service.

- Export: a ZIP with customer.json (profile, identities, merged records), conversations.json
  (every conversation with its messages from every channel), audit.json (the conversations'
  events, merges and audit entries about the customer) and attachments/ (the stored files).
- Erase: messages and attachments redacted, identities removed, the name blanked, merge records
  and suggestions cleaned; rows stay so reports count the same. The act is audited with counts
  only (no name, no address): "Customer #<id>".
- Retention: resolved conversations whose last activity is older than the setting (months) are
  redacted by a nightly beat task; 0 / empty keeps everything.
"""
import io
import json
import os
import zipfile
from datetime import datetime

from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.models import AuditEntry
from apps.audit.services import audit_record
from apps.core.errors import ApplicationError
from apps.inbox.models import Attachment, Conversation, ConversationEvent, Message
from apps.inbox.services.redaction import conversations_redact

from .models import Customer, CustomerMerge, DataProtectionSettings, Identity, MergeSuggestion

REDACT_BATCH = 500


def _label(customer: Customer) -> str:
    # Never the name: the audit log outlives an erasure.
    return f"Customer #{customer.pk}"


def _merged_ids(customer: Customer) -> list[int]:
    """The customer and the tombstones merged into it (their history now belongs to it)."""
    return [customer.pk, *Customer.objects.filter(merged_into=customer).values_list("pk", flat=True)]


def customer_summary(*, customer: Customer) -> dict:
    """What an export holds and an erasure redacts (a few COUNTs)."""
    return {
        "identities": Identity.objects.filter(customer=customer).count(),
        "conversations": Conversation.objects.filter(customer=customer).count(),
        "messages": Message.objects.filter(customer=customer).count(),
        "attachments": Attachment.objects.filter(message__customer=customer).count(),
    }


# --- export ------------------------------------------------------------------------------------


def _json(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def _safe_name(name: str) -> str:
    base = os.path.basename(name or "file").replace("\\", "_")
    return "".join(ch if ch.isprintable() and ch not in '<>:"|?*' else "_" for ch in base)[:150] or "file"


def customer_export(*, customer: Customer, out, actor, ip: str | None = None) -> dict:
    """Write the customer's ZIP to the binary file `out`; audited (counts only). A handful of queries
    whatever the history's length: messages stream from a server-side cursor with their attachments."""
    if customer.merged_into_id:
        raise ApplicationError(_("This record was merged: export the customer it was merged into"),
                               extra={"merged_into": customer.merged_into_id}, status_code=409)
    conversations = list(
        Conversation.objects.filter(customer=customer).select_related("channel_account").order_by("created_at", "id")
    )
    by_id = {c.pk: {
        "id": c.pk, "channel": {"id": c.channel_account_id, "kind": c.channel_account.kind, "name": c.channel_account.name},
        "status": c.status, "priority": c.priority, "subject": c.subject, "created_at": c.created_at,
        "last_activity_at": c.last_activity_at, "redacted_at": c.redacted_at, "messages": [],
    } for c in conversations}
    counts = {"conversations": len(conversations), "messages": 0, "attachments": 0}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        identities = list(Identity.objects.filter(customer=customer).order_by("kind", "value").values(
            "kind", "value", "handle", "display_name", "created_at"))
        archive.writestr("customer.json", _json({
            "id": customer.pk, "display_name": customer.display_name, "created_at": customer.created_at,
            "erased_at": customer.erased_at, "identities": identities,
            "merged_records": _merged_ids(customer)[1:], "exported_at": timezone.now(),
        }))
        attachments_of: dict[int, list[Attachment]] = {}
        for a in Attachment.objects.filter(message__customer=customer).order_by("id"):
            attachments_of.setdefault(a.message_id, []).append(a)
        messages = Message.objects.filter(customer=customer).order_by("sent_at", "id").values(
            "id", "conversation_id", "direction", "kind", "author__username", "subject", "text", "html", "is_public",
            "sent_at", "delivery_status", "metadata",
        )
        for m in messages.iterator(chunk_size=500):
            files = []
            for a in attachments_of.get(m["id"], []):
                entry = {"filename": a.filename, "content_type": a.content_type, "size": a.size}
                if a.file:
                    path = f"attachments/{m['id']}/{a.pk}-{_safe_name(a.filename)}"
                    try:
                        with default_storage.open(a.file.name, "rb") as f:
                            archive.writestr(path, f.read())
                        entry["file"] = path
                        counts["attachments"] += 1
                    except OSError:  # the row outlived its file: say so rather than fail the export
                        entry["missing"] = True
                else:
                    entry["url"] = a.url
                files.append(entry)
            m["author"] = m.pop("author__username")
            m["attachments"] = files
            by_id[m.pop("conversation_id")]["messages"].append(m)
            counts["messages"] += 1
        archive.writestr("conversations.json", _json(list(by_id.values())))
        archive.writestr("audit.json", _json({
            "conversation_events": list(ConversationEvent.objects.filter(conversation_id__in=list(by_id)).order_by("created_at", "id")
                                        .values("conversation_id", "kind", "actor__username", "data", "created_at")),
            "merges": list(CustomerMerge.objects.filter(Q(target=customer) | Q(source=customer))
                           .values("source_id", "target_id", "source_display_name", "merged_by__username", "merged_at", "moved")),
            "audit_log": list(AuditEntry.objects.filter(target_type="customer", target_id__in=[str(i) for i in _merged_ids(customer)])
                              .order_by("created_at", "id").values("action", "actor_label", "before", "after", "created_at")),
        }))
    audit_record(actor=actor, action="customer.exported", target_type="customer", target_id=customer.pk,
                 target_label=_label(customer), after=counts, ip=ip)
    return counts


# --- erasure -------------------------------------------------------------------------------------


def customer_erase(*, customer: Customer, actor, confirm: str | int | None, ip: str | None = None) -> dict:
    """Forget a customer. `confirm` must be the customer's id: a second, deliberate step (the first
    call without it answers with what would be erased). Erasing an erased customer again redacts
    what reached their record since (a message in flight at the first erasure, a reply to an old thread)."""
    if customer.merged_into_id:
        raise ApplicationError(_("This record was merged: erase the customer it was merged into"),
                               extra={"merged_into": customer.merged_into_id}, status_code=409)
    if str(confirm or "").strip() != str(customer.pk):
        raise ApplicationError(
            _("Confirm the erasure by sending the customer's id as `confirm`: this cannot be undone"),
            extra={"confirm_with": customer.pk, "will_erase": customer_summary(customer=customer)},
        )
    with transaction.atomic():
        # An erased customer may be erased again: whatever arrived since is redacted too.
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        records = _merged_ids(locked)
        conversation_ids = list(Conversation.objects.filter(customer_id__in=records).values_list("pk", flat=True))
        redacted = conversations_redact(conversation_ids=conversation_ids)
        identities = Identity.objects.filter(customer_id__in=records).delete()[0]
        MergeSuggestion.objects.filter(Q(customer_id__in=records) | Q(other_id__in=records)).delete()
        CustomerMerge.objects.filter(Q(target_id__in=records) | Q(source_id__in=records)).update(source_display_name="")
        now = timezone.now()
        Customer.objects.filter(pk__in=records).update(display_name="", erased_at=now)
        counts = {**redacted, "identities": identities, "merged_records": len(records) - 1}
        audit_record(actor=actor, action="customer.erased", target_type="customer", target_id=locked.pk,
                     target_label=_label(locked), after=counts, ip=ip)
    return counts


# --- retention ---------------------------------------------------------------------------------


def retention_set(*, actor, months: int | None, ip: str | None = None) -> DataProtectionSettings:
    if months is not None and not (0 <= months <= 600):
        raise ApplicationError(_("Retention is a number of months between 1 and 600, or empty to keep everything"),
                               extra={"field": "retention_months"})
    months = months or None
    with transaction.atomic():
        current = DataProtectionSettings.objects.select_for_update().get_or_create(pk=1)[0]
        before = current.retention_months
        if before != months:
            current.retention_months = months
            current.save()
            audit_record(actor=actor, action="settings.retention_changed", target_type="settings", target_id="data-protection",
                         target_label="Data protection", before={"retention_months": before},
                         after={"retention_months": months}, ip=ip)
    return current


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day when shorter)."""
    import calendar

    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def conversations_redact_expired(*, now: datetime | None = None) -> int:
    """Redact resolved conversations with no activity since the retention cutoff, in batches (each
    its own transaction). Also catches one redacted before, reopened, and resolved again since."""
    months = DataProtectionSettings.current().retention_months
    if not months:
        return 0
    cutoff = months_before(now or timezone.now(), months)
    due = Conversation.objects.filter(status=Conversation.Status.RESOLVED, last_activity_at__lt=cutoff).filter(
        Q(redacted_at__isnull=True) | Q(redacted_at__lt=F("last_activity_at"))
    )
    total = 0
    while True:
        ids = list(due.order_by("id").values_list("id", flat=True)[:REDACT_BATCH])
        if not ids:
            break
        total += conversations_redact(conversation_ids=ids)["conversations"]
    if total:
        audit_record(actor=None, action="customer.retention_redacted", target_type="settings", target_id="data-protection",
                     target_label="Data protection", after={"conversations": total, "cutoff": cutoff.isoformat(),
                                                            "retention_months": months})
    return total

