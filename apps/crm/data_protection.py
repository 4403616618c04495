"""Data protection (GDPR) services: export everything held about a customer, erase a customer,
and the retention sweep. The conversations, messages and attachments are the inbox's: it answers
through the crm's hooks (apps/crm/hooks.py; apps/inbox/services/customers.py).

- Export: a ZIP with customer.json (profile, identities, merged records), conversations.json
  (every conversation with its messages from every channel), audit.json (the conversations'
  events, merges and audit entries about the customer) and attachments/ (the stored files).
- Erase: messages and attachments redacted, identities removed, the name blanked, merge records
  and suggestions cleaned; rows stay so reports count the same. The act is audited with counts
  only (no name, no address): "Customer #<id>".
- Retention: resolved conversations whose last activity is older than the setting (months) are
  redacted by a nightly beat task; 0 / empty keeps everything.
"""
import json
import zipfile
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.models import AuditEntry
from apps.audit.services import audit_record
from apps.core.errors import ApplicationError

from .hooks import customer_history_counts, customer_history_export, customers_history_redact, resolved_history_redact
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
    return {"identities": Identity.objects.filter(customer=customer).count(), **customer_history_counts(customer_id=customer.pk)}


# --- export ------------------------------------------------------------------------------------


def _json(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def customer_export(*, customer: Customer, out, actor, ip: str | None = None) -> dict:
    """Write the customer's ZIP to the binary file `out`; audited (counts only). A handful of queries
    whatever the history's length: messages stream from a server-side cursor with their attachments."""
    if customer.merged_into_id:
        raise ApplicationError(_("This record was merged: export the customer it was merged into"),
                               extra={"merged_into": customer.merged_into_id}, status_code=409)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        identities = list(Identity.objects.filter(customer=customer).order_by("kind", "value").values(
            "kind", "value", "handle", "display_name", "created_at"))
        archive.writestr("customer.json", _json({
            "id": customer.pk, "display_name": customer.display_name, "created_at": customer.created_at,
            "erased_at": customer.erased_at, "identities": identities,
            "merged_records": _merged_ids(customer)[1:], "exported_at": timezone.now(),
        }))
        conversations, events, counts = customer_history_export(customer_id=customer.pk, archive=archive)
        archive.writestr("conversations.json", _json(conversations))
        archive.writestr("audit.json", _json({
            "conversation_events": events,
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
        redacted = customers_history_redact(customer_ids=records)
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
    total = resolved_history_redact(before=cutoff, batch=REDACT_BATCH)
    if total:
        audit_record(actor=None, action="customer.retention_redacted", target_type="settings", target_id="data-protection",
                     target_label="Data protection", after={"conversations": total, "cutoff": cutoff.isoformat(),
                                                            "retention_months": months})
    return total

